"""The store's AI features as one service: what the gateway serves.

Loads the store's tables from ``<home>/store`` and its reference models from
``<home>/models/{fraud,recommender,reviews}``; reviews submitted through the
API are stored in the ``store_submitted_reviews`` table.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.db import metadata
from shopguard.core.errors import ModelError, NotFoundError
from shopguard.store.fraud import EXTRA_NUMERIC_COLUMNS, LABEL_COLUMN, REQUIRED_COLUMNS, FraudModel
from shopguard.store.generate import StoreData
from shopguard.store.recommender import Recommender
from shopguard.store.reviews import ReviewRanker
from shopguard.store.schema import load_store

__all__ = [
    "DEFAULT_TENANT",
    "STORE_DIR",
    "TENANTS_DIR",
    "StoreService",
    "TenantStores",
    "erase_submitted_reviews",
    "publish_review",
    "submitted_reviews",
    "submitted_reviews_of",
]

STORE_DIR = "store"
TENANTS_DIR = "tenants"
DEFAULT_TENANT = "default"
_HISTORY_DAYS = 35

submitted_reviews = sa.Table(
    "store_submitted_reviews",
    metadata,
    sa.Column("review_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("product_id", sa.String(64), nullable=False),
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("verified_purchase", sa.Integer, nullable=False),
)


@dataclass
class StoreService:
    """The store's data and models, ready to answer requests."""

    store: StoreData
    fraud: FraudModel
    recommender: Recommender
    ranker: ReviewRanker
    engine: Engine
    tenant: str = DEFAULT_TENANT

    def __post_init__(self) -> None:
        tx = self.store.transactions
        # What scoring reads of the history: the model's columns only (a request's history
        # is a handful of rows taken from here; the rest of the table would be copied too).
        keep = [c for c in (*REQUIRED_COLUMNS, LABEL_COLUMN, *EXTRA_NUMERIC_COLUMNS) if c in tx]
        self._tx = tx[keep]
        self._tx_times = pd.to_datetime(tx["TX_DATETIME"]).to_numpy(dtype="datetime64[ns]")
        self._by_customer = {k: v for k, v in tx.groupby("CUSTOMER_ID").indices.items()}
        self._by_terminal = {k: v for k, v in tx.groupby("TERMINAL_ID").indices.items()}
        self._customers = set(self.store.customers["customer_id"].astype(str))
        if "jurisdiction" in self.store.customers.columns:
            self._jurisdiction = dict(
                zip(
                    self.store.customers["customer_id"].astype(str),
                    self.store.customers["jurisdiction"],
                    strict=True,
                )
            )
        else:
            self._jurisdiction = {}
        self._products = set(self.store.products["product_id"].astype(str))
        self._reviews_by_product = {
            k: v for k, v in self.store.reviews.groupby("product_id").indices.items()
        }
        self._purchases = self.store.orders.groupby("customer_id")["product_id"].agg(set).to_dict()
        self._lock = threading.Lock()

    @classmethod
    def open(cls, home: Path, engine: Engine, *, tenant: str = DEFAULT_TENANT) -> StoreService:
        """Load the store under ``home``; a missing part is a :class:`ModelError` naming it."""
        store_dir = home / STORE_DIR
        if not store_dir.is_dir():
            raise ModelError(f"no store data at {store_dir}")
        if not store_dir.is_dir():
            raise ModelError(
                f"no store data at {store_dir}; run 'shopguard demo' or 'shopguard data generate'"
            )
        models = home / "models"
        for name in ("fraud", "recommender", "reviews"):
            if not (models / name).is_dir():
                raise ModelError(
                    f"model {name} not found under {models}; run 'shopguard train {name}'"
                )
        return cls(
            store=load_store(store_dir),
            fraud=FraudModel.load(models / "fraud"),
            recommender=Recommender.load(models / "recommender"),
            ranker=ReviewRanker.load(models / "reviews"),
            engine=engine,
            tenant=tenant,
        )

    # -- lookups --------------------------------------------------------------------
    def has_customer(self, customer_id: str) -> bool:
        return customer_id in self._customers

    def has_product(self, product_id: str) -> bool:
        return product_id in self._products

    def is_verified_purchase(self, customer_id: str, product_id: str) -> bool:
        """Whether the customer bought the product (a review's verified-purchase badge)."""
        return product_id in self._purchases.get(customer_id, ())

    def jurisdiction(self, customer_id: str) -> str | None:
        """The customer's jurisdiction (drives consent defaults); None when unknown."""
        value = self._jurisdiction.get(customer_id)
        return str(value) if isinstance(value, str) and value else None

    # -- fraud ----------------------------------------------------------------------
    def score_transaction(self, tx: dict[str, Any]) -> float:
        """Fraud probability of one transaction, with the customer's and terminal's history."""
        row, hist = self.fraud_inputs(tx)
        return float(self.fraud.score(row, history=hist)[0])

    def fraud_inputs(self, tx: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """The row and the history ``FraudModel.score`` gets for one transaction."""
        row = pd.DataFrame([tx])
        at = pd.Timestamp(tx["TX_DATETIME"]).to_datetime64().astype("datetime64[ns]")
        idx = np.unique(
            np.concatenate(
                [
                    self._by_customer.get(str(tx["CUSTOMER_ID"]), np.empty(0, dtype=np.int64)),
                    self._by_terminal.get(str(tx["TERMINAL_ID"]), np.empty(0, dtype=np.int64)),
                ]
            )
        )
        times = self._tx_times[idx]
        idx = idx[(times < at) & (times >= at - np.timedelta64(_HISTORY_DAYS, "D"))]
        hist = self._tx.iloc[idx]
        for col in self.fraud.extra_columns_:
            if col not in row.columns:
                row[col] = 0
        return row, hist if len(hist) else None

    # -- recommendations --------------------------------------------------------------
    def recommend(self, customer_id: str, k: int = 10, *, personalised: bool = True) -> list[str]:
        """Top-k products; ``personalised=False`` gives the same list to everyone (no profiling)."""
        if not self.has_customer(customer_id):
            raise NotFoundError("unknown customer")
        if not personalised:
            return [str(i) for i in self.recommender.popular(k)]
        return [str(i) for i in self.recommender.recommend(customer_id, k=k)]

    # -- reviews ----------------------------------------------------------------------
    def product_reviews(self, product_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """Reviews of a product, most helpful first (stored and submitted)."""
        if not self.has_product(product_id):
            raise NotFoundError("unknown product")
        idx = self._reviews_by_product.get(product_id)
        frames = []
        if idx is not None:
            frames.append(self.store.reviews.iloc[idx])
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(submitted_reviews).where(
                        submitted_reviews.c.product_id == product_id,
                        submitted_reviews.c.tenant == self.tenant,
                    )
                )
                .mappings()
                .all()
            )
        if rows:
            sub = pd.DataFrame([dict(r) for r in rows]).drop(columns=["tenant"])
            sub["created_at"] = pd.to_datetime(sub["created_at"], utc=True).dt.tz_localize(None)
            sub["helpful_votes"] = 0
            frames.append(sub)
        if not frames:
            return []
        df = pd.concat(frames, ignore_index=True)
        df["score"] = self.ranker.score(df)
        df = df.sort_values("score", ascending=False).head(limit)
        df["title"] = df["title"].fillna("").astype(str)
        df["text"] = df["text"].fillna("").astype(str)
        return [
            {
                "review_id": str(r["review_id"]),
                "rating": int(r["rating"]),
                "title": r["title"],
                "text": r["text"],
                "verified_purchase": bool(r["verified_purchase"]),
                "helpfulness": round(float(r["score"]), 4),
            }
            for r in df.to_dict("records")
        ]

    def add_review(
        self,
        *,
        product_id: str,
        customer_id: str,
        rating: int,
        title: str,
        text: str,
    ) -> dict[str, Any]:
        if not self.has_product(product_id):
            raise NotFoundError("unknown product")
        if not self.has_customer(customer_id):
            raise NotFoundError("unknown customer")
        review = {
            "review_id": f"R-{uuid.uuid4().hex[:16]}",
            "tenant": self.tenant,
            "product_id": product_id,
            "customer_id": customer_id,
            "rating": rating,
            "title": title,
            "text": text,
            "created_at": datetime.now(UTC).isoformat(),
            "verified_purchase": int(product_id in self._purchases.get(customer_id, ())),
        }
        with self.engine.begin() as conn:
            conn.execute(submitted_reviews.insert().values(**review))
        return {k: v for k, v in review.items() if k != "tenant"}


def publish_review(engine: Engine, review: dict[str, Any]) -> None:
    """Store a submitted review so shoppers see it (``review_id``, ``tenant``, ``product_id``,
    ``customer_id``, ``rating``, ``title``, ``text``, ``created_at``, ``verified_purchase``);
    the integrity pipeline calls this for accepted and released reviews."""
    row = {c.name: review[c.name] for c in submitted_reviews.columns}
    with engine.begin() as conn:
        conn.execute(submitted_reviews.insert().values(**row))


def submitted_reviews_of(engine: Engine, *, tenant: str, customer_id: str) -> list[dict[str, Any]]:
    """Every review a customer submitted through the API (for data-subject requests)."""
    c = submitted_reviews.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(submitted_reviews)
            .where(c.tenant == tenant, c.customer_id == customer_id)
            .order_by(c.created_at)
        ).mappings()
        return [{k: v for k, v in dict(r).items() if k != "tenant"} for r in rows]


def erase_submitted_reviews(engine: Engine, *, tenant: str, customer_id: str) -> int:
    """Delete every review a customer submitted through the API (erasure); returns how many."""
    c = submitted_reviews.c
    with engine.begin() as conn:
        return int(
            conn.execute(
                submitted_reviews.delete().where(c.tenant == tenant, c.customer_id == customer_id)
            ).rowcount
        )


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns)


class TenantStores:
    """Each tenant's store, opened on first use and kept.

    The ``default`` tenant lives at ``<home>/store`` and ``<home>/models`` (where
    ``shopguard demo`` puts it); tenant ``T`` at ``<home>/tenants/T/``. A tenant
    only ever sees its own store: customers, products, reviews and models.
    """

    def __init__(
        self, home: Path, engine: Engine, *, preloaded: dict[str, StoreService] | None = None
    ) -> None:
        self._home = home
        self._engine = engine
        self._open: dict[str, StoreService] = dict(preloaded or {})
        self._lock = threading.Lock()
        # A store rewritten on disk (an erasure, a new import) is reopened: its
        # directory is replaced atomically, so its inode changes. Checked at most
        # once a second per tenant, which bounds how long an erased customer stays visible.
        self._stamps: dict[str, tuple[tuple[int, int] | None, float]] = {}
        self.recheck_s = 1.0

    def root(self, tenant: str) -> Path:
        return self._home if tenant == DEFAULT_TENANT else self._home / TENANTS_DIR / tenant

    def get(self, tenant: str) -> StoreService:
        now = time.monotonic()
        with self._lock:
            svc = self._open.get(tenant)
            seen = self._stamps.get(tenant)
        if svc is not None and (seen is None or now - seen[1] < self.recheck_s):
            if seen is None:
                with self._lock:
                    self._stamps[tenant] = (_stamp(self.root(tenant) / STORE_DIR), now)
            return svc
        root = self.root(tenant)
        stamp = _stamp(root / STORE_DIR)
        if svc is not None and seen is not None and stamp == seen[0]:
            with self._lock:
                self._stamps[tenant] = (stamp, now)
            return svc
        if stamp is None or not (root / STORE_DIR).is_dir():
            raise NotFoundError("no store for this tenant")
        fresh = StoreService.open(root, self._engine, tenant=tenant)
        with self._lock:
            self._open[tenant] = fresh
            self._stamps[tenant] = (stamp, now)
            return fresh
