"""Alert rules in Prometheus' rule-file format, checked on load and evaluated in-process.

The files under ``shopguard/monitor/rules/*.yml`` load unchanged into Prometheus
(``rule_files:``) with Alertmanager routing on the ``severity`` label; the same
files drive :class:`RuleEngine` in the embedded default, which publishes an
:class:`~shopguard.core.events.Alert` on the event bus when a rule has held for
its ``for:`` duration, so incident response sees it like any other alert.

Each rule must carry ``labels.severity`` (info / warning / high / critical) and
``annotations.summary``; ``labels.threat`` names the threat for incident
response. :func:`load_rules` refuses a malformed file with the group, the rule
and what is wrong (YAML, structure, or the expression with its position).
"""

from __future__ import annotations

import importlib.resources
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shopguard.core.errors import DataValidationError
from shopguard.core.events import Alert, EventBus, Severity
from shopguard.monitor.promql import Expr, Labels, SampleSource, evaluate, parse, parse_duration

__all__ = ["AlertRule", "Firing", "RuleEngine", "builtin_rule_files", "load_rules"]

logger = logging.getLogger(__name__)

_ALERT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SEVERITIES = {s.value for s in Severity}
_RULE_KEYS = {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}


@dataclass(frozen=True)
class AlertRule:
    group: str
    name: str
    expr_text: str
    expr: Expr
    for_s: float
    severity: Severity
    labels: dict[str, str]
    annotations: dict[str, str]
    source: str


@dataclass
class Firing:
    rule: AlertRule
    labels: Labels
    value: float
    since: float
    fired: bool = False
    published: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def builtin_rule_files() -> list[Path]:
    root = Path(str(importlib.resources.files("shopguard.monitor") / "rules"))
    return sorted(root.glob("*.yml"))


def _fail(where: str, what: str) -> DataValidationError:
    return DataValidationError(f"{where}: {what}")


def load_rules(path: Path) -> list[AlertRule]:
    """Parse and check one rule file."""
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except OSError:
        raise DataValidationError("rule file is not readable", file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise DataValidationError(f"not valid YAML{where}", file=str(path)) from None
    name = path.name
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        raise _fail(name, "a rule file is a mapping with a 'groups' list")
    rules: list[AlertRule] = []
    seen_groups: set[str] = set()
    for gi, group in enumerate(doc["groups"]):
        if not isinstance(group, dict) or not isinstance(group.get("name"), str):
            raise _fail(name, f"group {gi + 1} needs a 'name'")
        gname = group["name"]
        if gname in seen_groups:
            raise _fail(name, f"group {gname!r} appears twice")
        seen_groups.add(gname)
        if "interval" in group:
            parse_duration(str(group["interval"]))
        if not isinstance(group.get("rules"), list) or not group["rules"]:
            raise _fail(name, f"group {gname!r} needs a non-empty 'rules' list")
        for ri, raw in enumerate(group["rules"]):
            where = f"{name}: group {gname!r} rule {ri + 1}"
            if not isinstance(raw, dict):
                raise DataValidationError(f"{where}: a rule is a mapping")
            if "record" in raw:
                raise DataValidationError(
                    f"{where}: recording rules are not evaluated in-process; use an alert rule"
                )
            unknown = set(raw) - _RULE_KEYS
            if unknown:
                raise DataValidationError(f"{where}: unknown field(s) {sorted(unknown)}")
            alert = raw.get("alert")
            if not isinstance(alert, str) or not _ALERT_NAME.match(alert):
                raise DataValidationError(f"{where}: 'alert' must be a name like HighErrorRate")
            where = f"{name}: rule {alert}"
            expr_text = raw.get("expr")
            if not isinstance(expr_text, str):
                raise DataValidationError(f"{where}: 'expr' must be a PromQL expression")
            try:
                expr = parse(expr_text)
            except DataValidationError as exc:
                raise DataValidationError(f"{where}: expr: {exc}") from None
            for_s = parse_duration(str(raw["for"])) if "for" in raw else 0.0
            labels = raw.get("labels") or {}
            annotations = raw.get("annotations") or {}
            if not isinstance(labels, dict) or not isinstance(annotations, dict):
                raise DataValidationError(f"{where}: labels and annotations are mappings")
            sev = str(labels.get("severity", ""))
            if sev not in _SEVERITIES:
                raise DataValidationError(
                    f"{where}: labels.severity must be one of {sorted(_SEVERITIES)}"
                )
            if not isinstance(annotations.get("summary"), str):
                raise DataValidationError(f"{where}: annotations.summary is required")
            rules.append(
                AlertRule(
                    gname,
                    alert,
                    expr_text,
                    expr,
                    for_s,
                    Severity(sev),
                    {str(k): str(v) for k, v in labels.items()},
                    {str(k): str(v) for k, v in annotations.items()},
                    name,
                )
            )
    return rules


_TEMPLATE = re.compile(r"\{\{\s*\$(value|labels\.([A-Za-z_][A-Za-z0-9_]*))\s*\}\}")


def _render(text: str, labels: dict[str, str], value: float) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(1) == "value":
            return f"{value:.4g}"
        return labels.get(m.group(2) or "", "")

    return _TEMPLATE.sub(sub, text)


class RuleEngine:
    """Evaluates alert rules over a sample source, with ``for:`` pending periods."""

    def __init__(
        self,
        rules: list[AlertRule],
        source: SampleSource,
        *,
        bus: EventBus | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        import time

        self.rules = rules
        self.source = source
        self._bus = bus
        self._clock = clock or time.time
        self.active: dict[tuple[str, Labels], Firing] = {}

    @classmethod
    def builtin(cls, source: SampleSource, **kw: Any) -> RuleEngine:
        rules = [r for f in builtin_rule_files() for r in load_rules(f)]
        return cls(rules, source, **kw)

    def evaluate(self, at: float | None = None) -> list[Firing]:
        """One evaluation round; returns the alerts firing now (newly fired ones are published)."""
        now = self._clock() if at is None else at
        seen: set[tuple[str, Labels]] = set()
        for rule in self.rules:
            try:
                result = evaluate(rule.expr, self.source, now)
            except DataValidationError:
                logger.warning("rule %s could not be evaluated", rule.name)
                continue
            vector = {frozenset(): result} if isinstance(result, float) and result else result
            if isinstance(vector, float):
                continue
            for labels, value in vector.items():
                key = (rule.name, labels)
                seen.add(key)
                f = self.active.get(key)
                if f is None:
                    f = self.active[key] = Firing(rule, labels, value, now)
                f.value = value
                if not f.fired and now - f.since >= rule.for_s:
                    f.fired = True
                if f.fired and not f.published:
                    f.published = True
                    self._publish(f)
        for key in [k for k in self.active if k not in seen]:
            del self.active[key]  # resolved
        return [f for f in self.active.values() if f.fired]

    def _publish(self, f: Firing) -> None:
        if self._bus is None:
            return
        labels = {**dict(f.labels), **f.rule.labels}
        details: dict[str, Any] = {
            "rule": f.rule.name,
            "value": f.value,
            "labels": {k: v for k, v in dict(f.labels).items() if k != "__name__"},
        }
        if "threat" in f.rule.labels:
            details["threat"] = f.rule.labels["threat"]
        for k in ("key_id", "model", "route"):
            if k in labels:
                details[k] = labels[k]
        self._bus.publish(
            Alert(
                topic=f"monitor.rule.{f.rule.name}",
                severity=f.rule.severity,
                source=f"monitor.rules:{f.rule.source}",
                summary=_render(f.rule.annotations["summary"], labels, f.value)[:512],
                details=details,
            )
        )
