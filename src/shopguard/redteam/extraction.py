"""Model-extraction attacks on the fraud scorer through its API.

Four families, each a query generator plus a surrogate trained on the scores the
API returns:

``extraction.equation_solving``
    Uniform random queries over the input box, surrogate regressed on returned
    scores (Tramèr et al., USENIX Security 2016, "retraining" attack).
``extraction.jacobian``
    Papernot et al. (AsiaCCS 2017): a few real seed transactions, then rounds of
    Jacobian-based augmentation ``x + λ·sign(∇ surrogate)``.
``extraction.knockoff``
    Natural-distribution queries: real-looking transactions of many customers
    drawn from the attacker's own data (Orekondy et al., Knockoff Nets, CVPR 2019;
    Correia-Silva et al., Copycat CNN, 2018). PRADA misses these.
``extraction.camouflaged``
    Knockoff queries interleaved 1:1 with a real customer's ordinary transactions.

A target is anything with ``score(body) -> (status, score | None)``; the HTTP
target wraps a live gateway. Each attack stops when blocked (HTTP 403) or at its
query limit and reports queries to alarm / to block and the surrogate's decision
agreement with the victim on held-out real transactions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from shopguard.core.scorecard import Area
from shopguard.redteam._registry import Attack, Finding, attacks

__all__ = [
    "ADAPTIVE_FAMILIES",
    "FAMILIES",
    "AttackRun",
    "ExtractionTarget",
    "HttpFraudTarget",
    "ScoreTarget",
    "attack_queries",
    "body_features",
    "decision",
    "legit_sessions",
    "longest_legit_session",
    "run_extraction",
    "steal_surrogate",
]

_START = datetime(2025, 6, 1, 9, 0, 0)


class ScoreTarget(Protocol):
    def score(self, body: dict[str, Any]) -> tuple[int, float | None]: ...


def decision(score: float) -> int:
    """The fraud route's decision band: 0 approve, 1 review, 2 decline."""
    return 2 if score >= 0.8 else 1 if score >= 0.3 else 0


def body_features(bodies: Sequence[dict[str, Any]]) -> NDArray[np.float64]:
    """What an attacker's surrogate sees: the request's own fields."""
    rows = []
    for b in bodies:
        ts = datetime.fromisoformat(str(b["timestamp"]))
        rows.append(
            [
                math.log1p(float(b["amount"])),
                math.log1p(float(b["account_age_days"])),
                ts.hour + ts.minute / 60,
                float(b["device_is_new"]),
                float(b["ship_bill_mismatch"]),
                float(b["ip_country_mismatch"]),
                float(b.get("card_present", False)),
            ]
        )
    return np.asarray(rows, dtype=np.float64)


def tx_body(row: Any, n: int = 0) -> dict[str, Any]:
    """A fraud-API request body from a store transaction row."""
    return {
        "transaction_id": f"t{row['TRANSACTION_ID']}-{n}",
        "customer_id": str(row["CUSTOMER_ID"]),
        "terminal_id": str(row["TERMINAL_ID"]),
        "amount": float(row["TX_AMOUNT"]),
        "timestamp": pd.Timestamp(row["TX_DATETIME"]).isoformat(),
        "device_is_new": bool(row["device_is_new"]),
        "ship_bill_mismatch": bool(row["ship_bill_mismatch"]),
        "ip_country_mismatch": bool(row["ip_country_mismatch"]),
        "account_age_days": int(row["account_age_days"]),
        "card_present": bool(row.get("card_present", False)),
    }


def legit_sessions(transactions: pd.DataFrame) -> Iterator[list[dict[str, Any]]]:
    """Each customer's transactions in time order: one legitimate client session."""
    tx = transactions.sort_values("TX_DATETIME")
    for _, group in tx.groupby("CUSTOMER_ID", sort=False):
        yield [tx_body(r) for r in group.to_dict("records")]


def longest_legit_session(transactions: pd.DataFrame) -> list[dict[str, Any]]:
    """The session of :func:`legit_sessions` with the most transactions (the first such)."""
    tx = transactions.sort_values("TX_DATETIME")
    sizes = tx.groupby("CUSTOMER_ID", sort=False).size()
    if sizes.empty:
        return []
    rows = tx[tx["CUSTOMER_ID"] == sizes.idxmax()]
    return [tx_body(r) for r in rows.to_dict("records")]


def _random_body(
    rng: np.random.Generator, i: int, *, customer: str, terminal: str
) -> dict[str, Any]:
    ts = _START + timedelta(minutes=int(i) * 7)
    return {
        "transaction_id": f"eq{i}",
        "customer_id": customer,
        "terminal_id": terminal,
        "amount": round(float(np.exp(rng.uniform(0, math.log(3000)))), 2),
        "timestamp": ts.replace(hour=int(rng.integers(0, 24))).isoformat(),
        "device_is_new": bool(rng.random() < 0.5),
        "ship_bill_mismatch": bool(rng.random() < 0.5),
        "ip_country_mismatch": bool(rng.random() < 0.5),
        "account_age_days": int(rng.integers(0, 3650)),
        "card_present": bool(rng.random() < 0.5),
    }


def _jacobian_bodies(
    rng: np.random.Generator,
    seeds: list[dict[str, Any]],
    scores: Callable[[list[dict[str, Any]]], list[float | None]],
    limit: int,
) -> Iterator[tuple[dict[str, Any], float | None]]:
    """Papernot's augmentation on a linear surrogate of the returned scores."""
    from sklearn.linear_model import Ridge

    bodies = list(seeds)
    got = scores(bodies)
    for b, s in zip(bodies, got, strict=True):
        yield b, s
        if s is None:
            return
    ys = [float(s) for s in got if s is not None]
    lam = 0.3
    i = 0
    while len(bodies) < limit:
        X = body_features(bodies)
        coef = (
            Ridge(alpha=1.0).fit(X, np.asarray(ys)).coef_
            if len(set(ys)) > 1
            else rng.normal(size=7)
        )
        new: list[dict[str, Any]] = []
        for b in list(bodies):
            if len(bodies) + len(new) >= limit:
                break
            i += 1
            step = np.sign(coef) * lam * (1 if rng.random() < 0.5 else -1)
            amount = float(np.expm1(np.clip(math.log1p(b["amount"]) + step[0], 0, 9)))
            age = int(np.clip(np.expm1(math.log1p(b["account_age_days"]) + step[1]), 0, 36_000))
            flags = {}
            for j, k in enumerate(
                ("device_is_new", "ship_bill_mismatch", "ip_country_mismatch", "card_present"),
                start=3,
            ):
                flags[k] = bool(b[k]) if step[j] == 0 else bool(step[j] > 0)
            new.append(
                {
                    **b,
                    **flags,
                    "transaction_id": f"jb{i}",
                    "amount": round(amount, 2),
                    "account_age_days": age,
                }
            )
        got = scores(new)
        for b, s in zip(new, got, strict=True):
            yield b, s
            if s is None:
                return
            bodies.append(b)
            ys.append(float(s))
        lam = -lam  # Papernot's periodic step size


FAMILIES = ("equation_solving", "jacobian", "knockoff", "camouflaged")
#: Adaptive variants: one customer whose account age stays consistent with its timestamps
#: (the identity signals see a single, coherent shopper).
ADAPTIVE_FAMILIES = ("equation_solving_consistent", "knockoff_consistent")


def attack_queries(
    family: str,
    *,
    rng: np.random.Generator,
    public: pd.DataFrame,
    benign: list[dict[str, Any]] | None = None,
    customer: str = "C-attacker",
    terminal: str = "T-attacker",
) -> Iterator[dict[str, Any]]:
    """Endless query stream of a (non-adaptive) family; ``public`` is the attacker's own data."""
    i = 0
    if family in ADAPTIVE_FAMILIES:
        signup = _START - timedelta(days=400)
        rows = public.to_dict("records")
        while True:
            i += 1
            if family == "equation_solving_consistent":
                b = _random_body(rng, i, customer=customer, terminal=terminal)
            else:
                b = tx_body(rows[int(rng.integers(0, len(rows)))], i)
                b["customer_id"], b["terminal_id"] = customer, terminal
                ts = _START + timedelta(minutes=7 * i)
                b["timestamp"] = ts.replace(
                    hour=datetime.fromisoformat(b["timestamp"]).hour
                ).isoformat()
            ts = datetime.fromisoformat(b["timestamp"])
            b["account_age_days"] = (ts - signup).days
            yield b
    elif family == "equation_solving":
        while True:
            i += 1
            yield _random_body(rng, i, customer=customer, terminal=terminal)
    elif family in ("knockoff", "camouflaged"):
        rows = public.to_dict("records")
        benign = benign or []
        while True:
            i += 1
            if family == "camouflaged" and benign and i % 2 == 0:
                b = dict(benign[(i // 2) % len(benign)])
                b["transaction_id"] = f"cb{i}"
                yield b
            else:
                yield tx_body(rows[int(rng.integers(0, len(rows)))], i)
    else:
        raise ValueError(f"unknown family {family}")


@dataclass
class AttackRun:
    family: str
    queries: int
    alarm_at: int | None
    blocked_at: int | None
    fidelity_at_alarm: float | None
    fidelity_at_stop: float
    accuracy_at_stop: float
    details: dict[str, Any] = field(default_factory=dict)


def _surrogate_fidelity(
    bodies: list[dict[str, Any]],
    scores: list[float],
    test_X: NDArray[np.float64],
    test_victim: NDArray[np.int64],
    test_y: NDArray[np.int64] | None,
) -> tuple[float, float]:
    from sklearn.ensemble import HistGradientBoostingRegressor

    if len(bodies) < 5 or len(set(scores)) < 2:
        pred = np.zeros(len(test_victim), dtype=np.int64)
    else:
        model = HistGradientBoostingRegressor(max_iter=100, random_state=0).fit(
            body_features(bodies), np.asarray(scores)
        )
        pred = np.asarray([decision(float(s)) for s in model.predict(test_X)], dtype=np.int64)
    # Balanced fidelity: the mean, over the victim's decisions (approve / review / decline),
    # of the share the surrogate reproduces. Plain agreement is dominated by "approve"
    # (a constant surrogate reaches ~0.99 on this model); balanced, a constant one gets 1/k.
    classes = np.unique(test_victim)
    fidelity = float(np.mean([(pred[test_victim == c] == c).mean() for c in classes]))
    accuracy = (
        float(((pred >= 1).astype(int) == test_y).mean()) if test_y is not None else float("nan")
    )
    return fidelity, accuracy


def run_extraction(
    family: str,
    target: ScoreTarget,
    *,
    public: pd.DataFrame,
    test_bodies: list[dict[str, Any]],
    test_victim: NDArray[np.int64],
    test_y: NDArray[np.int64] | None = None,
    benign: list[dict[str, Any]] | None = None,
    alarm: Callable[[], int | None] | None = None,
    limit: int = 400,
    seed: int = 0,
) -> AttackRun:
    """Query ``target`` until blocked or ``limit``; measure the surrogate at alarm and at stop.

    Fidelity is *balanced* decision agreement with the victim on ``test_bodies``.
    """
    rng = np.random.default_rng(seed)
    bodies: list[dict[str, Any]] = []
    scores: list[float] = []
    blocked_at = None
    alarm_at: int | None = None
    snapshot: tuple[list[dict[str, Any]], list[float]] | None = None

    def ask(batch: list[dict[str, Any]]) -> list[float | None]:
        out: list[float | None] = []
        for b in batch:
            status, s = target.score(b)
            out.append(s if status == 200 else None)
            if status != 200:
                break
        return out + [None] * (len(batch) - len(out))

    if family == "jacobian":
        # Papernot's seeds: a few real transactions, sent as the attacker's own customer.
        rows = public.sample(n=10, random_state=seed).to_dict("records")
        seeds = [
            {**tx_body(r, k), "customer_id": "C-attacker", "terminal_id": "T-attacker"}
            for k, r in enumerate(rows)
        ]
        stream: Iterator[tuple[dict[str, Any], float | None]] = _jacobian_bodies(
            rng, seeds, ask, limit
        )
    else:
        gen = attack_queries(family, rng=rng, public=public, benign=benign)
        stream = ((b, ask([b])[0]) for b in gen)
    n = 0
    for body, score in stream:
        n += 1
        if score is None:
            blocked_at = n
            break
        bodies.append(body)
        scores.append(score)
        if n >= limit:
            break
    if alarm is not None:
        # The target counts queries itself (batched families ask several before yielding).
        alarm_at = alarm()
        if alarm_at is not None:
            snapshot = (bodies[:alarm_at], scores[:alarm_at])
    test_X = body_features(test_bodies)
    fid_alarm = None
    if snapshot is not None:
        fid_alarm, _ = _surrogate_fidelity(*snapshot, test_X, test_victim, test_y)
    fid_stop, acc_stop = _surrogate_fidelity(bodies, scores, test_X, test_victim, test_y)
    return AttackRun(family, n, alarm_at, blocked_at, fid_alarm, fid_stop, acc_stop)


def steal_surrogate(
    family: str,
    target: ScoreTarget,
    *,
    public: pd.DataFrame,
    queries: int,
    seed: int = 0,
) -> tuple[Callable[[list[dict[str, Any]]], list[float]], int]:
    """Query ``target`` with a family's stream and train the thief's copy on the answers.

    Returns the copy as a score function over request bodies (what ownership
    verification queries) and the number of answered queries; stops at the first
    refusal.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    if family not in FAMILIES or family in ("jacobian", "camouflaged"):
        raise ValueError(f"steal_surrogate supports equation_solving and knockoff, not {family}")
    rng = np.random.default_rng(seed)
    gen = attack_queries(family, rng=rng, public=public)
    bodies: list[dict[str, Any]] = []
    scores: list[float] = []
    for _ in range(queries):
        body = next(gen)
        status, score = target.score(body)
        if status != 200 or score is None:
            break
        bodies.append(body)
        scores.append(score)
    if len(bodies) < 5 or len(set(scores)) < 2:
        raise ValueError(f"only {len(bodies)} queries answered; nothing to copy")
    model = HistGradientBoostingRegressor(max_iter=200, random_state=seed).fit(
        body_features(bodies), np.asarray(scores)
    )

    def copy(batch: list[dict[str, Any]]) -> list[float]:
        return [float(v) for v in np.clip(model.predict(body_features(batch)), 0.0, 1.0)]

    return copy, len(bodies)


class HttpFraudTarget:
    """The live fraud API: ``POST /v1/fraud/score`` with an API key."""

    def __init__(self, client: Any, key: str) -> None:
        self._client = client
        self._key = key

    def score(self, body: dict[str, Any]) -> tuple[int, float | None]:
        resp = self._client.post("/v1/fraud/score", json=body, headers={"X-API-Key": self._key})
        if resp.status_code != 200:
            return resp.status_code, None
        return 200, float(resp.json()["score"])


@dataclass(frozen=True)
class ExtractionTarget:
    """What the registered attacks need: the API, the attacker's data, a held-out test set."""

    api: ScoreTarget
    public: pd.DataFrame
    test_bodies: list[dict[str, Any]]
    test_victim: NDArray[np.int64]
    benign: list[dict[str, Any]]
    alarm: Callable[[], int | None] | None = None
    limit: int = 400


class _ExtractionAttack(Attack):
    area: ClassVar[Area] = Area.MODEL_THEFT
    control: ClassVar[str] = "modelsec.extraction_watch"
    bar: ClassVar[str] = "stopped (blocked) with surrogate decision fidelity <= 0.70 at alarm"
    family: ClassVar[str]

    def run(self, target: ExtractionTarget) -> Finding:
        r = run_extraction(
            self.family,
            target.api,
            public=target.public,
            test_bodies=target.test_bodies,
            test_victim=target.test_victim,
            benign=target.benign,
            alarm=target.alarm,
            limit=target.limit,
        )
        stopped = r.blocked_at is not None
        fid = r.fidelity_at_alarm if r.fidelity_at_alarm is not None else r.fidelity_at_stop
        return Finding(
            attack=self.name,
            control=self.control,
            figure="queries_to_block",
            value=float(r.blocked_at or r.queries),
            bar=float(target.limit),
            passed=stopped,
            details={
                "alarm_at": r.alarm_at,
                "blocked_at": r.blocked_at,
                "fidelity_at_alarm": r.fidelity_at_alarm,
                "fidelity_at_stop": r.fidelity_at_stop,
                "fidelity": fid,
            },
        )


@attacks.register
class EquationSolving(_ExtractionAttack):
    """Random queries over the input box, surrogate retrained on returned scores (Tramèr 2016)."""

    name = "extraction.equation_solving"
    family = "equation_solving"
    references = (
        "https://www.usenix.org/conference/usenixsecurity16/technical-sessions/presentation/tramer",
    )


@attacks.register
class JacobianSynthetic(_ExtractionAttack):
    """Jacobian-based synthetic augmentation from a few seeds (Papernot et al. 2017)."""

    name = "extraction.jacobian"
    family = "jacobian"
    references = ("https://arxiv.org/abs/1602.02697",)


@attacks.register
class KnockoffNatural(_ExtractionAttack):
    """Natural-distribution queries from the attacker's own transactions (Knockoff Nets 2019)."""

    name = "extraction.knockoff"
    family = "knockoff"
    references = ("https://arxiv.org/abs/1812.02766",)


@attacks.register
class Camouflaged(_ExtractionAttack):
    """Knockoff queries mixed 1:1 with a real customer's ordinary transactions."""

    name = "extraction.camouflaged"
    family = "camouflaged"
    references = ("https://arxiv.org/abs/1805.02628",)
