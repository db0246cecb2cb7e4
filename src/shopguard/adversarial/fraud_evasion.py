"""Evasion of the fraud scorer by a fraudster who only changes what they control, and its hardening.

Threat model: the fraudster holds stolen card details and an account. They choose the basket
(the amount, down to half of what they wanted), when to buy (the hour of the day), the device
fingerprint they present (spoofing a known device), the IP country (a residential proxy in the
card's country) and the shipping address (a drop address matching the billing one). They cannot
change the customer's history, the terminal, the account's age or whether the card is present.
Every variant is a valid transaction in the store's schema.

The attack is a black-box search over those variants (:data:`VARIANTS`, 48 per transaction),
scored by the deployed model with the customer's real history; a fraud evades when some
variant scores under the decision threshold. Hardening is adversarial training in the same
space: the training frauds' variants are added as fraud examples and the model refitted.

References
----------
Kantchelian, Tygar, Joseph, "Evasion and Hardening of Tree Ensemble Classifiers", ICML 2016.
Cartella et al., "Adversarial Attacks for Tabular Data: Application to Fraud Detection and
Imbalanced Data", SafeAI 2021. https://arxiv.org/abs/2101.08030
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.metrics import average_precision_score

from shopguard.core.errors import DataValidationError
from shopguard.store.fraud import FraudModel

__all__ = [
    "VARIANTS",
    "EvasionReport",
    "Variant",
    "apply_variant",
    "evasion_search",
    "harden_fraud_model",
    "split_in_time",
    "variant_scores",
]


@dataclass(frozen=True)
class Variant:
    """One choice of the fraudster: amount factor, hour (None keeps it), and flags they clear."""

    amount_factor: float
    hour: int | None
    clear_device: bool
    clear_ip: bool
    clear_shipping: bool


#: The fraudster's options: basket 100/75/50 %, time kept or moved to mid-afternoon, and each of
#: device / IP country / shipping mismatch kept or cleared.
VARIANTS: tuple[Variant, ...] = tuple(
    Variant(a, h, d, i, s)
    for a, h, d, i, s in itertools.product(
        (1.0, 0.75, 0.5), (None, 14), (False, True), (False, True), (False, True)
    )
)


def apply_variant(frame: pd.DataFrame, mask: NDArray[np.bool_], v: Variant) -> pd.DataFrame:
    """``frame`` with variant ``v`` applied to the rows in ``mask`` (a new frame)."""
    out = frame.copy()
    if not mask.any():
        return out
    amount = out.loc[mask, "TX_AMOUNT"].to_numpy(dtype=np.float64)
    out.loc[mask, "TX_AMOUNT"] = np.round(amount * v.amount_factor, 2)
    if v.hour is not None:
        t = pd.to_datetime(out.loc[mask, "TX_DATETIME"])
        out.loc[mask, "TX_DATETIME"] = (
            t.dt.floor("D") + pd.Timedelta(hours=v.hour) + pd.to_timedelta(t.dt.minute, unit="m")
        )
    for flag, col in (
        (v.clear_device, "device_is_new"),
        (v.clear_ip, "ip_country_mismatch"),
        (v.clear_shipping, "ship_bill_mismatch"),
    ):
        if flag and col in out.columns:
            out.loc[mask, col] = 0
    return out


@dataclass(frozen=True)
class EvasionReport:
    """How many of the frauds a model caught were pushed under its threshold by the search."""

    model: str
    threshold: float
    n_frauds: int
    caught_before: int
    evaded: int
    evasion_rate: float
    average_precision: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _scores(model: FraudModel, test: pd.DataFrame, history: pd.DataFrame) -> NDArray[np.float64]:
    X = model.features(test, history)
    return np.asarray(model.estimator_.predict_proba(X)[:, 1], dtype=np.float64)


def split_in_time(
    transactions: pd.DataFrame, *, days: int = 45
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(train, test, recent)``: rows of the first ``days`` days, the later rows, and the
    training rows of the last 40 days before the cut, the history the later rows' features read
    (they look back at most 30 days, plus the 7-day label delay)."""
    t = pd.to_datetime(transactions["TX_DATETIME"])
    cut = t.min().floor("D") + pd.Timedelta(days=days)
    train = transactions[t < cut].reset_index(drop=True)
    test = transactions[t >= cut].reset_index(drop=True)
    recent = train[pd.to_datetime(train["TX_DATETIME"]) >= cut - pd.Timedelta(days=40)]
    return train, test, recent


def variant_scores(
    model: FraudModel,
    test: pd.DataFrame,
    history: pd.DataFrame,
    *,
    variants: tuple[Variant, ...] = VARIANTS,
    progress: Callable[[int, int], None] | None = None,
) -> NDArray[np.float64]:
    """The model's score of every row of ``test`` with each variant applied to its frauds.

    Shape ``(len(variants), len(test))``. All frauds of a variant are changed together (they
    are the same fraudster's), and every row is scored with the real history of its customer
    and terminal (so a legitimate row's score may move with a changed fraud in its history).
    """
    if "TX_FRAUD" not in test.columns:
        raise DataValidationError("the evaluation rows need labels", column="TX_FRAUD")
    fraud = test["TX_FRAUD"].to_numpy(dtype=np.int64) == 1
    out = np.empty((len(variants), len(test)), dtype=np.float64)
    for k, v in enumerate(variants):
        out[k] = _scores(model, apply_variant(test, fraud, v), history)
        if progress is not None:
            progress(k + 1, len(variants))
    return out


def evasion_search(
    model: FraudModel,
    test: pd.DataFrame,
    history: pd.DataFrame,
    *,
    name: str = "model",
    threshold: float = 0.3,
    variants: tuple[Variant, ...] = VARIANTS,
    progress: Callable[[int, int], None] | None = None,
) -> EvasionReport:
    """Run the search against ``model`` on the frauds of ``test`` (``history``: earlier rows):
    a caught fraud evades when any variant (:func:`variant_scores`) scores under ``threshold``.
    """
    if "TX_FRAUD" not in test.columns:
        raise DataValidationError("the evaluation rows need labels", column="TX_FRAUD")
    y = test["TX_FRAUD"].to_numpy(dtype=np.int64)
    fraud = y == 1
    base = _scores(model, test, history)
    caught = fraud & (base >= threshold)
    per_variant = variant_scores(model, test, history, variants=variants, progress=progress)
    best = np.minimum(base, per_variant.min(axis=0)) if len(variants) else base
    evaded = caught & (best < threshold)
    n_caught = int(caught.sum())
    return EvasionReport(
        model=name,
        threshold=threshold,
        n_frauds=int(fraud.sum()),
        caught_before=n_caught,
        evaded=int(evaded.sum()),
        evasion_rate=float(evaded.sum() / n_caught) if n_caught else 0.0,
        average_precision=float(average_precision_score(y, base)) if fraud.any() else 0.0,
    )


def harden_fraud_model(
    model: FraudModel,
    train: pd.DataFrame,
    history: pd.DataFrame | None = None,
    *,
    variants: tuple[Variant, ...] = VARIANTS,
    per_fraud: int = 8,
    random_state: int = 0,
) -> FraudModel:
    """Adversarial training: refit ``model``'s estimator with variants of the training frauds added.

    Each training fraud contributes ``per_fraud`` variants (drawn from ``variants``), labelled
    fraud, alongside the original rows.
    """
    y = train["TX_FRAUD"].to_numpy(dtype=np.int64)
    fraud = y == 1
    X = model.features(train, history)
    rng = np.random.default_rng(random_state)
    picks = rng.choice(len(variants), size=min(per_fraud, len(variants)), replace=False)
    extra = [
        model.features(apply_variant(train, fraud, variants[int(k)]), history)[fraud] for k in picks
    ]
    X_aug = np.vstack([X, *extra])
    y_aug = np.concatenate([y, np.ones(sum(len(e) for e in extra), dtype=np.int64)])
    X_aug = np.where(np.isnan(X_aug).all(axis=0), 0.0, X_aug)
    est = clone(model.estimator_).fit(X_aug, y_aug)
    metrics = {
        **model.metrics,
        "hardened": {
            "method": "adversarial training on fraudster-controlled variants",
            "variants_per_fraud": len(picks),
        },
    }
    return FraudModel(
        estimator_=est,
        feature_names_=list(model.feature_names_),
        extra_columns_=list(model.extra_columns_),
        delay_days=model.delay_days,
        metrics=metrics,
    )
