from __future__ import annotations

import re
from pathlib import Path

import pytest

from shopguard.core.errors import DataValidationError
from shopguard.core.events import Alert, EventBus
from shopguard.monitor.rules import RuleEngine, builtin_rule_files, load_rules
from shopguard.monitor.series import SeriesStore

GOOD = """
groups:
  - name: g
    rules:
      - alert: TooManyThings
        expr: things > 5
        for: 1m
        labels: {severity: high, threat: extraction}
        annotations: {summary: "key {{ $labels.key_id }} has {{ $value }} things"}
"""


def _file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "r.yml"
    p.write_text(text)
    return p


def test_builtin_rules_when_loaded_then_all_valid_with_severity_and_threats():
    rules = [r for f in builtin_rule_files() for r in load_rules(f)]
    names = {r.name for r in rules}
    assert {"ShopguardGatewayErrorRate", "ShopguardKeyEnumeration", "ShopguardDataDrift"} <= names
    assert {"ShopguardOutputShift", "ShopguardAccuracyDrop", "ShopguardGatewayDenialSpike"} <= names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("groups: [", "not valid YAML at line"),
        ("rules: []", "'groups' list"),
        ("groups:\n  - name: g\n    rules: []", "non-empty 'rules'"),
        ("groups:\n  - name: g\n    rules:\n      - record: x\n        expr: y", "recording rules"),
        (GOOD.replace("things > 5", "rate(things) > 5"), "rule TooManyThings: expr: rate"),
        (GOOD.replace("severity: high", "severity: page"), "labels.severity"),
        (GOOD.replace("for: 1m", "for: soon"), "bad duration"),
        (GOOD.replace("alert: TooManyThings", "alert: too many"), "'alert' must be a name"),
        (GOOD.replace("for: 1m", "for: 1m\n        fro: 2m"), "unknown field"),
        (
            GOOD.replace(
                'annotations: {summary: "key {{ $labels.key_id }} has {{ $value }} things"}', ""
            ),
            "summary is required",
        ),
    ],
)
def test_load_when_malformed_then_refused_naming_problem(tmp_path, text, message):
    with pytest.raises(DataValidationError, match=re.escape(message)):
        load_rules(_file(tmp_path, text))


def test_engine_when_condition_holds_for_duration_then_alert_published_once(tmp_path):
    bus = EventBus()
    seen: list[Alert] = []
    bus.subscribe("*", seen.append)
    store = SeriesStore()
    engine = RuleEngine(load_rules(_file(tmp_path, GOOD)), store, bus=bus)
    for t in (0, 30, 60, 90):
        store.add("things", {"key_id": "k1"}, 9, t)
        firing = engine.evaluate(t)
        assert bool(firing) == (t >= 60)
    assert len(seen) == 1
    a = seen[0]
    assert a.topic == "monitor.rule.TooManyThings" and a.severity == "high"
    assert a.summary == "key k1 has 9 things" and a.details["threat"] == "extraction"
    assert a.details["key_id"] == "k1"


def test_engine_when_condition_clears_then_resolved_and_can_fire_again(tmp_path):
    bus = EventBus()
    seen: list[Alert] = []
    bus.subscribe("*", seen.append)
    store = SeriesStore()
    engine = RuleEngine(
        load_rules(_file(tmp_path, GOOD.replace("for: 1m", "for: 0s"))), store, bus=bus
    )
    store.add("things", {"key_id": "k1"}, 9, 0)
    engine.evaluate(0)
    store.add("things", {"key_id": "k1"}, 1, 10)
    assert engine.evaluate(10) == []
    store.add("things", {"key_id": "k1"}, 9, 20)
    engine.evaluate(20)
    assert len(seen) == 2
