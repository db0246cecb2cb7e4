"""The no-personal-data-in-logs check passes on a clean deployment and catches a leak."""

from __future__ import annotations

from shopguard.core.scorecard import CheckContext, Status
from shopguard.demo.run import serve_in_thread
from shopguard.privacy.checks import NoPersonalDataInLogs
from tests.integration.conftest import Gateway


def test_no_pii_in_logs_when_clean_then_pass_and_when_a_log_leaks_then_fail(
    gateway: Gateway,
) -> None:
    with serve_in_thread(gateway.app) as url:
        ctx = CheckContext(
            {"runtime": gateway.runtime, "base_url": url, "api_keys": {"full": gateway.key()}}
        )
        status, figure, evidence = NoPersonalDataInLogs().run(ctx)
        assert status is Status.PASS, evidence
        # A component that logs a customer's contact details in clear is caught.
        (gateway.settings.home / "worker.log").write_text(
            "INFO order shipped to jane.doe@example.com, call +44 20 7946 0958\n"
        )
        status, figure, evidence = NoPersonalDataInLogs().run(ctx)
        assert status is Status.FAIL and figure is not None and figure.value >= 1
