"""A small PromQL subset: parsed to check rule files, evaluated for the embedded default.

Supported (enough for shopguard's alert rules, and refused with a position
otherwise): numbers; selectors ``name{label="v", l!="v", l=~"re", l!~"re"}``
with an optional range ``[30s|5m|1h]``; ``rate``, ``increase``, ``abs``;
``sum``, ``max``, ``min``, ``avg``, ``count`` with ``by (...)`` / ``without (...)``;
``+ - * /`` and the comparisons ``> < >= <= == !=`` (filtering, as in
Prometheus), with one-to-one matching on every label but ``__name__``.

``rate`` divides the increase over the samples in the range (counter resets
handled) by the time those samples span; Prometheus also extrapolates to the
range's edges, so figures can differ slightly at the start of a series.

References
----------
Prometheus documentation, "Querying basics" and "Operators" (prometheus.io/docs/prometheus/latest/querying/).
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from shopguard.core.errors import DataValidationError

__all__ = [
    "Expr",
    "Labels",
    "SampleSource",
    "Vector",
    "evaluate",
    "parse",
    "parse_duration",
]

Labels = frozenset[tuple[str, str]]
Vector = dict[Labels, float]
RangeVector = dict[Labels, list[tuple[float, float]]]


class SampleSource(Protocol):
    """What the evaluator reads series from."""

    def instant(self, name: str, at: float) -> Iterable[tuple[Labels, float]]: ...

    def range(
        self, name: str, start: float, end: float
    ) -> Iterable[tuple[Labels, list[tuple[float, float]]]]: ...


_DUR = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """``30s``, ``5m``, ``1h``... in seconds."""
    m = _DUR.match(text.strip())
    if not m:
        raise DataValidationError(f"bad duration {text!r} (use e.g. 30s, 5m, 1h)")
    return int(m.group(1)) * _UNITS[m.group(2)]


# -- lexer ---------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
   |(?P<dur>\[\s*\d+(?:ms|s|m|h|d|w)\s*\])
   |(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
   |(?P<op>=~|!~|==|!=|>=|<=|[-+*/(){},=<>])
   |(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _lex(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    while i < len(src):
        if src[i:].strip() == "":
            break
        m = _TOKEN.match(src, i)
        if not m or m.end() == i:
            raise DataValidationError(f"unexpected character at position {i}")
        kind = m.lastgroup or ""
        toks.append(_Tok(kind, m.group(kind), m.start(kind)))
        i = m.end()
    toks.append(_Tok("eof", "", len(src)))
    return toks


# -- AST ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        v = labels.get(self.label, "")
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        ok = re.fullmatch(self.value, v) is not None
        return ok if self.op == "=~" else not ok


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: tuple[Matcher, ...]
    range_s: float | None = None


@dataclass(frozen=True)
class Call:
    func: str
    arg: Expr


@dataclass(frozen=True)
class Aggregate:
    op: str
    arg: Expr
    by: tuple[str, ...] | None
    without: tuple[str, ...] | None


@dataclass(frozen=True)
class Binary:
    op: str
    lhs: Expr
    rhs: Expr


@dataclass(frozen=True)
class Neg:
    arg: Expr


Expr = Number | Selector | Call | Aggregate | Binary | Neg

_FUNCS = {"rate", "increase", "abs"}
_AGGS = {"sum", "max", "min", "avg", "count"}
_CMP = {"==", "!=", ">", "<", ">=", "<="}


class _Parser:
    def __init__(self, src: str) -> None:
        self.toks = _lex(src)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self, text: str | None = None, kind: str | None = None) -> _Tok:
        tok = self.peek()
        if (text is not None and tok.text != text) or (kind is not None and tok.kind != kind):
            want = text or kind
            got = tok.text or "end of expression"
            raise DataValidationError(f"expected {want!r} at position {tok.pos}, found {got!r}")
        self.i += 1
        return tok

    def parse(self) -> Expr:
        e = self.comparison()
        if self.peek().kind != "eof":
            tok = self.peek()
            raise DataValidationError(f"unexpected {tok.text!r} at position {tok.pos}")
        return e

    def comparison(self) -> Expr:
        lhs = self.additive()
        while self.peek().kind == "op" and self.peek().text in _CMP:
            op = self.take().text
            lhs = Binary(op, lhs, self.additive())
        return lhs

    def additive(self) -> Expr:
        lhs = self.multiplicative()
        while self.peek().text in ("+", "-") and self.peek().kind == "op":
            op = self.take().text
            lhs = Binary(op, lhs, self.multiplicative())
        return lhs

    def multiplicative(self) -> Expr:
        lhs = self.unary()
        while self.peek().text in ("*", "/") and self.peek().kind == "op":
            op = self.take().text
            lhs = Binary(op, lhs, self.unary())
        return lhs

    def unary(self) -> Expr:
        if self.peek().kind == "op" and self.peek().text == "-":
            self.take()
            return Neg(self.unary())
        return self.primary()

    def labels_list(self) -> tuple[str, ...]:
        self.take("(")
        names: list[str] = []
        while self.peek().text != ")":
            names.append(self.take(kind="name").text)
            if self.peek().text == ",":
                self.take(",")
        self.take(")")
        return tuple(names)

    def primary(self) -> Expr:
        tok = self.peek()
        if tok.kind == "num":
            self.take()
            return Number(float(tok.text))
        if tok.kind == "op" and tok.text == "(":
            self.take("(")
            e = self.comparison()
            self.take(")")
            return e
        if tok.kind != "name":
            raise DataValidationError(
                f"unexpected {tok.text or 'end of expression'!r} at position {tok.pos}"
            )
        self.take()
        if tok.text in _AGGS:
            by = without = None
            if self.peek().text in ("by", "without"):
                kw = self.take().text
                names = self.labels_list()
                by, without = (names, None) if kw == "by" else (None, names)
            self.take("(")
            arg = self.comparison()
            self.take(")")
            if by is None and without is None and self.peek().text in ("by", "without"):
                kw = self.take().text
                names = self.labels_list()
                by, without = (names, None) if kw == "by" else (None, names)
            return Aggregate(tok.text, arg, by, without)
        if tok.text in _FUNCS:
            self.take("(")
            arg = self.comparison()
            self.take(")")
            if tok.text in ("rate", "increase") and not (isinstance(arg, Selector) and arg.range_s):
                raise DataValidationError(
                    f"{tok.text}() needs a range selector like metric[5m] (position {tok.pos})"
                )
            if tok.text == "abs" and isinstance(arg, Selector) and arg.range_s:
                raise DataValidationError(f"abs() takes an instant vector (position {tok.pos})")
            return Call(tok.text, arg)
        if self.peek().kind == "op" and self.peek().text == "(":
            raise DataValidationError(
                f"unknown or unsupported function {tok.text!r} at position {tok.pos}"
            )
        matchers: list[Matcher] = []
        if self.peek().text == "{":
            self.take("{")
            while self.peek().text != "}":
                label = self.take(kind="name").text
                op = self.take(kind="op").text
                if op not in ("=", "!=", "=~", "!~"):
                    raise DataValidationError(
                        f"bad label matcher {op!r} at position {self.toks[self.i - 1].pos}"
                    )
                raw = self.take(kind="str").text
                value = bytes(raw[1:-1], "utf-8").decode("unicode_escape")
                if op in ("=~", "!~"):
                    try:
                        re.compile(value)
                    except re.error:
                        raise DataValidationError(
                            f"bad regular expression for label {label}"
                        ) from None
                matchers.append(Matcher(label, op, value))
                if self.peek().text == ",":
                    self.take(",")
            self.take("}")
        range_s = None
        if self.peek().kind == "dur":
            range_s = parse_duration(self.take().text.strip("[] "))
        return Selector(tok.text, tuple(matchers), range_s)


def parse(src: str) -> Expr:
    """Parse ``src``; :class:`DataValidationError` names the position of the problem."""
    if not src or not src.strip():
        raise DataValidationError("empty expression")
    return _Parser(src).parse()


# -- evaluation ---------------------------------------------------------------------------
def _drop_name(labels: Labels) -> Labels:
    return frozenset((k, v) for k, v in labels if k != "__name__")


def _select(sel: Selector, series: Iterable[tuple[Labels, object]]) -> list[tuple[Labels, object]]:
    out = []
    for labels, value in series:
        d = dict(labels)
        if all(m.matches(d) for m in sel.matchers):
            out.append((labels, value))
    return out


_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: a / b if b != 0 else (math.nan if a == 0 else math.copysign(math.inf, a)),
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


def _avg(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def _count(xs: list[float]) -> float:
    return float(len(xs))


_AGG_FUNCS: dict[str, Callable[[list[float]], float]] = {
    "sum": sum,
    "max": max,
    "min": min,
    "avg": _avg,
    "count": _count,
}


def _increase(points: list[tuple[float, float]]) -> float:
    total = 0.0
    for (_, prev), (_, cur) in itertools.pairwise(points):
        total += cur - prev if cur >= prev else cur  # a reset starts again from zero
    return total


def evaluate(expr: Expr, source: SampleSource, at: float) -> Vector | float:
    """Evaluate ``expr`` at time ``at`` (seconds); a scalar or an instant vector."""
    if isinstance(expr, Number):
        return expr.value
    if isinstance(expr, Neg):
        v = evaluate(expr.arg, source, at)
        return -v if isinstance(v, float) else {k: -x for k, x in v.items()}
    if isinstance(expr, Selector):
        if expr.range_s is not None:
            raise DataValidationError("a range selector must be inside rate() or increase()")
        return {labels: float(v) for labels, v in _select(expr, source.instant(expr.name, at))}  # type: ignore[arg-type]
    if isinstance(expr, Call):
        if expr.func == "abs":
            v = evaluate(expr.arg, source, at)
            return abs(v) if isinstance(v, float) else {k: abs(x) for k, x in v.items()}
        sel = expr.arg
        assert isinstance(sel, Selector) and sel.range_s is not None  # checked by the parser
        out: Vector = {}
        for labels, pts in _select(sel, source.range(sel.name, at - sel.range_s, at)):
            points: list[tuple[float, float]] = pts  # type: ignore[assignment]
            if len(points) < 2:
                continue
            inc = _increase(points)
            span = points[-1][0] - points[0][0]
            if expr.func == "increase":
                out[_drop_name(labels)] = inc
            elif span > 0:
                out[_drop_name(labels)] = inc / span
        return out
    if isinstance(expr, Aggregate):
        v = evaluate(expr.arg, source, at)
        if isinstance(v, float):
            raise DataValidationError(f"{expr.op}() needs a vector")
        groups: dict[Labels, list[float]] = {}
        for labels, x in v.items():
            if expr.by is not None:
                key = frozenset((k, val) for k, val in labels if k in expr.by)
            elif expr.without is not None:
                key = frozenset(
                    (k, val) for k, val in labels if k not in expr.without and k != "__name__"
                )
            else:
                key = frozenset()
            groups.setdefault(key, []).append(x)
        fn = _AGG_FUNCS[expr.op]
        return {k: float(fn(xs)) for k, xs in groups.items()}
    if isinstance(expr, Binary):
        lhs = evaluate(expr.lhs, source, at)
        rhs = evaluate(expr.rhs, source, at)
        if expr.op in _COMPARE:
            cmp = _COMPARE[expr.op]
            if isinstance(lhs, float) and isinstance(rhs, float):
                return 1.0 if cmp(lhs, rhs) else 0.0
            if isinstance(lhs, float):
                assert not isinstance(rhs, float)
                return {k: x for k, x in rhs.items() if cmp(lhs, x)}
            if isinstance(rhs, float):
                return {k: x for k, x in lhs.items() if cmp(x, rhs)}
            return {k: x for k, x in lhs.items() if k in rhs and cmp(x, rhs[k])}
        fn2 = _ARITH[expr.op]
        if isinstance(lhs, float) and isinstance(rhs, float):
            return fn2(lhs, rhs)
        if isinstance(lhs, float):
            assert not isinstance(rhs, float)
            return {_drop_name(k): fn2(lhs, x) for k, x in rhs.items()}
        if isinstance(rhs, float):
            return {_drop_name(k): fn2(x, rhs) for k, x in lhs.items()}
        left = {_drop_name(k): x for k, x in lhs.items()}
        right = {_drop_name(k): x for k, x in rhs.items()}
        return {k: fn2(x, right[k]) for k, x in left.items() if k in right}
    raise AssertionError(expr)  # pragma: no cover - exhaustive over Expr
