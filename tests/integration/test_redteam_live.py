"""``shopguard redteam run`` against a live gateway: artefacts, exit codes, safety (guard toggles:
test_guard_toggles.py)."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from shopguard.cli import main
from shopguard.core.scorecard import Area, Status
from shopguard.demo.run import serve_in_thread
from shopguard.redteam.runner import RUN_HEADER, remote_context, run_suite
from tests.integration.conftest import Gateway, make_settings

pytestmark = pytest.mark.slow

GUARDS = ["authn", "authz", "rate_limit"]


def _keys(gw: Gateway) -> dict[str, str]:
    return {
        "full": gw.key(),
        "underscoped": gw.key("catalogue:read"),
        "flood": gw.key("metrics:read"),
        "other_tenant": gw.key(tenant="other"),
    }


def _snapshot(gw: Gateway) -> dict[str, Any]:
    """Every non-audit table's rows and every store file's digest."""
    tables: dict[str, Any] = {}
    with gw.runtime.engine.connect() as conn:
        for name in sa.inspect(conn).get_table_names():
            if "audit" in name or name == "alembic_version":
                continue
            rows = conn.execute(sa.text(f'SELECT * FROM "{name}"')).fetchall()
            # Key bookkeeping (last use) moves on every request, and the audit log's own
            # pseudonym key appears with its first entry: both belong to the audit trail.
            tables[name] = sorted(
                repr(tuple(v for k, v in r._mapping.items() if "last_used" not in k))
                for r in rows
                if not str(r._mapping.get("purpose", "")).startswith("audit.")
            )
    files = {
        str(p.relative_to(gw.settings.home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((gw.settings.home / "store").rglob("*"))
        if p.is_file()
    }
    return {"tables": tables, "files": files}


def test_run_when_guards_on_then_exit_0_and_every_artefact_written_and_data_unchanged(
    gateway_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPGUARD_NO_PROGRESS", "1")
    monkeypatch.setenv("SHOPGUARD_HOME", str(tmp_path / "client-home"))
    gw = Gateway(
        make_settings(gateway_home, gateway_guards=GUARDS, rate_limit_key="20/second;2000/minute")
    )
    seen: list[str | None] = []

    @gw.app.middleware("http")
    async def record(request: Any, call_next: Any) -> Any:
        seen.append(request.headers.get(RUN_HEADER))
        return await call_next(request)

    keys = _keys(gw)
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"api_keys": {k: v for k, v in keys.items() if k != "full"}}))
    try:
        before = _snapshot(gw)
        with serve_in_thread(gw.app) as url:
            rc = main(
                [
                    "redteam", "run", "--target", url, "--key", keys["full"],
                    "--keys-file", str(keys_file), "--only", "api", "--out", str(tmp_path / "out"),
                ]
            )  # fmt: skip
        after = _snapshot(gw)
    finally:
        gw.close()
    assert rc == 0
    out = tmp_path / "out"
    card = json.loads((out / "scorecard.json").read_text())
    assert card["version"] == 1
    by_id = {c["id"]: c for c in card["checks"]}
    assert by_id["api.underscoped_key_refused"]["status"] == "pass"
    assert by_id["api.flood_rate_limited"]["status"] == "pass"
    # No foreign customer is known remotely: skipped with the reason, never passed.
    assert by_id["api.cross_tenant_read_refused"]["status"] == "skipped"
    assert "foreign_customer" in by_id["api.cross_tenant_read_refused"]["evidence"]
    assert {c["area"] for c in card["checks"]} == {"api"}
    # Every request carried the run's tag; the target's data is as it was.
    run_ids = set(seen)
    assert len(run_ids) == 1 and next(iter(run_ids), "").startswith("rt-")
    assert before == after
    junit = ET.parse(out / "junit.xml").getroot()
    assert junit.tag == "testsuites" and junit.find("testsuite").get("name") == "api"
    assert "<html" in (out / "report.html").read_text()
    stored = list((tmp_path / "client-home" / "redteam").glob("rt-*.json"))
    assert len(stored) == 1


def test_run_when_budget_spent_then_rest_skipped_and_never_passed(
    gateway_home: Path,
) -> None:
    gw = Gateway(make_settings(gateway_home, gateway_guards=GUARDS))
    try:
        with serve_in_thread(gw.app) as url:
            res = run_suite(remote_context(url, _keys(gw)), only=[Area.API], budget=3)
    finally:
        gw.close()
    assert res.queries == 3
    statuses = {r.id: r.status for r in res.scorecard.results}
    assert Status.SKIPPED in statuses.values()
    assert any("budget" in r.evidence for r in res.scorecard.results)
    assert statuses["api.flood_rate_limited"] is not Status.PASS
