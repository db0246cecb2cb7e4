"""What the assistant knows: the catalogue, reviews and the store's policy FAQ, with retrieval.

Retrieval is TF-IDF over product names and categories, over a product's
reviews, and over the FAQ's questions (scikit-learn). Reviews come from the
store's data and, through ``extra_reviews``, from reviews submitted since —
exactly the text an attacker can plant instructions in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from shopguard.assistant.engines import Document

__all__ = ["POLICY_FAQ", "Knowledge"]

POLICY_FAQ: tuple[tuple[str, str], ...] = (
    ("What is your return policy? Can I return an item? How long do I have to return?",
     "You can return most items within 30 days of delivery for a full refund, unused and in their original packaging. Start a return here in the chat with your order number."),
    ("How long does shipping take? Delivery time? When will it arrive?",
     "Standard delivery takes 2-4 working days in the EU and UK and 4-7 working days to the US; express delivery arrives the next working day."),
    ("Do you ship internationally? Which countries do you ship to?",
     "We ship to the EU, the UK, Switzerland, Norway, the US and Canada."),
    ("Which payment methods do you accept? Can I pay with PayPal or credit card?",
     "We accept credit and debit cards, PayPal, Apple Pay, Google Pay and bank transfer for orders over 500 EUR."),
    ("Is there a warranty or guarantee on products?",
     "Every product carries the statutory two-year warranty; electronics from our own brand have three years."),
    ("How are refunds paid? When do I get my money back?",
     "Refunds go back to the original payment method within 5 working days after we receive the return. Refunds above 100 EUR are checked by a colleague first."),
    ("Do you price match? Discounts, vouchers and promo codes?",
     "We don't price match, but newsletter subscribers get 10% off their first order. One promo code per order."),
    ("How do you protect my personal data? Privacy policy?",
     "We only use your data to run your orders and, with your consent, to personalise recommendations. You can ask for a copy or deletion of your data at any time."),
    ("Can I change or cancel my order? Change delivery address?",
     "Orders can be changed or cancelled until they are shipped; after that, please start a return once it arrives."),
)  # fmt: skip


@dataclass
class _Index:
    vec: TfidfVectorizer
    matrix: Any


def _index(texts: list[str]) -> _Index:
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    return _Index(vec, vec.fit_transform(texts))


class Knowledge:
    """The catalogue, reviews and FAQ of one store, ready to retrieve from."""

    def __init__(
        self,
        products: pd.DataFrame,
        reviews: pd.DataFrame,
        *,
        extra_reviews: Callable[[str], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.products = products.reset_index(drop=True)
        names = self.products.get("name", self.products["product_id"]).fillna("").astype(str)
        cats = self.products["category"].fillna("").astype(str)
        self._product_text = (names + " " + cats.str.replace("_", " ")).tolist()
        self._products = _index(self._product_text)
        self._faq = _index([q for q, _ in POLICY_FAQ])
        self._reviews = (
            {str(k): v for k, v in reviews.groupby("product_id")} if len(reviews) else {}
        )
        self.extra_reviews = extra_reviews
        self.product_names = names.tolist()

    def retrieve(self, query: str, *, k_products: int = 3, k_reviews: int = 2) -> list[Document]:
        docs: list[Document] = []
        q = self._faq.vec.transform([query])
        faq_sim = (self._faq.matrix @ q.T).toarray().ravel()
        if faq_sim.max(initial=0.0) > 0.25:
            i = int(np.argmax(faq_sim))
            docs.append(Document("policy", f"faq:{i}", POLICY_FAQ[i][0], POLICY_FAQ[i][1]))
        sim = (self._products.matrix @ self._products.vec.transform([query]).T).toarray().ravel()
        order = [int(i) for i in np.argsort(-sim)[:k_products] if sim[i] > 0.1]
        for rank, i in enumerate(order):
            row = self.products.iloc[i]
            pid = str(row["product_id"])
            name = self.product_names[i]
            docs.append(
                Document(
                    "product",
                    pid,
                    name,
                    f"{name} ({str(row['category']).replace('_', ' ')}) costs {float(row['price']):.2f} EUR.",
                )
            )
            if rank == 0:
                docs.extend(self._product_reviews(pid, query, k_reviews))
        return docs

    def _product_reviews(self, product_id: str, query: str, k: int) -> list[Document]:
        rows: list[dict[str, Any]] = []
        frame = self._reviews.get(product_id)
        if frame is not None:
            rows.extend({str(k): v for k, v in r.items()} for r in frame.to_dict("records"))
        if self.extra_reviews is not None:
            rows.extend(self.extra_reviews(product_id))
        rows = [r for r in rows if isinstance(r.get("text"), str) and r["text"].strip()]
        if not rows:
            return []
        texts = [f"{r.get('title') or ''} {r['text']}" for r in rows]
        idx = _index([*texts, query])
        sim = (idx.matrix[:-1] @ idx.matrix[-1].T).toarray().ravel()
        best = np.argsort(-sim)[:k]
        return [
            Document(
                "review",
                str(rows[i].get("review_id", "")),
                str(rows[i].get("title") or ""),
                str(rows[i]["text"]),
            )
            for i in best
        ]
