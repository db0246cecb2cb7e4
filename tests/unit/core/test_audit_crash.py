"""A process killed with SIGKILL while appending loses nothing committed and leaves a valid log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from shopguard.core.runtime import Runtime
from shopguard.core.settings import Settings

CHILD = textwrap.dedent(
    """
    import sys, threading
    from shopguard.core.audit import AuditEvent
    from shopguard.core.runtime import Runtime
    from shopguard.core.settings import load_settings

    rt = Runtime.open(load_settings(), migrate_schema=False)

    def spam(k):
        i = 0
        while True:
            rec = rt.audit.append(AuditEvent(action="crash.test", decision="allow", details={"k": k, "i": i}))
            sys.stdout.write(f"{rec.seq}\\n")
            sys.stdout.flush()
            i += 1

    for k in range(4):
        threading.Thread(target=spam, args=(k,), daemon=True).start()
    threading.Event().wait()
    """
)


@pytest.mark.slow
def test_append_when_process_sigkilled_then_committed_entries_survive_and_verify(
    settings: Settings, tmp_path
) -> None:
    env = {**os.environ, "SHOPGUARD_HOME": str(settings.home)}
    if settings.database_url:
        env["SHOPGUARD_DATABASE_URL"] = settings.database_url
    out = tmp_path / "acked.txt"
    with out.open("w") as fh:
        child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=fh, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if out.stat().st_size > 2000:  # several hundred entries acknowledged
                break
        assert child.poll() is None, "child died on its own"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    acked = {int(line) for line in out.read_text().split()}
    assert len(acked) > 100
    rt = Runtime.open(settings)
    try:
        report = rt.audit.verify()
        assert report.ok, report
        stored = {r.seq for r in rt.audit.records()}
    finally:
        rt.close()
    assert acked <= stored  # every acknowledged append is durable
