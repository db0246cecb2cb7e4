"""Cost of the supply-chain and compliance work the demo adds, and of its parts.

Measures (medians of ``--repeat`` runs, one process, same machine):
- the demo hook (register + assess three vendors) plus the five governance checks,
  against a live gateway on loopback, over the demo's budget of 30 s;
- SBOM build + CycloneDX schema validation, and the offline dependency audit of every
  installed package against the bundled curated snapshot.

The state folder holds a stand-in fraud model (two small files) so the records check sees
a deployed automated-decision model, as in the demo.

Run: ``PYTHONPATH=src nice -n 10 python3 bench/supply_chain.py --repeat 5``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import shopguard.governance.checks  # noqa: F401
from shopguard.core.runtime import Runtime, init_state
from shopguard.core.scorecard import CheckContext, run_checks
from shopguard.core.settings import load_settings
from shopguard.demo.run import serve_in_thread
from shopguard.gateway.app import create_app
from shopguard.governance import depaudit, sbom
from shopguard.governance.supply_demo import setup_supply_chain_demo

CHECKS = (
    "supply_chain.sbom_complete",
    "supply_chain.no_vulnerable_dependencies",
    "supply_chain.config_audit_clean",
    "compliance.vendors_assessed",
    "compliance.records_generated",
)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def one_run(statuses: dict[str, str]) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        s = load_settings(home=Path(tmp) / ".shopguard")
        init_state(s)
        fraud = s.models_dir / "fraud"
        fraud.mkdir(parents=True, exist_ok=True)
        (fraud / "model.json").write_text(json.dumps({"format": "shopguard.fraud"}))
        (fraud / "model.skops").write_bytes(b"0" * 100_000)
        rt = Runtime.open(s)
        try:
            with serve_in_thread(create_app(s, runtime=rt)) as url:
                t0 = time.perf_counter()
                res = setup_supply_chain_demo(rt)
                card = run_checks(
                    CheckContext({"runtime": rt, "base_url": url, **res}), names=CHECKS
                )
                demo = time.perf_counter() - t0
                statuses.update({r.id: r.status.value for r in card.results})
            bom = timed(lambda: sbom.validate_bom_json(sbom.bom_to_json(sbom.build_bom(s))))
            svc = depaudit.OsvExportService.from_path(depaudit.CURATED_ADVISORIES)
            deps = depaudit.installed_dependencies()
            ours = timed(lambda: depaudit.audit_dependencies(svc, dependencies=deps))
        finally:
            rt.close()
    return demo, bom, ours


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("bench/results/supply-chain.md"))
    args = ap.parse_args()
    statuses: dict[str, str] = {}
    runs = [one_run(statuses) for _ in range(args.repeat)]
    demo, bom, audit = (list(col) for col in zip(*runs, strict=True))
    med = statistics.median
    rows = [
        ("demo hook + 5 governance checks", med(demo), 30.0),
        ("SBOM build + schema validation", med(bom), None),
        ("offline dependency audit, all installed packages", med(audit), None),
    ]
    lines = [
        "# Supply chain and compliance: cost",
        "",
        f"Machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, shared 2-core build box (load from other engineers); "
        f"medians of {args.repeat} runs in one process; {len(depaudit.installed_dependencies())} "
        "installed distributions.",
        "",
        "| measure | median (ms) | bar (ms) | ratio to bar |",
        "| --- | --- | --- | --- |",
    ]
    for name, value, bar in rows:
        ratio = f"{value / bar:.3f}" if bar else "-"
        lines.append(
            f"| {name} | {value * 1000:.1f} | {bar * 1000:.0f} | {ratio} |"
            if bar
            else f"| {name} | {value * 1000:.1f} | - | - |"
        )
    lines += [
        "",
        f"Check statuses in the last run: {json.dumps(statuses)}",
        "",
        "Reproduce: `PYTHONPATH=src nice -n 10 python3 bench/supply_chain.py --repeat 5`",
        "",
    ]
    args.out.write_text("\n".join(lines), "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
