"""Scorecard checks of the fairness area.

Resources (from :func:`shopguard.fairness.demo.prepare`): ``fairness_home`` (the state
folder: ``store/`` and ``models/``), ``fairness_cards_dir``, ``fairness_risky_transactions``
(request bodies of payments the model is likely to flag) and, for the live check,
``base_url`` and ``api_keys``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np

from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks

__all__: list[str] = []


@checks.register
class StoreModelsAudited(Check):
    """A fairness audit of every store model runs: fraud by customer group, recommender by seller."""

    name = "fairness.store_models_audited"
    area = Area.FAIRNESS
    title = "A fairness audit of every store model runs"
    requires = ("fairness_home",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from shopguard.fairness.runs import STORE_MODELS, audit_store_model

        home: Path = ctx["fairness_home"]
        done, missing = [], []
        for name in STORE_MODELS:
            if not (home / "models" / name).is_dir():
                missing.append(name)
                continue
            report = audit_store_model(
                name,
                store_dir=home / "store",
                models_dir=home / "models",
                sensitive=["region", "age_band"],
                n_bootstrap=50,
                max_customers=500,
            )
            verdicts = [a["verdict"] for a in report.get("audits", {}).values()]
            verdicts += [report["verdict"]] if "verdict" in report else []
            done.append(f"{name}: {', '.join(verdicts)}")
        evidence = "; ".join(done) + (f"; missing models: {', '.join(missing)}" if missing else "")
        ok = not missing and len(done) == len(STORE_MODELS)
        return (Status.PASS if ok else Status.FAIL), None, evidence


@checks.register
class GapsWithinBarsAfterMitigation(Check):
    """After threshold mitigation, the fraud false-positive-rate gap across regions is within its bar.

    Thresholds are fitted on the older half of the store's payments and judged on the newer
    half, at the operating point that flags 3 % of payments.
    """

    name = "fairness.gaps_within_bars_after_mitigation"
    area = Area.FAIRNESS
    title = "Fraud FPR gap across regions within its bar after mitigation"
    requires = ("fairness_home", "runtime")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from shopguard.fairness.audit import audit_predictions
        from shopguard.fairness.mitigation import Constraint, GroupThresholdOptimizer
        from shopguard.fairness.runs import store_frame
        from shopguard.store.fraud import FraudModel

        home: Path = ctx["fairness_home"]
        settings = ctx["runtime"].settings
        store = store_frame(home / "store")
        tx = store.transactions.sort_values("TX_DATETIME").reset_index(drop=True)
        region = (
            tx["CUSTOMER_ID"]
            .astype(str)
            .map(
                dict(
                    zip(
                        store.customers["customer_id"].astype(str),
                        store.customers["region"],
                        strict=True,
                    )
                )
            )
            .fillna("unknown")
            .to_numpy()
        )
        y = tx["TX_FRAUD"].to_numpy().astype(np.int64)
        scores = FraudModel.load(home / "models" / "fraud").score(tx)
        half = np.arange(len(tx)) < len(tx) // 2
        thr = float(np.quantile(scores[half], 0.97))
        target = float(np.mean(scores[half & (y == 0)] >= thr))
        opt = GroupThresholdOptimizer(
            constraint=Constraint.FALSE_POSITIVE_RATE_PARITY,
            target_rate=target,
            min_group_size=settings.fairness_min_group_size,
        ).fit(scores[half], y[half], region[half])
        test = ~half
        before = audit_predictions(
            y[test],
            (scores[test] >= thr).astype(np.int64),
            region[test],
            n_bootstrap=0,
            min_group_size=settings.fairness_min_group_size,
        )
        after = audit_predictions(
            y[test],
            opt.predict(scores[test], region[test]),
            region[test],
            n_bootstrap=0,
            min_group_size=settings.fairness_min_group_size,
        )
        gap = after.false_positive_rate_difference
        if gap is None:
            return Status.FAIL, None, "too few genuine payments per region to judge"
        bar = settings.fairness_fpr_gap_bar
        b = before.false_positive_rate_difference
        evidence = (
            f"FPR gap across regions {b.value if b else float('nan'):.4f} -> {gap.value:.4f} "
            f"(bar {bar}); groups too small to judge: {', '.join(after.too_small) or 'none'}"
        )
        status = Status.PASS if gap.value <= bar else Status.FAIL
        return status, Figure("fpr_gap_after_mitigation", round(gap.value, 6), bar), evidence


@checks.register
class DeclinesCarryReasonCodes(Check):
    """Every fraud decline (and review) answered by the live gateway carries reason codes."""

    name = "fairness.declines_carry_reason_codes"
    area = Area.FAIRNESS
    title = "Every fraud decline carries reason codes and a reviewable decision id"
    requires = ("base_url", "api_keys", "fairness_risky_transactions")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        bodies: list[dict[str, Any]] = ctx["fairness_risky_transactions"]
        headers = {"X-API-Key": ctx["api_keys"]["full"]}
        flagged = explained = 0
        with httpx.Client(base_url=ctx["base_url"], timeout=30) as client:
            for body in bodies:
                r = client.post("/v1/fraud/score", json=body, headers=headers)
                if r.status_code != 200:
                    return Status.ERROR, None, f"fraud score answered {r.status_code}"
                out = r.json()
                if out["decision"] == "approve":
                    continue
                flagged += 1
                explained += bool(out.get("reasons")) and bool(out.get("decision_id"))
        if flagged == 0:
            return Status.FAIL, None, f"none of {len(bodies)} risky payments was flagged"
        share = explained / flagged
        evidence = f"{explained} of {flagged} flagged payments carried reason codes"
        return (
            Status.PASS if share == 1.0 else Status.FAIL,
            Figure("share_of_declines_with_reasons", share, 1.0),
            evidence,
        )


@checks.register
class ModelCardsCurrent(Check):
    """A model card exists for every store model and describes the artifact now deployed."""

    name = "fairness.model_cards_current"
    area = Area.FAIRNESS
    title = "Model cards exist and are current"
    requires = ("fairness_home", "fairness_cards_dir")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from shopguard.fairness.cards import card_is_current

        models = Path(ctx["fairness_home"]) / "models"
        cards = Path(ctx["fairness_cards_dir"])
        names = sorted(p.name for p in models.iterdir() if p.is_dir()) if models.is_dir() else []
        stale = [n for n in names if not card_is_current(cards / f"{n}.json", models / n)]
        if not names:
            return Status.FAIL, None, "no models found"
        evidence = f"{len(names) - len(stale)} of {len(names)} cards current" + (
            f"; stale or missing: {', '.join(stale)}" if stale else ""
        )
        return (Status.PASS if not stale else Status.FAIL), None, evidence
