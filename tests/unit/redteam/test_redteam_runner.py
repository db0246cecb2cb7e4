"""The runner: what a remote run skips (and why), plug-ins lighting up through the registries,
request tagging and the time limit."""

from __future__ import annotations

import httpx
import pytest

from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks
from shopguard.redteam import Attack, Finding, attacks
from shopguard.redteam.runner import (
    RUN_HEADER,
    _Counter,
    attack_targets,
    remote_context,
    run_suite,
    tag_requests,
)


class _LocalOnly(Check):
    """Needs the deployment's runtime."""

    name = "zz_test.local_only"
    area = Area.OPERATIONS
    title = "local only"
    requires = ("runtime",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        return Status.PASS, None, "ran"


class _Remote(Check):
    """Talks to the target."""

    name = "zz_test.remote"
    area = Area.ADVERSARIAL
    title = "remote"
    requires = ("base_url", "api_keys")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        return Status.FAIL, Figure("robust_accuracy", 0.2, 0.6), "eps 8/255"


class _Images(Attack):
    """A future capability's attack (e.g. adversarial images)."""

    name = "zz_images.pgd"
    area = Area.ADVERSARIAL
    control = "adversarial.purifier"
    bar = "robust accuracy >= 0.6 at eps 8/255"

    def run(self, target: dict[str, float]) -> Finding:
        acc = target["acc"]
        return Finding(
            self.name, self.control, "robust_accuracy", acc, 0.6, acc >= 0.6,
            {"robust_accuracy": {0.0: 0.9, 0.03: acc}},
        )  # fmt: skip


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    from shopguard.redteam.runner import load_plugins

    load_plugins()
    monkeypatch.setitem(checks._entries, _LocalOnly.name, _LocalOnly)
    monkeypatch.setitem(checks._entries, _Remote.name, _Remote)
    monkeypatch.setitem(attacks._entries, _Images.name, _Images)


def test_remote_run_when_check_needs_local_state_then_skipped_with_reason_never_passed(
    plugins: None,
) -> None:
    ctx = remote_context("http://127.0.0.1:9", {"full": "k"})
    res = run_suite(ctx, names=["zz_test.local_only", "zz_test.remote"])
    by_id = {r.id: r for r in res.scorecard.results}
    assert by_id["zz_test.local_only"].status is Status.SKIPPED
    assert "runtime" in by_id["zz_test.local_only"].evidence
    assert by_id["zz_test.remote"].status is Status.FAIL
    assert not res.passed


def test_new_attack_when_registered_with_target_builder_then_runs_and_plots(
    plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = remote_context("http://127.0.0.1:9", {"full": "k"}, {"image_acc": 0.7})
    res = run_suite(ctx, names=["attack.zz_images.pgd"])
    (skipped,) = res.scorecard.results
    assert skipped.status is Status.SKIPPED and "no target builder" in skipped.evidence
    monkeypatch.setitem(attack_targets, "zz_images", lambda cls, c: {"acc": c["image_acc"]})
    res = run_suite(ctx, names=["attack.zz_images.pgd"])
    (r,) = res.scorecard.results
    assert r.status is Status.PASS and r.figure == Figure("robust_accuracy", 0.7, 0.6)
    assert res.findings["zz_images.pgd"].details["robust_accuracy"][0.03] == 0.7


def test_run_when_time_limit_passed_then_later_items_skipped(plugins: None) -> None:
    ctx = remote_context("http://127.0.0.1:9", {"full": "k"})
    res = run_suite(ctx, names=["zz_test.remote"], time_limit=1e-9)
    (r,) = res.scorecard.results
    assert r.status is Status.SKIPPED and "time limit" in r.evidence


def test_tag_requests_when_target_host_then_tagged_counted_and_budget_enforced() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get(RUN_HEADER))
        return httpx.Response(200)

    counter = _Counter(2)
    with (
        tag_requests("http://target.test", "rt-x", counter),
        httpx.Client(transport=httpx.MockTransport(handler)) as c,
    ):
        c.get("http://elsewhere.test/")  # not the target: neither tagged nor counted
        c.get("http://target.test/a")
        c.get("http://target.test/b")
        with pytest.raises(RuntimeError, match="budget"):
            c.get("http://target.test/c")
    assert seen == [None, "rt-x", "rt-x"] and counter.sent == 2
    # Outside the block httpx is itself again.
    with httpx.Client(transport=httpx.MockTransport(handler)) as c:
        c.get("http://target.test/d")
    assert seen[-1] is None
