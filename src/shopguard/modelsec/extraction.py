"""Extraction detection: watch each client's stream of queries and answer alert -> degrade -> block.

A model is stolen by querying it many times across its input space. Each
client's stream (API key and client address) is summarised by a bounded state
and four signals:

``prada``
    PRADA (Juuti et al. 2019): the minimum L2 distance of each new query to the
    client's earlier queries ("growing set"); benign streams give roughly normal
    distances, synthetic attacks (Jacobian augmentation, small perturbations) do
    not. Shapiro-Wilk ``W`` below ``prada_delta`` trips it.
``coverage``
    How many distinct cells of a coarse grid over the input space the client has
    visited. A shopper's transactions cluster; random or natural-distribution
    queries (KnockoffNets / Copycat style, which PRADA misses) spread out.
``identity``
    Many distinct customers (fraud scoring, recommendations) behind one client,
    increasing customer ids (enumeration), or one customer whose *signup day*
    (timestamp minus account age) keeps changing -- a real customer has one.
``budget``
    A hard per-client query budget per window.

Each signal has an alert level; the stream's level is the highest reached and
only ever rises within a window: ``ok`` -> ``alert`` (alert raised, outputs
still exact) -> ``degrade`` (coarser scores, top-k only) -> ``block`` (403).

State lives in process memory by default, or in Redis (one GET and one SET per
query, TTL = window) so every gateway worker sees the same streams.

References
----------
Juuti, Szyller, Marchal, Asokan, "PRADA: Protecting against DNN model stealing
attacks", IEEE EuroS&P 2019. Orekondy, Schiele, Fritz, "Knockoff Nets", CVPR 2019.
Tramèr et al., "Stealing machine learning models via prediction APIs", USENIX
Security 2016. Kesarwani et al., "Model extraction warning in MLaaS paradigm",
ACSAC 2018 (coverage of the input space).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "ExtractionConfig",
    "ExtractionMonitor",
    "Level",
    "MemoryStateStore",
    "Observation",
    "RedisStateStore",
    "StreamState",
    "Verdict",
    "fraud_observation",
    "recommendation_observation",
]

Clock = Callable[[], float]


class Level(IntEnum):
    OK = 0
    ALERT = 1
    DEGRADE = 2
    BLOCK = 3


@dataclass(frozen=True)
class ExtractionConfig:
    """Thresholds (defaults calibrated on bench/extraction.py; see bench/results/extraction.md)."""

    window_s: float = 86_400.0
    budget: int = 150
    prada_min: int = 20
    prada_delta: float = 0.90
    growing_set_max: int = 400
    coverage_alert: int = 24
    coverage_block: int = 48
    customers_alert: int = 4
    customers_block: int = 12
    signup_days_alert: int = 3
    enumeration_run: int = 8
    degrade_after: int = 10
    block_after: int = 30


@dataclass(frozen=True)
class Observation:
    """One query as the detector sees it: a feature vector, a coverage cell, identities."""

    vector: tuple[float, ...]
    cell: str
    customer: str | None = None
    signup_day: int | None = None
    numeric_id: int | None = None


@dataclass
class StreamState:
    """Bounded per-client state (serialisable for Redis)."""

    started: float = 0.0
    n: int = 0
    growing: list[list[float]] = field(default_factory=list)
    dmins: list[float] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    signups: dict[str, list[int]] = field(default_factory=dict)
    last_id: int | None = None
    run: int = 0
    max_run: int = 0
    level: int = 0
    alert_at: int | None = None
    reasons: list[str] = field(default_factory=list)

    def dumps(self) -> bytes:
        return json.dumps(self.__dict__, separators=(",", ":")).encode()

    @classmethod
    def loads(cls, raw: bytes | str | None) -> StreamState:
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            return cls(**data)
        except (ValueError, TypeError):
            return cls()


@dataclass(frozen=True)
class Verdict:
    level: Level
    reasons: tuple[str, ...]
    queries: int
    changed: bool


class MemoryStateStore:
    """Per-process state (the default)."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    async def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._data.get(key)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        with self._lock:
            self._data[key] = value


class RedisStateStore:
    """State shared by every gateway worker (one GET and one SET per query)."""

    def __init__(self, url: str, *, prefix: str = "shopguard:extraction:") -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(self._prefix + key)
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._redis.set(self._prefix + key, value, px=max(1, int(ttl_s * 1000)))

    async def close(self) -> None:
        await self._redis.aclose()


class ExtractionMonitor:
    """Scores each client's query stream; one :meth:`observe` per query.

    Parameters
    ----------
    config:
        Thresholds.
    store:
        Where stream state lives (:class:`MemoryStateStore` or :class:`RedisStateStore`).
    clock:
        Injectable monotonic-ish wall clock in seconds.
    """

    def __init__(
        self,
        *,
        config: ExtractionConfig | None = None,
        store: MemoryStateStore | RedisStateStore | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.config = config or ExtractionConfig()
        self.store = store or MemoryStateStore()
        self._clock = clock

    async def observe(self, stream: str, obs: Observation) -> Verdict:
        """Add one query of ``stream`` and return the stream's level after it."""
        raw = await self.store.get(stream)
        state = StreamState.loads(raw)
        now = self._clock()
        if state.n == 0 or now - state.started > self.config.window_s:
            state = StreamState(started=now)
        before = state.level
        update(state, obs, self.config)
        await self.store.set(stream, state.dumps(), self.config.window_s)
        return Verdict(Level(state.level), tuple(state.reasons), state.n, state.level != before)

    def observe_sync(self, state: StreamState, obs: Observation) -> Level:
        """The same decision on a caller-held state (benchmarks replay thousands of sessions)."""
        update(state, obs, self.config)
        return Level(state.level)


def _shapiro_w(values: list[float]) -> float:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size < 3 or float(np.ptp(arr)) == 0.0:
        return 0.0  # identical distances: as far from normal as it gets
    return float(stats.shapiro(arr).statistic)


def update(state: StreamState, obs: Observation, cfg: ExtractionConfig) -> None:
    """Fold one observation into ``state`` and raise its level as the signals say."""
    state.n += 1
    x = np.asarray(obs.vector, dtype=np.float64)
    # PRADA: minimum distance to the growing set; points far enough join the set.
    if state.growing:
        g = np.asarray(state.growing, dtype=np.float64)
        d = float(np.sqrt(((g - x) ** 2).sum(axis=1)).min())
        state.dmins.append(round(d, 6))
        if len(state.dmins) > 4 * cfg.growing_set_max:
            state.dmins = state.dmins[-4 * cfg.growing_set_max :]
        arr = np.asarray(state.dmins)
        if d > float(arr.mean() - arr.std()) and len(state.growing) < cfg.growing_set_max:
            state.growing.append([round(v, 6) for v in x.tolist()])
    else:
        state.growing.append([round(v, 6) for v in x.tolist()])
    if obs.cell not in state.cells and len(state.cells) < 4 * cfg.coverage_block:
        state.cells.append(obs.cell)
    if obs.customer is not None:
        if obs.customer not in state.customers and len(state.customers) < 4 * cfg.customers_block:
            state.customers.append(obs.customer)
        if obs.signup_day is not None:
            days = state.signups.setdefault(obs.customer, [])
            if obs.signup_day not in days and len(days) < 16:
                days.append(obs.signup_day)
    if obs.numeric_id is not None:
        if state.last_id is not None and 0 < obs.numeric_id - state.last_id <= 3:
            state.run += 1
        else:
            state.run = 0
        state.last_id = obs.numeric_id
        state.max_run = max(state.max_run, state.run)

    level = Level.OK
    reasons: list[str] = []

    def trip(to: Level, reason: str) -> None:
        nonlocal level
        reasons.append(reason)
        level = max(level, to)

    if state.n >= cfg.budget:
        trip(Level.BLOCK, "budget")
    # PRADA needs a real input space: a one-feature stream (the recommender's page size) has
    # identical distances for every honest shopper, which would read as "synthetic".
    if (
        len(x) > 1
        and len(state.dmins) >= cfg.prada_min
        and _shapiro_w(state.dmins) < cfg.prada_delta
    ):
        trip(Level.ALERT, "prada")
    if len(state.cells) >= cfg.coverage_block:
        trip(Level.BLOCK, "coverage")
    elif len(state.cells) >= cfg.coverage_alert:
        trip(Level.ALERT, "coverage")
    if len(state.customers) >= cfg.customers_block:
        trip(Level.BLOCK, "customers")
    elif len(state.customers) >= cfg.customers_alert:
        trip(Level.ALERT, "customers")
    if any(len(v) >= cfg.signup_days_alert for v in state.signups.values()):
        trip(Level.ALERT, "inconsistent_customer")
    if state.max_run >= cfg.enumeration_run:
        trip(Level.ALERT, "enumeration")
    if len(reasons) >= 2:
        level = max(level, Level.DEGRADE)
    if level >= Level.ALERT and state.alert_at is None:
        state.alert_at = state.n
    if state.alert_at is not None:
        since = state.n - state.alert_at
        if since >= cfg.block_after:
            level = Level.BLOCK
        elif since >= cfg.degrade_after:
            level = max(level, Level.DEGRADE)
    state.level = max(state.level, int(level))
    for r in reasons:
        if r not in state.reasons:
            state.reasons.append(r)


# -- observations per route ------------------------------------------------------------------------

_AMOUNT_EDGES = np.array([5, 15, 30, 60, 120, 250, 600], dtype=np.float64)
_AGE_EDGES = np.array([7, 30, 90, 365, 1095, 3650], dtype=np.float64)


def fraud_observation(body: Mapping[str, Any]) -> Observation:
    """Features of a fraud-scoring request: what an extraction attacker must vary."""
    amount = float(body.get("amount", 0.0))
    age = float(body.get("account_age_days", 365))
    ts = body.get("timestamp")
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    hour = ts.hour + ts.minute / 60 if isinstance(ts, datetime) else 12.0
    flags = [
        float(bool(body.get(k, False)))
        for k in ("device_is_new", "ship_bill_mismatch", "ip_country_mismatch", "card_present")
    ]
    vector = (
        min(math.log1p(max(amount, 0.0)) / math.log1p(10_000.0), 1.5),
        min(math.log1p(max(age, 0.0)) / math.log1p(3650.0), 1.5),
        math.sin(2 * math.pi * hour / 24) / 2,
        math.cos(2 * math.pi * hour / 24) / 2,
        *flags,
    )
    cell = "{}.{}.{}".format(
        int(np.searchsorted(_AMOUNT_EDGES, amount)),
        int(np.searchsorted(_AGE_EDGES, age)),
        "".join(str(int(f)) for f in flags),
    )
    signup = None
    if isinstance(ts, datetime):
        signup = int(ts.timestamp() // 86_400 - age)
    customer = body.get("customer_id")
    return Observation(vector, cell, str(customer) if customer is not None else None, signup)


def _numeric_tail(text: str) -> int | None:
    digits = ""
    for ch in reversed(text):
        if not ch.isdigit():
            break
        digits = ch + digits
    return int(digits) if digits else None


def recommendation_observation(body: Mapping[str, Any]) -> Observation:
    """Features of a recommendation request: whose recommendations, in which order."""
    customer = str(body.get("customer_id", ""))
    k = float(body.get("k", 10))
    return Observation(
        (k / 50.0,),
        f"k{int(k)}",
        customer,
        None,
        _numeric_tail(customer),
    )
