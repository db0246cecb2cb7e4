from __future__ import annotations

import re

import pytest

from shopguard.core.errors import DataValidationError
from shopguard.monitor.promql import evaluate, parse
from shopguard.monitor.series import SeriesStore

EXPO = """# HELP shopguard_gateway_requests Requests by route and decision.
# TYPE shopguard_gateway_requests counter
shopguard_gateway_requests_total{route="fraud.score",decision="allow"} {a}
shopguard_gateway_requests_total{route="fraud.score",decision="deny"} {d}
shopguard_gateway_requests_total{route="reviews.read",decision="allow"} {r}
"""


def _store(points):
    s = SeriesStore()
    for at, (a, d, r) in points:
        s.ingest(EXPO.replace("{a}", str(a)).replace("{d}", str(d)).replace("{r}", str(r)), at)
    return s


@pytest.mark.parametrize(
    ("expr", "where"),
    [
        ("rate(x)", "range selector"),
        ("sum(rate(x[5m])", "expected ')'"),
        ('x{a=~"("}', "regular expression"),
        ("histogram_quantile(0.9, x)", "unsupported function"),
        ("x > > 1", "position 4"),
        ("", "empty"),
        ("x[5q]", "unexpected"),
    ],
)
def test_parse_when_malformed_then_error_says_where(expr, where):
    with pytest.raises(DataValidationError, match=re.escape(where)):
        parse(expr)


def test_rate_when_counter_grows_then_per_second_rate_by_label():
    s = _store([(0, (0, 0, 0)), (60, (600, 60, 120))])
    v = evaluate(parse("sum by (decision) (rate(shopguard_gateway_requests_total[5m]))"), s, 60)
    assert v == {frozenset({("decision", "allow")}): 12.0, frozenset({("decision", "deny")}): 1.0}


def test_ratio_when_above_threshold_then_kept_else_filtered():
    s = _store([(0, (0, 0, 0)), (60, (100, 100, 0))])
    expr = parse(
        'sum(rate(shopguard_gateway_requests_total{decision="deny"}[5m]))'
        " / sum(rate(shopguard_gateway_requests_total[5m])) > 0.25"
    )
    assert evaluate(expr, s, 60) == {frozenset(): 0.5}
    s2 = _store([(0, (0, 0, 0)), (60, (100, 1, 0))])
    assert evaluate(expr, s2, 60) == {}


def test_rate_when_counter_resets_then_increase_still_positive():
    s = _store([(0, (100, 0, 0)), (30, (160, 0, 0)), (60, (30, 0, 0))])
    v = evaluate(
        parse(
            'increase(shopguard_gateway_requests_total{route="fraud.score",decision="allow"}[5m])'
        ),
        s,
        60,
    )
    assert list(v.values()) == [90.0]


def test_selector_when_regex_and_negation_then_matching_series():
    s = _store([(0, (1, 2, 3))])
    v = evaluate(parse('shopguard_gateway_requests_total{route=~"fraud.*",decision!="deny"}'), s, 0)
    assert list(v.values()) == [1.0]


def test_ingest_when_not_exposition_then_clear_error():
    with pytest.raises(DataValidationError, match="Prometheus text format"):
        SeriesStore().ingest('metric{label="x" 1 2 3\n', 0)
