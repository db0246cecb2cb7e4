from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from shopguard.integrity.shilling import (
    AttackKind,
    ShillingDetector,
    inject_attack,
    target_exposure,
)
from shopguard.store.generate import generate_store
from shopguard.store.recommender import order_sequences, train_recommender


@pytest.fixture(scope="module")
def sequences() -> dict[str, list[str]]:
    return order_sequences(generate_store(seed=21, customers=800).orders)


def test_shilling_when_push_attack_then_detector_removes_target_from_top10(sequences) -> None:
    rng = np.random.default_rng(0)
    counts = Counter(i for s in sequences.values() for i in s)
    target = [i for i, _ in counts.most_common()][-1]
    attack = inject_attack(sequences, target, kind=AttackKind.BANDWAGON, n_profiles=25, rng=rng)
    poisoned = {**sequences, **attack}
    params = train_recommender(sequences, random_state=0).params
    users = list(sequences)[:200]

    attacked = train_recommender(poisoned, params=params)
    before = target_exposure([attacked.recommend(u, 10) for u in users], target)
    assert before > 0.1  # the attack works without the defence

    det = ShillingDetector(attacks_per_kind=3, random_state=0).fit(sequences)
    flagged = det.flag(poisoned)
    is_attack = np.array([k in attack for k in poisoned])
    assert flagged[is_attack].mean() >= 0.9 and flagged[~is_attack].mean() <= 0.02
    kept = {k: v for (k, v), f in zip(poisoned.items(), flagged, strict=True) if not f}
    defended = train_recommender(kept, params=params)
    assert target_exposure([defended.recommend(u, 10) for u in users], target) < 0.02


@pytest.mark.parametrize("kind", list(AttackKind))
def test_inject_attack_when_kind_then_every_profile_holds_target(sequences, kind) -> None:
    rng = np.random.default_rng(1)
    target = next(iter(sequences.values()))[0]
    attack = inject_attack(sequences, target, kind=kind, n_profiles=5, n_filler=6, rng=rng)
    assert len(attack) == 5 and all(target in s and 2 <= len(s) <= 7 for s in attack.values())
