"""Recommender extraction: enumerate customers through ``GET /v1/recommendations/{id}``.

A thief with a key that may read recommendations walks the customer-id space and
keeps every customer's top-k list: the copy answers a harvested customer with the
harvested list and anyone else with the most frequent items across the harvest
(Tramèr et al. 2016's "retraining" on API outputs, for a recommender whose only
input is the customer id). Three families:

``rec_extraction.sequential``
    Customer ids in increasing order from a random start (``C000123``, ``C000124`` ...).
``rec_extraction.shuffled``
    The same id space in random order (no increasing run to spot).
``rec_extraction.camouflaged``
    Shuffled enumeration interleaved 1:1 with requests for one real customer's own
    recommendations.

Fidelity of the copy is the mean top-k overlap with the victim's lists over a random
sample of customers (harvested or not); a copy from popularity alone is the floor.

References
----------
Tramèr et al., "Stealing machine learning models via prediction APIs", USENIX
Security 2016. Yue et al., "Black-box attacks on sequential recommenders via
data-free model extraction", RecSys 2021.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from shopguard.core.scorecard import Area
from shopguard.redteam._registry import Attack, Finding, attacks

__all__ = [
    "REC_FAMILIES",
    "HttpRecTarget",
    "RecAttackRun",
    "RecExtractionTarget",
    "RecTarget",
    "copy_fidelity",
    "enumeration_ids",
    "run_rec_extraction",
]

REC_FAMILIES = ("sequential", "shuffled", "camouflaged")


class RecTarget(Protocol):
    def recommend(self, customer_id: str, k: int) -> tuple[int, list[str] | None]: ...


def customer_id(i: int) -> str:
    """The store's customer-id format (``C000001``)."""
    return f"C{i:06d}"


def enumeration_ids(
    family: str, *, id_space: int, rng: np.random.Generator, benign: str | None = None
) -> Iterator[str]:
    """Endless stream of customer ids a family requests (ids 1..``id_space``)."""
    if family not in REC_FAMILIES:
        raise ValueError(f"unknown recommender extraction family {family}")
    if family == "sequential":
        start = int(rng.integers(1, id_space + 1))
        i = 0
        while True:
            yield customer_id((start + i - 1) % id_space + 1)
            i += 1
    order = rng.permutation(id_space) + 1
    i = 0
    while True:
        if family == "camouflaged" and benign is not None and i % 2 == 1:
            yield benign
        else:
            yield customer_id(int(order[(i // (2 if family == "camouflaged" else 1)) % id_space]))
        i += 1


def copy_fidelity(
    harvest: dict[str, list[str]],
    test_customers: Sequence[str],
    victim_lists: Sequence[Sequence[str]],
    *,
    k: int,
) -> float:
    """Mean top-``k`` overlap between the thief's copy and the victim on ``test_customers``."""
    counts: Counter[str] = Counter(item for items in harvest.values() for item in items)
    fallback = [item for item, _ in counts.most_common(k)]
    overlaps = []
    for c, truth in zip(test_customers, victim_lists, strict=True):
        guess = harvest.get(c, fallback)[:k]
        overlaps.append(len(set(guess) & set(truth[:k])) / max(1, min(k, len(truth))))
    return float(np.mean(overlaps)) if overlaps else 0.0


@dataclass
class RecAttackRun:
    family: str
    queries: int
    alarm_at: int | None
    blocked_at: int | None
    harvested: int
    fidelity_at_alarm: float | None
    fidelity_at_stop: float


def run_rec_extraction(
    family: str,
    target: RecTarget,
    *,
    id_space: int,
    test_customers: Sequence[str],
    victim_lists: Sequence[Sequence[str]],
    benign: str | None = None,
    alarm: Callable[[], int | None] | None = None,
    k: int = 10,
    limit: int = 400,
    seed: int = 0,
) -> RecAttackRun:
    """Enumerate until refused (403) or ``limit`` queries; measure the copy at alarm and stop.

    Unknown ids (404) count as spent queries. ``alarm`` reports the query number at which
    the target raised its first alert (benchmarks); the copy at alarm is what had been
    harvested by then.
    """
    rng = np.random.default_rng(seed)
    harvest: dict[str, list[str]] = {}
    order: list[tuple[int, str]] = []
    blocked_at = None
    n = 0
    for cid in enumeration_ids(family, id_space=id_space, rng=rng, benign=benign):
        n += 1
        status, items = target.recommend(cid, k)
        if status == 403:
            blocked_at = n
            break
        if status == 200 and items is not None and cid not in harvest and cid != benign:
            harvest[cid] = list(items)
            order.append((n, cid))
        if n >= limit:
            break
    alarm_at = alarm() if alarm is not None else None
    fid_alarm = None
    if alarm_at is not None:
        early = {c: harvest[c] for q, c in order if q <= alarm_at}
        fid_alarm = copy_fidelity(early, test_customers, victim_lists, k=k)
    fid_stop = copy_fidelity(harvest, test_customers, victim_lists, k=k)
    return RecAttackRun(family, n, alarm_at, blocked_at, len(harvest), fid_alarm, fid_stop)


class HttpRecTarget:
    """The live recommendations API with an API key."""

    def __init__(self, client: Any, key: str) -> None:
        self._client = client
        self._key = key

    def recommend(self, customer_id: str, k: int) -> tuple[int, list[str] | None]:
        resp = self._client.get(
            f"/v1/recommendations/{customer_id}", params={"k": k}, headers={"X-API-Key": self._key}
        )
        if resp.status_code != 200:
            return resp.status_code, None
        return 200, [str(p) for p in resp.json()["products"]]


@dataclass(frozen=True)
class RecExtractionTarget:
    """What the registered attacks need: the API, the id space and the victim's test lists."""

    api: RecTarget
    id_space: int
    test_customers: list[str]
    victim_lists: list[list[str]]
    benign: str | None = None
    limit: int = 400


class _RecExtractionAttack(Attack):
    area: ClassVar[Area] = Area.MODEL_THEFT
    control: ClassVar[str] = "modelsec.extraction_watch"
    # Not a fidelity bar: the popular list alone overlaps ~0.67-0.73 of a customer's top-10
    # in the synthetic stores, so overlap barely moves; customers copied is the harm.
    bar: ClassVar[str] = "blocked with at most 50 customers' recommendations copied"
    family: ClassVar[str]
    max_copied: ClassVar[int] = 50

    def run(self, target: RecExtractionTarget) -> Finding:
        r = run_rec_extraction(
            self.family,
            target.api,
            id_space=target.id_space,
            test_customers=target.test_customers,
            victim_lists=target.victim_lists,
            benign=target.benign,
            limit=target.limit,
        )
        stopped = r.blocked_at is not None
        return Finding(
            attack=self.name,
            control=self.control,
            figure="customers_copied",
            value=float(r.harvested),
            bar=float(self.max_copied),
            passed=stopped and r.harvested <= self.max_copied,
            details={
                "blocked_at": r.blocked_at,
                "customers_harvested": r.harvested,
                "fidelity_at_stop": r.fidelity_at_stop,
            },
        )


@attacks.register
class SequentialEnumeration(_RecExtractionAttack):
    """Walk customer ids in order and keep every customer's recommendations."""

    name = "rec_extraction.sequential"
    family = "sequential"
    references = (
        "https://www.usenix.org/conference/usenixsecurity16/technical-sessions/presentation/tramer",
    )


@attacks.register
class ShuffledEnumeration(_RecExtractionAttack):
    """Customer ids in random order (no increasing run to spot)."""

    name = "rec_extraction.shuffled"
    family = "shuffled"
    references = ("https://arxiv.org/abs/2109.01165",)


@attacks.register
class CamouflagedEnumeration(_RecExtractionAttack):
    """Shuffled enumeration mixed 1:1 with one real customer's own requests."""

    name = "rec_extraction.camouflaged"
    family = "camouflaged"
    references = ("https://arxiv.org/abs/2109.01165",)
