"""Shilling (recommender poisoning) detection for implicit-feedback shopping sessions.

Attackers inject fake profiles (accounts or sessions) that interact with a
target product plus *filler* products chosen to look normal, so the
recommender learns to recommend the target (push) -- the classic attacks,
adapted to implicit feedback:

* **random**: fillers drawn uniformly from the catalogue;
* **average**: fillers drawn by popularity (the implicit analogue of rating
  fillers at each item's mean);
* **bandwagon**: fillers from the most popular products;
* **segment**: fillers from the products bought with the target's segment.

:class:`ShillingDetector` scores each profile from features that genuine
shoppers and injected profiles differ on: length, mean and spread of item
popularity, share of head items, coherence of consecutive items (genuine
sessions follow co-purchase structure, fillers do not), similarity to the most
similar other profiles (attack profiles are built from one recipe) and how
concentrated the batch is on the profile's rarest item (the target). A
gradient-boosted model is trained on attacks it injects itself into the clean
history (all four kinds, varied sizes and filler counts), so no labelled
attacks are needed from the store.

References
----------
.. [1] Burke, Mobasher, Williams, Bhaumik, "Classification features for attack
   detection in collaborative recommender systems", KDD 2006.
.. [2] Chirita, Nejdl, Zamfir, "Preventing shilling attacks in online recommender
   systems", WIDM 2005.
.. [3] Mobasher, Burke, Bhaumik, Williams, "Toward trustworthy recommender
   systems: an analysis of attack models and algorithm robustness", ACM TOIT 2007.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier

from shopguard.core.errors import DataValidationError, ModelError

__all__ = ["AttackKind", "ShillingDetector", "inject_attack", "target_exposure"]

Sequences = Mapping[str, Sequence[str]]


class AttackKind(StrEnum):
    RANDOM = "random"
    AVERAGE = "average"
    BANDWAGON = "bandwagon"
    SEGMENT = "segment"


def inject_attack(
    sequences: Sequences,
    target: str,
    *,
    kind: AttackKind,
    n_profiles: int,
    n_filler: int = 8,
    rng: np.random.Generator,
    prefix: str = "ATK",
) -> dict[str, list[str]]:
    """Fake profiles pushing ``target`` (keys ``<prefix>-<n>``), built from ``sequences``."""
    counts = Counter(i for seq in sequences.values() for i in seq)
    items = np.array(sorted(counts))
    pop = np.array([counts[i] for i in items], dtype=float)
    head = items[np.argsort(-pop)[: max(10, len(items) // 50)]]
    segment_users = [s for s in sequences.values() if target in s]
    segment = Counter(i for s in segment_users for i in s if i != target)
    seg_items = np.array([i for i, _ in segment.most_common(50)] or list(head))
    out: dict[str, list[str]] = {}
    for n in range(n_profiles):
        k = max(1, int(rng.integers(max(1, n_filler // 2), n_filler + 1)))
        if kind is AttackKind.RANDOM:
            filler = rng.choice(items, size=k, replace=False)
        elif kind is AttackKind.AVERAGE:
            filler = rng.choice(items, size=k, replace=False, p=pop / pop.sum())
        elif kind is AttackKind.BANDWAGON:
            filler = rng.choice(head, size=min(k, len(head)), replace=False)
        else:
            filler = rng.choice(seg_items, size=min(k, len(seg_items)), replace=False)
        seq = [str(i) for i in filler]
        seq.insert(int(rng.integers(0, len(seq) + 1)), target)
        out[f"{prefix}-{n:05d}"] = seq
    return out


def target_exposure(recommend_lists: Sequence[Sequence[str]], target: str) -> float:
    """Share of recommendation lists that contain ``target``."""
    if not recommend_lists:
        return 0.0
    return float(np.mean([target in r for r in recommend_lists]))


class _Stats:
    """Item popularity and co-occurrence of the clean history (the detector's reference)."""

    def __init__(self, sequences: Sequences) -> None:
        counts = Counter(i for seq in sequences.values() for i in set(seq))
        self.items = sorted(counts)
        self.index = {i: n for n, i in enumerate(self.items)}
        self.n_users = max(1, len(sequences))
        self.pop = np.array([counts[i] for i in self.items], dtype=float)
        self.head = set(
            np.array(self.items)[np.argsort(-self.pop)[: max(10, len(self.items) // 50)]]
        )
        rows, cols = [], []
        for u, seq in enumerate(sequences.values()):
            for i in set(seq):
                rows.append(u)
                cols.append(self.index[i])
        x = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(self.n_users, len(self.items)))
        self.co = (x.T @ x).tocsr()


def _features(stats: _Stats, profiles: Sequences) -> NDArray[np.float64]:
    keys = list(profiles)
    sets = [set(profiles[k]) for k in keys]
    # Batch-level: how many profiles of this batch contain each item.
    batch = Counter(i for s in sets for i in s)
    n_batch = max(1, len(sets))
    # Profile-profile similarity within the batch (Jaccard on item sets, top-5 mean).
    vocab = {i: n for n, i in enumerate(batch)}
    rows = [r for r, s in enumerate(sets) for _ in s]
    cols = [vocab[i] for s in sets for i in s]
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(sets), len(vocab)))
    sizes = np.asarray(m.sum(axis=1)).ravel()
    sim_top = np.zeros(len(sets))
    for lo in range(0, len(sets), 2000):
        inter = (m[lo : lo + 2000] @ m.T).toarray()
        union = sizes[lo : lo + 2000, None] + sizes[None, :] - inter
        jac = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
        for r in range(jac.shape[0]):
            jac[r, lo + r] = 0.0
        k = min(5, max(1, jac.shape[1] - 1))
        sim_top[lo : lo + 2000] = -np.sort(-jac, axis=1)[:, :k].mean(axis=1)
    feats = []
    for n, k in enumerate(keys):
        seq = [i for i in profiles[k]]
        known = [stats.index[i] for i in seq if i in stats.index]
        logpop = np.log1p(stats.pop[known]) if known else np.zeros(1)
        coh = []
        for a, b in itertools.pairwise(seq):
            ia, ib = stats.index.get(a), stats.index.get(b)
            if ia is None or ib is None:
                coh.append(0.0)
                continue
            pmi = stats.co[ia, ib] * stats.n_users / max(1.0, stats.pop[ia] * stats.pop[ib])
            coh.append(np.log1p(pmi))
        rare = min(sets[n], key=lambda i: stats.pop[stats.index[i]] if i in stats.index else 0)
        feats.append(
            [
                np.log1p(len(seq)),
                float(logpop.mean()),
                float(logpop.std()),
                float(np.mean([i in stats.head for i in seq])) if seq else 0.0,
                float(np.mean(coh)) if coh else 0.0,
                sim_top[n],
                np.log1p(batch[rare])
                - np.log1p(n_batch * stats.pop[stats.index[rare]] / stats.n_users)
                if rare in stats.index
                else np.log1p(batch[rare]),
                float(len(known) < len(seq)),
            ]
        )
    return np.asarray(feats, dtype=np.float64)


class ShillingDetector:
    """Score profiles (user or session item lists) for being injected shills.

    Parameters
    ----------
    attacks_per_kind:
        Simulated attacks per kind used for training.
    threshold:
        Profiles at or above are flagged.
    random_state:
        Seed of the simulated attacks and the model.
    """

    def __init__(
        self, *, attacks_per_kind: int = 6, threshold: float = 0.5, random_state: int = 0
    ) -> None:
        self.attacks_per_kind = attacks_per_kind
        self.threshold = threshold
        self.random_state = random_state

    def fit(self, sequences: Sequences) -> Self:
        """Learn from the clean history ``sequences`` (user -> items) and simulated attacks on it."""
        if len(sequences) < 20:
            raise DataValidationError("need at least 20 profiles to learn from")
        rng = np.random.default_rng(self.random_state)
        self.stats_ = _Stats(sequences)
        keys = list(sequences)
        xs, ys = [], []
        tail = np.array(self.stats_.items)[
            np.argsort(self.stats_.pop)[: max(20, len(self.stats_.items) // 2)]
        ]
        for kind in AttackKind:
            for _ in range(self.attacks_per_kind):
                sample = rng.choice(len(keys), size=min(len(keys), 600), replace=False)
                batch: dict[str, list[str]] = {f"U{j}": list(sequences[keys[j]]) for j in sample}
                target = str(rng.choice(tail))
                n_att = int(rng.integers(5, 40))
                batch.update(
                    inject_attack(
                        sequences,
                        target,
                        kind=kind,
                        n_profiles=n_att,
                        n_filler=int(rng.integers(3, 15)),
                        rng=rng,
                    )
                )
                xs.append(_features(self.stats_, batch))
                ys.append(np.array([k.startswith("ATK") for k in batch], dtype=np.int64))
        self.model_ = HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.05, random_state=self.random_state
        ).fit(np.vstack(xs), np.concatenate(ys))
        return self

    def risk_score(self, profiles: Sequences) -> NDArray[np.float64]:
        """Probability that each profile of a batch (e.g. a day's new profiles + sample) is a shill."""
        if not hasattr(self, "model_"):
            raise ModelError("shilling detector is not fitted")
        if not profiles:
            return np.zeros(0)
        return np.asarray(self.model_.predict_proba(_features(self.stats_, profiles))[:, 1])

    def flag(self, profiles: Sequences) -> NDArray[np.bool_]:
        return np.asarray(self.risk_score(profiles) >= self.threshold)
