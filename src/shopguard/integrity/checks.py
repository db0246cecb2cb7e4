"""Scorecard checks of the integrity area.

Resources: ``base_url`` and ``api_keys`` (``full``) of a live gateway,
``integrity_product`` (a product with reviews) and ``integrity_customers``
(customer ids to post a review burst from), ``integrity_sequences`` (the store's
genuine customer -> product sequences, for the shilling check); the demo provides them through
:func:`demo_resources`. The label check needs nothing: it builds its own data.
"""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np

from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks

__all__ = ["demo_resources"]

_BURST = (
    "Best purchase of the year, five stars without a doubt, my whole family uses it every "
    "day and it still works like new, do not hesitate and order it today"
)


def demo_resources(store: Any, *, n_customers: int = 8) -> dict[str, Any]:
    """What the integrity checks need from a generated store (for ``shopguard demo``)."""
    reviews = store.reviews
    counts = reviews["product_id"].astype(str).value_counts()
    product = str(counts.index[min(len(counts) - 1, len(counts) // 2)])
    customers = store.customers["customer_id"].astype(str).tolist()
    from shopguard.store.recommender import order_sequences

    return {
        "integrity_product": product,
        "integrity_customers": customers[-n_customers:],
        "integrity_sequences": order_sequences(store.orders),
    }


def _mean_rating(rows: list[dict[str, Any]]) -> float:
    return float(np.mean([x["rating"] for x in rows])) if rows else 0.0


@checks.register
class ReviewBurstQuarantined(Check):
    """A burst of copied 5-star reviews is quarantined and does not lift the product's rating.

    Posts one review from each of several customers within seconds (the same text with
    small edits) and reads the product's reviews back. Figure: share of the burst that
    shoppers can see (bar: at most one review, the burst's first, may get through before
    there is anything to compare it with).
    """

    name = "integrity.review_burst_quarantined"
    area = Area.INTEGRITY
    title = "A burst of fake 5-star reviews is quarantined and does not lift the rating"
    requires = ("base_url", "api_keys", "integrity_product", "integrity_customers")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        product = ctx["integrity_product"]
        customers = list(ctx["integrity_customers"])
        headers = {"X-API-Key": ctx["api_keys"]["full"]}
        url = f"/v1/products/{product}/reviews?limit=100"
        with httpx.Client(base_url=ctx["base_url"], timeout=30) as client:
            before = client.get(url, headers=headers).json()["reviews"]
            statuses = []
            for i, customer in enumerate(customers):
                r = client.post(
                    "/v1/reviews",
                    headers=headers,
                    json={
                        "product_id": product,
                        "customer_id": customer,
                        "rating": 5,
                        "title": f"scorecard burst {i}",
                        "text": _BURST.replace(
                            "year", ["year", "decade", "month", "season"][i % 4]
                        ),
                    },
                )
                if r.status_code != 201:
                    return Status.FAIL, None, f"review post answered {r.status_code}"
                statuses.append(r.json().get("status"))
            after = client.get(url, headers=headers).json()["reviews"]
        visible = sum(1 for x in after if x["title"].startswith("scorecard burst"))
        others_before = [x for x in before if not x["title"].startswith("scorecard burst")]
        lift = _mean_rating(after) - _mean_rating(others_before)
        share = visible / len(customers)
        ok = visible <= 1 and statuses.count("quarantined") >= len(customers) - 1
        evidence = (
            f"{statuses.count('quarantined')}/{len(customers)} burst reviews quarantined, "
            f"{visible} visible; shown mean rating moved {lift:+.2f} stars"
        )
        return (
            (Status.PASS if ok else Status.FAIL),
            Figure("visible_burst_share", share, 1 / len(customers)),
            evidence,
        )


@checks.register
class FlippedLabelsFound(Check):
    """Flipped fraud labels are found by the label audit (20 % random flips, synthetic data).

    Figure: F1 of the flagged rows against the flipped rows (bar 0.8 on this small,
    quick data set; the benchmark reports the real figures).
    """

    name = "integrity.flipped_labels_found"
    area = Area.INTEGRITY
    title = "Flipped training labels are found before training"

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from sklearn.datasets import make_classification

        from shopguard.integrity.labels import LabelIssueDetector

        x, y = make_classification(
            n_samples=1200, n_features=10, n_informative=6, class_sep=1.5, random_state=3
        )
        rng = np.random.default_rng(3)
        flipped = np.zeros(len(y), dtype=bool)
        flipped[rng.choice(len(y), size=len(y) // 5, replace=False)] = True
        noisy = np.where(flipped, 1 - y, y)
        det = LabelIssueDetector(rounds=2, folds=3, random_state=0).fit(x, noisy)
        found = det.suspected_
        tp = float((found & flipped).sum())
        p = tp / max(1, found.sum())
        r = tp / flipped.sum()
        f1 = 2 * p * r / max(1e-12, p + r)
        status = Status.PASS if f1 >= 0.8 else Status.FAIL
        return (
            status,
            Figure("f1", round(f1, 4), 0.8),
            f"precision {p:.3f}, recall {r:.3f} on {len(y)} rows",
        )


@checks.register
class OutputShiftAlerts(Check):
    """A sudden shift of a model's outputs raises an alert on the event bus.

    Replays a poisoning scenario on fraud scores: normal windows (no alert
    expected beyond the stated 1 % false-alarm rate) then a window where a whole
    fraud pattern is scored near zero. Figure: alerts raised on the shifted window
    (bar 1); the evidence gives the false alarms seen on 40 normal windows.
    """

    name = "integrity.output_shift_alerts"
    area = Area.INTEGRITY
    title = "A sudden shift in a model's outputs raises an alert"

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from shopguard.core.events import EventBus
        from shopguard.integrity.shift import OutputShiftMonitor

        rng = np.random.default_rng(11)
        normal = rng.beta(1, 20, 40_000)
        mon = OutputShiftMonitor("fraud.score", window=500, false_alarm_rate=0.01).fit(
            normal[:10_000], normal[10_000:20_000]
        )
        rt = ctx.resources.get("runtime")
        bus: EventBus = rt.bus if rt is not None else EventBus()
        seen: list[object] = []
        unsubscribe = bus.subscribe("integrity.output_shift", seen.append)
        try:
            false_alarms = sum(
                mon.observe(normal[i : i + 500], bus).alarm for i in range(20_000, 40_000, 500)
            )
            before = len(seen)
            shifted = np.concatenate([rng.beta(1, 25, 425), np.full(75, 0.001)])
            mon.observe(shifted, bus)
            raised = len(seen) - before
        finally:
            unsubscribe()
        ok = raised == 1 and false_alarms <= 2
        evidence = f"{raised} alert on the shifted window; {false_alarms}/40 normal windows alarmed"
        return (Status.PASS if ok else Status.FAIL), Figure("alerts_on_shift", raised, 1), evidence


@checks.register
class ShillingAttackContained(Check):
    """A shilling attack does not move its target into genuine customers' top-10 lists.

    Injects a bandwagon attack (fake profiles of best-sellers plus one long-tail target,
    3 % of the profiles) into the store's order history; the shilling detector, trained
    on the genuine history, flags profiles before the recommender is retrained. Figure:
    share of genuine customers whose top-10 holds the target with the defence (bar: the
    clean model's share + 1 point); the evidence gives the undefended share too.
    """

    name = "integrity.shilling_attack_contained"
    area = Area.INTEGRITY
    title = "A shilling attack does not push its target into the top-10 recommendations"
    requires = ("integrity_sequences",)
    max_profiles = 2000
    attack_share = 0.03

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from shopguard.integrity.shilling import (
            AttackKind,
            ShillingDetector,
            inject_attack,
            target_exposure,
        )
        from shopguard.store.recommender import train_recommender

        history = ctx["integrity_sequences"]
        rng = np.random.default_rng(17)
        keys = sorted(history)
        if len(keys) > self.max_profiles:
            keys = sorted(rng.choice(keys, self.max_profiles, replace=False).tolist())
        seqs = {k: list(history[k]) for k in keys}
        counts: dict[str, int] = {}
        for items in seqs.values():
            for i in items:
                counts[i] = counts.get(i, 0) + 1
        target = min(sorted(counts), key=lambda i: counts[i])
        attack = inject_attack(
            seqs,
            target,
            kind=AttackKind.BANDWAGON,
            n_profiles=max(5, int(self.attack_share * len(seqs))),
            rng=rng,
        )
        poisoned = {**seqs, **attack}
        detector = ShillingDetector(random_state=0).fit(seqs)
        flagged = detector.flag(poisoned)
        kept = {k: v for (k, v), f in zip(poisoned.items(), flagged, strict=True) if not f}
        clean = train_recommender(seqs, random_state=0)
        attacked = train_recommender(poisoned, params=clean.params)
        defended = train_recommender(kept, params=clean.params)
        users = keys[:500]
        exposure = [
            target_exposure([[str(i) for i in m.recommend(u, 10)] for u in users], target)
            for m in (clean, attacked, defended)
        ]
        caught = sum(f for k, f in zip(poisoned, flagged, strict=True) if k in attack)
        genuine_flagged = int(flagged.sum()) - int(caught)
        bar = exposure[0] + 0.01
        ok = exposure[2] <= bar
        evidence = (
            f"target in top-10 of {exposure[0]:.1%} of {len(users)} customers clean, "
            f"{exposure[1]:.1%} attacked, {exposure[2]:.1%} defended; {caught}/{len(attack)} "
            f"shill profiles and {genuine_flagged}/{len(seqs)} genuine ones flagged"
        )
        return (
            (Status.PASS if ok else Status.FAIL),
            Figure("target_top10_share_defended", round(exposure[2], 4), round(bar, 4)),
            evidence,
        )
