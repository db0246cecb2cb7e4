"""Scorecard checks of the fairness area.

Resources (from :func:`shopguard.fairness.demo.prepare`): ``fairness_home`` (the state
folder: ``store/`` and ``models/``), ``fairness_store`` (its tables), ``fairness_fraud_scores``
(the fraud model's score of every transaction), ``fairness_reports`` (the audits run),
``fairness_cards_dir``, ``fairness_risky_transactions`` (request bodies of payments the model
is likely to flag) and, for the live check, ``base_url`` and ``api_keys``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks

__all__: list[str] = []


@checks.register
class StoreModelsAudited(Check):
    """A fairness audit of every store model ran: fraud by customer group, recommender by seller."""

    name = "fairness.store_models_audited"
    area = Area.FAIRNESS
    title = "A fairness audit of every store model runs"
    requires = ("fairness_home", "fairness_reports")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from shopguard.fairness.runs import STORE_MODELS

        home: Path = ctx["fairness_home"]
        reports: dict[str, Any] = ctx["fairness_reports"]
        present = [n for n in STORE_MODELS if (home / "models" / n).is_dir()]
        done, missing = [], []
        for name in present:
            report = reports.get(name)
            verdicts = [a["verdict"] for a in (report or {}).get("audits", {}).values()]
            verdicts += [report["verdict"]] if report and "verdict" in report else []
            if verdicts:
                done.append(f"{name}: {', '.join(verdicts)}")
            else:
                missing.append(name)
        evidence = "; ".join(done) + (f"; not audited: {', '.join(missing)}" if missing else "")
        ok = bool(present) and not missing
        return (Status.PASS if ok else Status.FAIL), None, evidence or "no store models"


@checks.register
class GapsWithinBarsAfterMitigation(Check):
    """After threshold mitigation, the fraud false-positive-rate gap across regions is within its bar.

    Thresholds are fitted on the older half of the store's payments and judged on the newer
    half, at the operating point that flags 3 % of payments.
    """

    name = "fairness.gaps_within_bars_after_mitigation"
    area = Area.FAIRNESS
    title = "Fraud FPR gap across regions within its bar after mitigation"
    requires = ("fairness_store", "fairness_fraud_scores", "runtime")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from shopguard.fairness.audit import audit_predictions
        from shopguard.fairness.mitigation import Constraint, GroupThresholdOptimizer

        settings = ctx["runtime"].settings
        store = ctx["fairness_store"]
        tx = store.transactions
        order = np.argsort(tx["TX_DATETIME"].to_numpy(), kind="stable")
        region_of = dict(
            zip(store.customers["customer_id"].astype(str), store.customers["region"], strict=True)
        )
        region = tx["CUSTOMER_ID"].astype(str).map(region_of).fillna("unknown").to_numpy()[order]
        y = tx["TX_FRAUD"].to_numpy().astype(np.int64)[order]
        scores = np.asarray(ctx["fairness_fraud_scores"], dtype=np.float64)[order]
        half = np.arange(len(y)) < len(y) // 2
        thr = float(np.quantile(scores[half], 0.97))
        target = float(np.mean(scores[half & (y == 0)] >= thr))
        min_n = settings.fairness_min_group_size
        opt = GroupThresholdOptimizer(
            constraint=Constraint.FALSE_POSITIVE_RATE_PARITY,
            target_rate=target,
            min_group_size=min_n,
        ).fit(scores[half], y[half], region[half])
        test = ~half
        before = audit_predictions(
            y[test],
            (scores[test] >= thr).astype(np.int64),
            region[test],
            n_bootstrap=0,
            min_group_size=min_n,
        )
        after = audit_predictions(
            y[test],
            opt.predict(scores[test], region[test]),
            region[test],
            n_bootstrap=0,
            min_group_size=min_n,
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
    requires = ("base_url", "api_keys")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        # Payments the store's data knows to be risky when given (the demo); otherwise
        # synthetic ones with every risk signal at once, so a remote run can judge too.
        given = ctx.resources.get("fairness_risky_transactions")
        bodies: list[dict[str, Any]] = given or _synthetic_risky(ctx)
        headers = {"X-API-Key": ctx["api_keys"]["full"]}
        flagged = explained = 0
        with httpx.Client(base_url=ctx["base_url"], timeout=30) as client:
            for body in bodies:
                r = client.post("/v1/fraud/score", json=body, headers=headers)
                for _ in range(20):  # wait out the deployment's rate limit (not what is judged)
                    if r.status_code != 429:
                        break
                    time.sleep(min(float(r.headers.get("retry-after", "1")), 2.0))
                    r = client.post("/v1/fraud/score", json=body, headers=headers)
                if r.status_code != 200:
                    return Status.ERROR, None, f"fraud score answered {r.status_code}"
                out = r.json()
                if out["decision"] == "approve":
                    continue
                flagged += 1
                explained += bool(out.get("reasons")) and bool(out.get("decision_id"))
        if flagged == 0 and not given:
            return (
                Status.SKIPPED,
                None,
                f"the model approved all {len(bodies)} synthetic risky payments, so no decline "
                "was seen; give fairness_risky_transactions (request bodies) in the keys file",
            )
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


def _synthetic_risky(ctx: CheckContext, n: int = 12) -> list[dict[str, Any]]:
    """Payments with every risk signal (large, new device, mismatches, new account, night)."""
    customer = str(ctx.resources.get("sample_customer", "C000001"))
    return [
        {
            "transaction_id": f"SCORECARD-RISKY-{i}",
            "customer_id": customer,
            "terminal_id": "PSP1-EP01",
            "amount": 2500.0 + 750.0 * i,
            "timestamp": f"2025-03-0{1 + i % 9}T0{i % 5}:1{i % 6}:00",
            "device_is_new": True,
            "ship_bill_mismatch": True,
            "ip_country_mismatch": True,
            "account_age_days": i % 3,
            "card_present": False,
        }
        for i in range(n)
    ]
