"""Ownership proof by a keyed black-box fingerprint: is a suspect model a copy of ours?

At release we draw candidate queries from a key-seeded generator (half uniform
over the API's input box, half perturbed real transactions) and keep the
``k`` where our model's score differs most from independently trained reference
models: behaviour that is *ours*, not the task's (conferrable examples, Lukas et
al. 2021). A copy made by querying our API, fine-tuning or pruning inherits it;
an independent model does not. A separate set of independent *null* models
(never used for selection) gives the distribution of the fingerprint distance
under "not ours".

Verification sends the ``k`` fingerprint queries (at most 100) to the suspect and
computes the mean absolute score difference ``d``. Under the null hypothesis the
suspect is an independent model, and ``log d`` follows the null models' normal
fit; the p-value is the probability that an independent model comes this close.
Ownership is claimed when ``p < alpha`` (default 0.01). Fingerprints cost the
model nothing (no retraining).

A model trained with the keyed trigger-set watermark (:mod:`shopguard.modelsec.watermark`)
is verified by the watermark's exact permutation test instead; its fingerprint is then
taken on the watermark's own queries and reported as second evidence, so verification
still sends at most 100 queries.

References
----------
Lukas, Zhang, Kerschbaum, "Deep neural network fingerprinting by conferrable
adversarial examples", ICLR 2021. Cao, Jia, Gong, "IPGuard: protecting
intellectual property of deep neural networks via fingerprinting the
classification boundary", AsiaCCS 2021.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from shopguard.core.errors import DataValidationError
from shopguard.modelsec.watermark import TriggerWatermark

__all__ = [
    "Fingerprint",
    "OwnershipResult",
    "ScoreFn",
    "build_fingerprint",
    "fingerprint_fraud_model",
    "fingerprint_p",
    "fraud_model_scorer",
    "http_scorer",
    "verify_ownership",
]

#: Scores a batch of fraud-API request bodies.
ScoreFn = Callable[[list[dict[str, Any]]], Sequence[float]]

_FORMAT = "shopguard.modelsec.fingerprint/1"
_START = datetime(2025, 3, 1, 0, 0, 0)


@dataclass(frozen=True)
class OwnershipResult:
    """The decision: ``p_value`` is the watermark's when one was tested, else the fingerprint's."""

    distance: float
    p_value: float
    alpha: float
    queries: int
    method: str = "fingerprint"
    watermark_p: float | None = None
    fingerprint_p: float | None = None

    @property
    def ours(self) -> bool:
        return self.p_value < self.alpha

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "distance": self.distance,
            "p_value": self.p_value,
            "watermark_p": self.watermark_p,
            "fingerprint_p": self.fingerprint_p,
            "alpha": self.alpha,
            "queries": self.queries,
            "decision": "copy of ours" if self.ours else "not shown to be ours",
        }


@dataclass(frozen=True)
class Fingerprint:
    """The fingerprint queries, our model's answers and the null distance distribution."""

    bodies: tuple[dict[str, Any], ...]
    scores: tuple[float, ...]
    null_log_mean: float
    null_log_std: float
    model: str
    null_n: int = 6

    def to_json(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "model": self.model,
            "bodies": list(self.bodies),
            "scores": list(self.scores),
            "null_log_mean": self.null_log_mean,
            "null_log_std": self.null_log_std,
            "null_n": self.null_n,
        }

    @classmethod
    def from_json(cls, data: Any) -> Fingerprint:
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise DataValidationError("not a shopguard fingerprint")
        try:
            return cls(
                bodies=tuple(data["bodies"]),
                scores=tuple(float(s) for s in data["scores"]),
                null_log_mean=float(data["null_log_mean"]),
                null_log_std=float(data["null_log_std"]),
                model=str(data["model"]),
                null_n=int(data.get("null_n", 6)),
            )
        except (KeyError, TypeError, ValueError):
            raise DataValidationError("fingerprint is malformed") from None

    def dumps(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True).encode()


def _keyed_rng(key: bytes, label: str) -> np.random.Generator:
    seed = hmac.new(key, f"shopguard/fingerprint/{label}".encode(), hashlib.sha256).digest()
    return np.random.default_rng(int.from_bytes(seed[:8], "big"))


def _candidates(
    rng: np.random.Generator, natural: pd.DataFrame | None, n: int
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rows = natural.to_dict("records") if natural is not None and len(natural) else []
    for i in range(n):
        ts = _START + timedelta(minutes=int(rng.integers(0, 60 * 24 * 60)))
        if rows and i % 2 == 0:
            r = rows[int(rng.integers(0, len(rows)))]
            amount = float(r["TX_AMOUNT"]) * float(np.exp(rng.normal(0, 0.3)))
            age = int(max(0, r["account_age_days"] + rng.integers(-30, 30)))
            flags = [
                bool(r[k]) for k in ("device_is_new", "ship_bill_mismatch", "ip_country_mismatch")
            ]
            flags = [f if rng.random() > 0.2 else not f for f in flags]
        else:
            amount = float(np.exp(rng.uniform(0, math.log(3000))))
            age = int(rng.integers(0, 3650))
            flags = [bool(rng.random() < 0.5) for _ in range(3)]
        out.append(
            {
                "transaction_id": f"fp{i}",
                "customer_id": f"fp-c{i}",
                "terminal_id": f"fp-t{i}",
                "amount": round(amount, 2),
                "timestamp": ts.isoformat(),
                "device_is_new": flags[0],
                "ship_bill_mismatch": flags[1],
                "ip_country_mismatch": flags[2],
                "account_age_days": age,
                "card_present": bool(rng.random() < 0.3),
            }
        )
    return out


def _distance(a: Sequence[float], b: Sequence[float]) -> float:
    return float(np.mean(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def build_fingerprint(
    ours: ScoreFn,
    references: Sequence[ScoreFn],
    nulls: Sequence[ScoreFn],
    *,
    key: bytes,
    natural: pd.DataFrame | None = None,
    k: int = 100,
    candidates: int = 3000,
    model: str = "fraud",
    bodies: Sequence[dict[str, Any]] | None = None,
) -> Fingerprint:
    """Pick the ``k`` queries where ours differs most from ``references``; fit the null on ``nulls``.

    ``key`` (a key-ring secret) seeds the candidates, so an attacker cannot
    precompute them; ``references`` and ``nulls`` must be independent models (at
    least 1 and 3), trained without our model's outputs. ``bodies`` fixes the
    queries instead (a watermarked model's own queries); ``references`` are then unused.
    """
    if not references or len(nulls) < 3:
        raise DataValidationError("a fingerprint needs >= 1 reference and >= 3 null models")
    if bodies is not None:
        if not 1 <= len(bodies) <= 100:
            raise DataValidationError("a fingerprint takes between 1 and 100 queries")
        fp_bodies = list(bodies)
        fp_scores = [float(v) for v in ours(fp_bodies)]
    else:
        if not 1 <= k <= candidates:
            raise DataValidationError("k must be between 1 and the number of candidates")
        pool = _candidates(_keyed_rng(key, model), natural, candidates)
        mine = np.asarray(ours(pool), dtype=np.float64)
        refs = np.vstack([np.asarray(r(pool), dtype=np.float64) for r in references])
        gap = np.abs(mine - refs.mean(axis=0))
        chosen = np.argsort(-gap, kind="stable")[:k]
        fp_bodies = [pool[int(i)] for i in chosen]
        fp_scores = [float(mine[int(i)]) for i in chosen]
    null_d = [math.log(max(_distance(n(fp_bodies), fp_scores), 1e-9)) for n in nulls]
    std = float(np.std(null_d, ddof=1)) if len(null_d) > 1 else 1.0
    return Fingerprint(
        tuple(fp_bodies), tuple(fp_scores), float(np.mean(null_d)), max(std, 1e-3), model
    )


def fingerprint_p(answers: Sequence[float], fingerprint: Fingerprint) -> tuple[float, float]:
    """Distance of ``answers`` to our fingerprint scores and the p-value an independent model is this close."""
    if len(answers) != len(fingerprint.bodies):
        raise DataValidationError("suspect answered a different number of queries")
    d = _distance(answers, fingerprint.scores)
    z = (math.log(max(d, 1e-9)) - fingerprint.null_log_mean) / fingerprint.null_log_std
    # Student's t with the null sample's degrees of freedom: a few null models must not
    # make the test overconfident (a predictive interval for one more independent model).
    n = max(fingerprint.null_n, 2)
    return d, float(stats.t.cdf(z / math.sqrt(1 + 1 / n), df=n - 1))


def verify_ownership(
    suspect: ScoreFn,
    fingerprint: Fingerprint | None = None,
    *,
    watermark: TriggerWatermark | None = None,
    alpha: float = 0.01,
) -> OwnershipResult:
    """Query the suspect once (at most 100 queries) and decide whether it is a copy of ours.

    With ``watermark`` the decision is the watermark's exact permutation test, and a
    ``fingerprint`` taken on the same queries is reported as second evidence. Without
    it, the fingerprint decides.
    """
    if watermark is None:
        if fingerprint is None:
            raise DataValidationError("ownership needs a watermark or a fingerprint")
        d, p = fingerprint_p(suspect(list(fingerprint.bodies)), fingerprint)
        return OwnershipResult(d, p, alpha, len(fingerprint.bodies), fingerprint_p=p)
    bodies = watermark.queries_for()
    answers = [float(v) for v in suspect(bodies)]
    wm = watermark.test(answers)
    d, fp = float("nan"), None
    if fingerprint is not None and list(fingerprint.bodies) == bodies:
        d, fp = fingerprint_p(answers, fingerprint)
    return OwnershipResult(
        d, wm.p_value, alpha, len(bodies), "watermark", watermark_p=wm.p_value, fingerprint_p=fp
    )


def _frame(bodies: list[dict[str, Any]]) -> pd.DataFrame:
    n = len(bodies)
    return pd.DataFrame(
        {
            "TRANSACTION_ID": np.arange(n),
            "TX_DATETIME": pd.to_datetime([str(b["timestamp"]) for b in bodies]),
            # Each query is its own customer and terminal: no history, only the request's fields.
            "CUSTOMER_ID": np.arange(n),
            "TERMINAL_ID": np.arange(n),
            "TX_AMOUNT": [float(b["amount"]) for b in bodies],
            "device_is_new": [int(b["device_is_new"]) for b in bodies],
            "ship_bill_mismatch": [int(b["ship_bill_mismatch"]) for b in bodies],
            "ip_country_mismatch": [int(b["ip_country_mismatch"]) for b in bodies],
            "account_age_days": [int(b["account_age_days"]) for b in bodies],
            "card_present": [int(b.get("card_present", False)) for b in bodies],
        }
    )


def fraud_model_scorer(model: Any) -> ScoreFn:
    """Score request bodies with a fitted :class:`~shopguard.store.fraud.FraudModel` offline."""

    def score(bodies: list[dict[str, Any]]) -> Sequence[float]:
        frame = _frame(bodies)
        for col in model.extra_columns_:
            if col not in frame.columns:
                frame[col] = 0
        return [float(s) for s in model.score(frame)]

    return score


def http_scorer(url: str, *, api_key: str | None = None, timeout: float = 30.0) -> ScoreFn:
    """Score request bodies by POSTing each to a suspect's fraud-scoring URL (``{"score": x}``)."""
    import httpx

    def score(bodies: list[dict[str, Any]]) -> Sequence[float]:
        headers = {"X-API-Key": api_key} if api_key else {}
        out: list[float] = []
        with httpx.Client(timeout=timeout) as client:
            for b in bodies:
                try:
                    resp = client.post(url, json=b, headers=headers)
                    value = resp.json()["score"] if resp.status_code == 200 else None
                except (httpx.HTTPError, ValueError, KeyError, TypeError):
                    value = None
                if not isinstance(value, int | float):
                    raise DataValidationError(f"suspect at {url} did not return a score")
                out.append(float(value))
        return out

    return score


def fingerprint_fraud_model(
    model: Any,
    transactions: pd.DataFrame,
    *,
    key: bytes,
    references: int = 2,
    nulls: int = 4,
    k: int = 100,
    random_state: int = 0,
    watermark: TriggerWatermark | None = None,
) -> Fingerprint:
    """Fingerprint a fraud model: reference and null models are trained on disjoint random
    halves of ``transactions`` with other seeds (they never see our model's outputs).

    With ``watermark`` the fingerprint is taken on the watermark's queries (second
    evidence at no extra query)."""
    from shopguard.store.fraud import train_fraud

    rng = np.random.default_rng(random_state)
    customers = transactions["CUSTOMER_ID"].unique()

    def independent(i: int) -> ScoreFn:
        half = rng.choice(customers, size=max(1, len(customers) // 2), replace=False)
        part = transactions[transactions["CUSTOMER_ID"].isin(half)]
        return fraud_model_scorer(
            train_fraud(part, random_state=random_state + 1000 + i, validation_days=0)
        )

    refs = [independent(i) for i in range(references)]
    null_fns = [independent(references + i) for i in range(nulls)]
    return build_fingerprint(
        fraud_model_scorer(model),
        refs,
        null_fns,
        key=key,
        natural=transactions,
        k=k,
        bodies=watermark.queries_for() if watermark is not None else None,
    )
