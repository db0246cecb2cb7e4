"""Recommender enumeration copies the lists unguarded and is stopped early by the monitor."""

from __future__ import annotations

import numpy as np
import pytest

from shopguard.modelsec.extraction import (
    ExtractionMonitor,
    Level,
    StreamState,
    recommendation_observation,
)
from shopguard.redteam import attacks
from shopguard.redteam.rec_extraction import (
    REC_FAMILIES,
    RecExtractionTarget,
    copy_fidelity,
    customer_id,
    enumeration_ids,
    run_rec_extraction,
)

N = 300


class _Victim:
    """Each customer's own top-10 out of 200 items; the monitor decides first, as the guard does."""

    def __init__(self, monitor: ExtractionMonitor | None) -> None:
        self.monitor, self.state, self.n, self.alarm = monitor, StreamState(), 0, None

    @staticmethod
    def lists(cid: str) -> list[str]:
        rng = np.random.default_rng(int(cid[1:]))
        return [f"P{int(i)}" for i in rng.choice(200, size=10, replace=False)]

    def recommend(self, cid: str, k: int) -> tuple[int, list[str] | None]:
        if not 1 <= int(cid[1:]) <= N:
            return 404, None
        self.n += 1
        if self.monitor is not None:
            obs = recommendation_observation({"customer_id": cid, "k": k})
            level = self.monitor.observe_sync(self.state, obs)
            if level >= Level.ALERT and self.alarm is None:
                self.alarm = self.n
            if level >= Level.BLOCK:
                return 403, None
        return 200, self.lists(cid)[:k]


def _test_set() -> tuple[list[str], list[list[str]]]:
    ids = [customer_id(i) for i in range(1, N + 1, 7)]
    return ids, [_Victim.lists(c) for c in ids]


@pytest.mark.parametrize("family", REC_FAMILIES)
def test_rec_extraction_when_unguarded_then_copied_and_guarded_then_blocked_early(
    family: str,
) -> None:
    ids, lists = _test_set()
    benign = customer_id(5)
    free = run_rec_extraction(
        family,
        _Victim(None),
        id_space=N,
        test_customers=ids,
        victim_lists=lists,
        benign=benign,
        limit=400,
    )
    assert free.blocked_at is None and free.fidelity_at_stop > 0.6
    guarded = _Victim(ExtractionMonitor())
    r = run_rec_extraction(
        family,
        guarded,
        id_space=N,
        test_customers=ids,
        victim_lists=lists,
        benign=benign,
        alarm=lambda: guarded.alarm,
        limit=400,
    )
    assert r.blocked_at is not None and r.blocked_at <= 60
    assert r.alarm_at is not None and r.alarm_at <= 20
    assert r.fidelity_at_stop < 0.2 and r.harvested <= 40


def test_rec_monitor_when_customer_reads_own_recommendations_then_never_flagged() -> None:
    monitor = ExtractionMonitor()
    for i in range(1, 60):
        state = StreamState()
        for k in (10, 10, 20, 10) * 15:  # 60 reads: past PRADA's minimum sample
            obs = recommendation_observation({"customer_id": customer_id(i), "k": k})
            assert monitor.observe_sync(state, obs) is Level.OK


def test_copy_fidelity_when_nothing_harvested_then_zero_and_full_harvest_then_one() -> None:
    ids, lists = _test_set()
    assert copy_fidelity({}, ids, lists, k=10) == 0.0
    assert copy_fidelity(dict(zip(ids, lists, strict=True)), ids, lists, k=10) == 1.0


def test_enumeration_ids_when_camouflaged_then_every_other_request_is_the_benign_customer() -> None:
    gen = enumeration_ids(
        "camouflaged", id_space=50, rng=np.random.default_rng(0), benign="C000007"
    )
    got = [next(gen) for _ in range(20)]
    assert got[1::2] == ["C000007"] * 10 and len(set(got[::2])) == 10
    with pytest.raises(ValueError):
        next(enumeration_ids("other", id_space=5, rng=np.random.default_rng(0)))


def test_rec_attacks_when_registered_then_run_against_a_target() -> None:
    ids, lists = _test_set()
    target = RecExtractionTarget(
        api=_Victim(ExtractionMonitor()), id_space=N, test_customers=ids, victim_lists=lists
    )
    finding = attacks.get("rec_extraction.sequential")().run(target)
    assert finding.passed and finding.details["blocked_at"] is not None
    open_target = RecExtractionTarget(
        api=_Victim(None), id_space=N, test_customers=ids, victim_lists=lists
    )
    assert not attacks.get("rec_extraction.shuffled")().run(open_target).passed
