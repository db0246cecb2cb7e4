"""Run every registered attack and every remotely-runnable scorecard check against a deployment.

A run is a :class:`~shopguard.core.scorecard.Scorecard` (schema v1) plus what the report
needs: each registered attack's :class:`~shopguard.redteam.Finding`, why anything was
skipped, how many requests were sent. Three limits hold for the whole run:

* a **query budget**: every HTTP request any check or attack sends to the target is
  counted; once the budget is spent further requests raise :class:`BudgetExhausted`
  (the check reports ``error``) and the remaining items are skipped;
* a **time limit**: items not started before it are skipped with that reason;
* **safety**: every request to the target carries ``X-Shopguard-Redteam: <run id>`` so the
  deployment's logs and audit can tell red-team traffic apart; only checks and attacks whose
  resources are present run, and nothing here places orders or refunds.

Checks that need local state (the runtime, the store's files...) are reported as
``skipped`` with the reason on a remote run; they are never reported as passed.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from shopguard.core.scorecard import (
    Area,
    Check,
    CheckContext,
    CheckResult,
    Figure,
    Scorecard,
    Status,
    checks,
)
from shopguard.redteam._registry import Attack, Finding, attacks

__all__ = [
    "RUN_HEADER",
    "BudgetExhausted",
    "PlanItem",
    "RunResult",
    "attack_targets",
    "check_roles",
    "load_plugins",
    "new_run_id",
    "plan",
    "remote_context",
    "run_suite",
    "tag_requests",
]

RUN_HEADER = "X-Shopguard-Redteam"
#: Resources a remote run can have: the URL, the API keys, and plain values from a keys file.
REMOTE_RESOURCES = frozenset({"base_url", "api_keys"})

#: Resources that are plain values a keys file can carry (ids, key strings, lists); every
#: other missing resource is the deployment's local state (runtime, stores, data sets).
KEYS_FILE_RESOURCES = frozenset(
    {
        "foreign_customer",
        "consent_subject",
        "erasure_subject",
        "integrity_product",
        "integrity_customers",
        "scraper_key",
        "drill_targets",
        "sample_customer",
        "sample_product",
        "extraction_limit",
        "fairness_risky_transactions",
    }
)

#: API-key roles a check reads from ``api_keys`` beyond ``full`` (checks do not declare them).
check_roles: dict[str, tuple[str, ...]] = {
    "api.underscoped_key_refused": ("underscoped",),
    "api.cross_tenant_read_refused": ("other_tenant",),
    "api.expired_jwt_refused": ("expired_jwt",),
}

#: Builds the target object an attack runs against, from the run's resources; returns a
#: string (why it cannot) instead when the resources are missing. Keyed by the attack
#: name's prefix (``extraction`` for ``extraction.knockoff``); capabilities add theirs.
AttackTargetBuilder = Callable[[type[Attack], CheckContext], Any]
attack_targets: dict[str, AttackTargetBuilder] = {}


class BudgetExhausted(RuntimeError):
    """The run's query budget is spent."""


def new_run_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"rt-{stamp}-{secrets.token_hex(3)}"


class _Counter:
    def __init__(self, budget: int | None) -> None:
        self.budget = budget
        self.sent = 0
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            if self.budget is not None and self.sent >= self.budget:
                raise BudgetExhausted(f"query budget of {self.budget} requests spent")
            self.sent += 1


@contextlib.contextmanager
def tag_requests(base_url: str, run_id: str, counter: _Counter) -> Iterator[None]:
    """Tag and count every httpx request to ``base_url``'s host while the block runs.

    Checks and attacks open their own httpx clients; wrapping ``send`` is the one place
    all of them pass through, so the tag and the budget cannot be forgotten by a plug-in.
    """
    target = urlsplit(base_url)
    netloc = (target.scheme, target.netloc)

    def is_target(request: httpx.Request) -> bool:
        return (request.url.scheme, request.url.netloc.decode()) == netloc

    orig_sync, orig_async = httpx.Client.send, httpx.AsyncClient.send

    def send(self: httpx.Client, request: httpx.Request, **kw: Any) -> httpx.Response:
        if is_target(request):
            counter.take()
            request.headers[RUN_HEADER] = run_id
        return orig_sync(self, request, **kw)

    async def asend(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> httpx.Response:
        if is_target(request):
            counter.take()
            request.headers[RUN_HEADER] = run_id
        return await orig_async(self, request, **kw)

    httpx.Client.send = send  # type: ignore[method-assign]
    httpx.AsyncClient.send = asend  # type: ignore[method-assign]
    try:
        yield
    finally:
        httpx.Client.send = orig_sync  # type: ignore[method-assign]
        httpx.AsyncClient.send = orig_async  # type: ignore[method-assign]


def remote_context(
    base_url: str, api_keys: Mapping[str, str], extra: Mapping[str, Any] | None = None
) -> CheckContext:
    """What a run against a remote deployment knows: its URL, its keys, plain extras."""
    keys = dict(api_keys)
    if "full" not in keys:
        raise ValueError("api_keys needs a 'full' key (the storefront's key)")
    return CheckContext({"base_url": base_url.rstrip("/"), "api_keys": keys, **dict(extra or {})})


@dataclass(frozen=True)
class PlanItem:
    kind: str  # "check" or "attack"
    name: str
    area: Area
    title: str
    skip: str | None  # why it will not run; None when it will


def _first_line(doc: str | None, fallback: str) -> str:
    return (doc or "").strip().splitlines()[0].strip() if (doc or "").strip() else fallback


def _check_skip(cls: type[Check], ctx: CheckContext, *, remote: bool) -> str | None:
    missing = [r for r in cls.requires if r not in ctx.resources]
    if remote and "base_url" not in cls.requires:
        what = (
            f"needs {', '.join(cls.requires)}" if cls.requires else "tests this installation's code"
        )
        return (
            f"local-only ({what}), does not exercise the deployment over HTTP; "
            "run it where the deployment's state lives"
        )
    if missing:
        if not remote:
            return f"needs {', '.join(missing)}"
        state = [m for m in missing if m not in REMOTE_RESOURCES | KEYS_FILE_RESOURCES]
        values = [m for m in missing if m in KEYS_FILE_RESOURCES]
        why = []
        if state:
            why.append(
                f"needs {', '.join(state)}: the deployment's local state, which a remote run "
                "cannot reach; run it on the deployment's host (shopguard demo / report)"
            )
        if values:
            why.append(f"needs {', '.join(values)}: give it in the keys file (--keys-file)")
        return "; ".join(why) or f"needs {', '.join(missing)}"
    keys = ctx.resources.get("api_keys", {})
    roles = [r for r in check_roles.get(cls.name, ()) if r not in keys]
    if roles:
        return f"needs an API key for role {', '.join(roles)} (--keys-file)"
    return None


def _attack_target(cls: type[Attack], ctx: CheckContext) -> Any:
    builder = attack_targets.get(cls.name.split(".", 1)[0])
    if builder is None:
        return f"no target builder for {cls.name.split('.', 1)[0]} attacks"
    return builder(cls, ctx)


def _selected(area: Area, only: frozenset[Area] | None) -> bool:
    return only is None or area in only


def load_plugins() -> None:
    """Import every module that registers checks, attacks and attack target builders."""
    import shopguard.redteam.adversarial
    import shopguard.redteam.targets
    import shopguard.scorecard_checks  # noqa: F401


def plan(
    ctx: CheckContext,
    *,
    only: Iterable[Area] | None = None,
    names: Iterable[str] | None = None,
    remote: bool = True,
) -> list[PlanItem]:
    """Every check then every attack (``attack.<name>``), each with why it will not run (or None).

    ``only`` keeps those areas; ``names`` keeps those ids.
    """
    load_plugins()
    chosen = frozenset(only) if only is not None else None
    wanted = frozenset(names) if names is not None else None
    unknown = (
        (wanted or frozenset()) - {c.name for c in checks} - {f"attack.{a.name}" for a in attacks}
    )
    if unknown:
        raise ValueError(f"unknown check or attack: {', '.join(sorted(unknown))}")
    items = []
    for c in checks:
        if _selected(c.area, chosen) and (wanted is None or c.name in wanted):
            items.append(
                PlanItem("check", c.name, c.area, c.title, _check_skip(c, ctx, remote=remote))
            )
    for a in attacks:
        if _selected(a.area, chosen) and (wanted is None or f"attack.{a.name}" in wanted):
            items.append(PlanItem("attack", a.name, a.area, _first_line(a.__doc__, a.name), None))
    return items


@dataclass
class RunResult:
    run_id: str
    target: str
    started_at: datetime
    scorecard: Scorecard
    findings: dict[str, Finding] = field(default_factory=dict)
    queries: int = 0
    budget: int | None = None
    seconds: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(
            r.status is not Status.FAIL and r.status is not Status.ERROR
            for r in self.scorecard.results
        )

    def summary(self) -> str:
        """One paragraph: what was attacked and what held."""
        rs = self.scorecard.results
        ran = [r for r in rs if r.status is not Status.SKIPPED]
        held = [r for r in ran if r.status is Status.PASS]
        broke = [r for r in ran if r.status is not Status.PASS]
        areas = sorted({r.area.value for r in ran})
        n_attacks = sum(1 for r in ran if r.id.startswith("attack."))
        text = (
            f"Attacked {len(areas)} areas ({', '.join(areas)}) with {len(ran) - n_attacks} checks "
            f"and {n_attacks} registered attacks, {self.queries} requests in {self.seconds:.0f} s: "
            f"{len(held)} held"
        )
        if broke:
            text += f", {len(broke)} did not ({', '.join(r.id for r in broke)})"
        skipped = len(rs) - len(ran)
        if skipped:
            text += f"; {skipped} skipped (resources not available to this run)"
        return text + "."

    def meta(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "target": self.target,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "queries": self.queries,
            "budget": self.budget,
            "seconds": round(self.seconds, 2),
        }


def _finding_result(cls: type[Attack], f: Finding) -> CheckResult:
    detail = ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in f.details.items()
        if isinstance(v, (int, float, str)) or v is None
    )
    return CheckResult(
        id=f"attack.{cls.name}",
        area=cls.area,
        title=f"{_first_line(cls.__doc__, cls.name)} [control {cls.control}; bar: {cls.bar}]",
        status=Status.PASS if f.passed else Status.FAIL,
        figure=Figure(f.figure, float(f.value), float(f.bar)),
        evidence=detail or f"{f.figure}={f.value}",
    )


def run_suite(
    ctx: CheckContext,
    *,
    only: Iterable[Area] | None = None,
    names: Iterable[str] | None = None,
    budget: int | None = None,
    time_limit: float | None = None,
    remote: bool = True,
    run_id: str | None = None,
    on_start: Callable[[PlanItem], None] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> RunResult:
    """Run the plan in order within ``budget`` requests and ``time_limit`` seconds."""
    if budget is not None and budget < 1:
        raise ValueError("budget must be at least 1 request")
    if time_limit is not None and time_limit <= 0:
        raise ValueError("time limit must be positive")
    started = datetime.now(UTC)
    rid = run_id or new_run_id(started)
    base_url = str(ctx.resources.get("base_url", ""))
    counter = _Counter(budget)
    t0 = time.monotonic()
    results: list[CheckResult] = []
    findings: dict[str, Finding] = {}
    items = plan(ctx, only=only, names=names, remote=remote)
    guard = tag_requests(base_url, rid, counter) if base_url else contextlib.nullcontext()

    def skipped(item: PlanItem, why: str) -> CheckResult:
        name = item.name if item.kind == "check" else f"attack.{item.name}"
        return CheckResult(name, item.area, item.title, Status.SKIPPED, None, why)

    with guard:
        for item in items:
            if on_start is not None:
                on_start(item)
            if item.skip is not None:
                res = skipped(item, item.skip)
            elif time_limit is not None and time.monotonic() - t0 > time_limit:
                res = skipped(item, f"time limit of {time_limit:g} s reached before it started")
            elif budget is not None and counter.sent >= budget:
                res = skipped(item, f"query budget of {budget} requests spent before it started")
            elif item.kind == "check":
                res = checks.get(item.name)().result(ctx)
                if res.status is Status.ERROR and budget is not None and counter.sent >= budget:
                    res = CheckResult(
                        res.id,
                        res.area,
                        res.title,
                        Status.ERROR,
                        None,
                        f"query budget of {budget} requests spent while it ran",
                    )
            else:
                res = _run_attack(attacks.get(item.name), ctx, findings, budget, counter)
            results.append(res)
            if on_result is not None:
                on_result(res)
    for client in ctx.resources.pop("_clients", []):
        client.close()
    card = Scorecard(datetime.now(UTC), tuple(results))
    return RunResult(
        run_id=rid,
        target=base_url,
        started_at=started,
        scorecard=card,
        findings=findings,
        queries=counter.sent,
        budget=budget,
        seconds=time.monotonic() - t0,
        extras={
            k: ctx.resources[k] for k in ("roc_curves", "robust_accuracy") if k in ctx.resources
        },
    )


def _run_attack(
    cls: type[Attack],
    ctx: CheckContext,
    findings: dict[str, Finding],
    budget: int | None,
    counter: _Counter,
) -> CheckResult:
    name = f"attack.{cls.name}"
    title = _first_line(cls.__doc__, cls.name)
    try:
        target = _attack_target(cls, ctx)
        if isinstance(target, str):
            return CheckResult(name, cls.area, title, Status.SKIPPED, None, target)
        finding = cls().run(target)
    except BudgetExhausted as exc:
        return CheckResult(name, cls.area, title, Status.ERROR, None, str(exc))
    except Exception as exc:  # an attack must not stop the run
        return CheckResult(
            name, cls.area, title, Status.ERROR, None, f"attack raised {type(exc).__name__}"
        )
    findings[cls.name] = finding
    return _finding_result(cls, finding)
