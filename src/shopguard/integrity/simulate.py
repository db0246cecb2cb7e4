"""A labelled simulation of review campaigns over real texts (for fitting and testing).

Genuine reviews (real human texts) arrive at a steady rate from established,
mostly verified customers, with ratings around each product's quality.
Campaigns of shill accounts push (5 stars) or nuke (1 star) target products
within a day or two, mostly from new, unverified accounts that all review the
same targets, with machine-generated texts or one human text copied with a few
words changed. Lone fakes (generated text from ordinary-looking accounts) keep
the text signal honest. Nothing here decides a score; it only makes data.

References
----------
.. [1] Mukherjee, Liu, Glance, "Spotting fake reviewer groups in consumer reviews", WWW 2012.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["simulate_review_campaigns"]

_START = pd.Timestamp("2026-01-01")


def _perturb(text: str, rng: np.random.Generator) -> str:
    words = text.split()
    for _ in range(max(1, len(words) // 12)):
        i = int(rng.integers(len(words)))
        words[i] = words[int(rng.integers(len(words)))]
    return " ".join(words)


def simulate_review_campaigns(
    genuine_texts: Sequence[str],
    fake_texts: Sequence[str],
    *,
    n_products: int = 150,
    n_genuine: int = 3000,
    n_campaigns: int = 20,
    n_lone_fakes: int = 150,
    days: int = 90,
    seed: int = 0,
) -> tuple[pd.DataFrame, NDArray[np.int64], NDArray[np.int64]]:
    """Simulate reviews; returns ``(frame, is_fake, text_index)``.

    ``frame`` has ``id, text, rating, product_id, reviewer_id, created_at,
    verified_purchase, account_age_days``; ``text_index`` says which input text
    each row used (genuine texts as ``i``, fake texts as ``-1 - i``), so callers
    can supply out-of-sample text-model probabilities.
    """
    rng = np.random.default_rng(seed)
    products = [f"P{i:05d}" for i in range(n_products)]
    quality = rng.uniform(2.8, 4.7, n_products)
    popularity = 1.0 / np.arange(1, n_products + 1) ** 0.8
    popularity /= popularity.sum()
    n_people = max(50, n_genuine // 2)
    rows: list[dict[str, object]] = []
    fake: list[int] = []
    tidx: list[int] = []
    g_order = rng.permutation(len(genuine_texts))
    f_order = rng.permutation(len(fake_texts))
    gi = fi = 0

    def next_genuine() -> int:
        nonlocal gi
        k = int(g_order[gi % len(g_order)])
        gi += 1
        return k

    def next_fake() -> int:
        nonlocal fi
        k = int(f_order[fi % len(f_order)])
        fi += 1
        return k

    for _ in range(n_genuine):
        p = int(rng.choice(n_products, p=popularity))
        k = next_genuine()
        rows.append(
            {
                "text": genuine_texts[k],
                "rating": int(np.clip(np.rint(rng.normal(quality[p], 1.0)), 1, 5)),
                "product_id": products[p],
                "reviewer_id": f"C{int(rng.integers(n_people)):06d}",
                "created_at": _START + pd.Timedelta(seconds=float(rng.uniform(0, days * 86400))),
                "verified_purchase": bool(rng.random() < 0.85),
                "account_age_days": float(
                    rng.uniform(0, 6) if rng.random() < 0.03 else rng.exponential(500) + 7
                ),
            }
        )
        fake.append(0)
        tidx.append(k)
    for c in range(n_campaigns):
        targets = rng.choice(n_products, size=int(rng.integers(1, 4)), replace=False)
        push = rng.random() < 0.6
        shills = [f"S{c:03d}{j:03d}" for j in range(int(rng.integers(5, 16)))]
        t0 = _START + pd.Timedelta(days=float(rng.uniform(0, days - 2)))
        copied = rng.random() < 0.35
        kt = next_genuine()
        template = genuine_texts[kt]
        for s in shills:
            new = rng.random() < 0.7
            for p in targets:
                if copied:
                    text, k = _perturb(template, rng), kt
                elif rng.random() < 0.8:
                    k = next_fake()
                    text, k = fake_texts[k], -1 - k
                else:
                    k = next_genuine()
                    text = genuine_texts[k]
                rows.append(
                    {
                        "text": text,
                        "rating": 5 if push else 1,
                        "product_id": products[int(p)],
                        "reviewer_id": s,
                        "created_at": t0 + pd.Timedelta(hours=float(rng.uniform(0, 36))),
                        "verified_purchase": bool(rng.random() < 0.2),
                        "account_age_days": float(
                            rng.uniform(0, 6) if new else rng.exponential(200) + 7
                        ),
                    }
                )
                fake.append(1)
                tidx.append(k)
    for _ in range(n_lone_fakes):
        p = int(rng.choice(n_products, p=popularity))
        k = next_fake()
        rows.append(
            {
                "text": fake_texts[k],
                "rating": int(np.clip(np.rint(rng.normal(quality[p], 1.0)), 1, 5)),
                "product_id": products[p],
                "reviewer_id": f"C{int(rng.integers(n_people)):06d}",
                "created_at": _START + pd.Timedelta(seconds=float(rng.uniform(0, days * 86400))),
                "verified_purchase": bool(rng.random() < 0.6),
                "account_age_days": float(rng.exponential(300) + 7),
            }
        )
        fake.append(1)
        tidx.append(-1 - k)
    df = pd.DataFrame(rows)
    order = np.argsort(df["created_at"].to_numpy(), kind="stable")
    df = df.iloc[order].reset_index(drop=True)
    df.insert(0, "id", [f"R{i:07d}" for i in range(len(df))])
    df["created_at"] = df["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return (
        df,
        np.asarray(fake, dtype=np.int64)[order],
        np.asarray(tidx, dtype=np.int64)[order],
    )
