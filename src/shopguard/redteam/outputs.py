"""What a red-team run writes: scorecard.json, report.html, JUnit XML, SARIF 2.1.0, history.

History is one JSON file per run under ``<home>/redteam/`` (``{"meta": ..., "scorecard": ...}``);
:func:`diff` compares two of them per check and per area.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from shopguard import __version__
from shopguard.core.scorecard import checks
from shopguard.redteam._registry import attacks
from shopguard.redteam.fixes import fix_for
from shopguard.redteam.runner import RunResult

__all__ = [
    "Change",
    "diff",
    "history",
    "load_run",
    "save_run",
    "to_junit",
    "to_sarif",
    "write_outputs",
    "write_report",
]

_RUN_ID = re.compile(r"^rt-[0-9TZ]+-[0-9a-f]{6}$")
_STATUS_RANK = {"pass": 3, "skipped": 2, "error": 1, "fail": 0}
_COLOUR = {"pass": "#2e7d32", "fail": "#c62828", "error": "#ef6c00", "skipped": "#757575"}


# --- history ---------------------------------------------------------------------------------


def save_run(result: RunResult, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result.run_id}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"meta": result.meta(), "scorecard": result.scorecard.to_json()}, indent=1),
        "utf-8",
    )
    tmp.replace(path)
    return path


def load_run(directory: Path, run_id: str) -> dict[str, Any]:
    """A stored run by id (``latest`` and ``previous`` also work); KeyError if unknown."""
    runs = history(directory)
    if run_id in ("latest", "previous"):
        idx = -1 if run_id == "latest" else -2
        if len(runs) < -idx:
            raise KeyError(run_id)
        return runs[idx]
    if not _RUN_ID.match(run_id):
        raise KeyError(run_id)
    path = directory / f"{run_id}.json"
    if not path.is_file():
        raise KeyError(run_id)
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def history(directory: Path) -> list[dict[str, Any]]:
    """Every stored run, oldest first."""
    if not directory.is_dir():
        return []
    runs = []
    for p in sorted(directory.glob("rt-*.json")):
        try:
            runs.append(json.loads(p.read_text("utf-8")))
        except (OSError, ValueError):
            continue
    runs.sort(key=lambda r: (r["meta"]["started_at"], r["meta"]["run_id"]))
    return runs


@dataclass(frozen=True)
class Change:
    id: str
    area: str
    before: str | None
    after: str | None
    kind: str  # regression / improvement / new / removed / same


def diff(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[Change], dict[str, dict[str, int]]]:
    """Per-check changes from run ``a`` to run ``b``, and per-area counts of each kind."""
    before = {c["id"]: c for c in a["scorecard"]["checks"]}
    after = {c["id"]: c for c in b["scorecard"]["checks"]}
    changes = []
    for cid in sorted(set(before) | set(after)):
        x, y = before.get(cid), after.get(cid)
        sx, sy = (x or {}).get("status"), (y or {}).get("status")
        area = (y or x or {}).get("area", "")
        if x is None:
            kind = "new"
        elif y is None:
            kind = "removed"
        elif _STATUS_RANK[str(sy)] < _STATUS_RANK[str(sx)]:
            kind = "regression"
        elif _STATUS_RANK[str(sy)] > _STATUS_RANK[str(sx)]:
            kind = "improvement"
        else:
            kind = "same"
        changes.append(Change(cid, area, sx, sy, kind))
    per_area: dict[str, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("regression", "improvement", "new", "removed", "same"), 0)
    )
    for c in changes:
        per_area[c.area][c.kind] += 1
    return changes, dict(per_area)


# --- CI formats --------------------------------------------------------------------------------


def to_junit(result: RunResult) -> str:
    """JUnit XML: one testsuite per area, one testcase per check."""
    by_area: dict[str, list[Any]] = defaultdict(list)
    for r in result.scorecard.results:
        by_area[r.area.value].append(r)
    root = ET.Element(
        "testsuites", name=f"shopguard redteam {result.run_id}", time=f"{result.seconds:.2f}"
    )
    for area, rs in sorted(by_area.items()):
        counts = Counter(r.status.value for r in rs)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=area,
            tests=str(len(rs)),
            failures=str(counts["fail"]),
            errors=str(counts["error"]),
            skipped=str(counts["skipped"]),
        )
        for r in rs:
            case = ET.SubElement(suite, "testcase", classname=f"shopguard.{area}", name=r.id)
            text = r.evidence + (
                f" [{r.figure.name}={r.figure.value:.4g}, bar {r.figure.bar:.4g}]"
                if r.figure
                else ""
            )
            if r.status.value == "fail":
                ET.SubElement(case, "failure", message=r.title).text = text
            elif r.status.value == "error":
                ET.SubElement(case, "error", message=r.title).text = text
            elif r.status.value == "skipped":
                ET.SubElement(case, "skipped", message=r.evidence)
            else:
                ET.SubElement(case, "system-out").text = text
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _rule_cls(check_id: str) -> object | None:
    if check_id.startswith("attack."):
        name = check_id.removeprefix("attack.")
        return attacks.get(name) if name in attacks else None
    return checks.get(check_id) if check_id in checks else None


def to_sarif(result: RunResult) -> dict[str, Any]:
    """SARIF 2.1.0: a rule per check, a result per check that did not pass or skip."""
    rules, results = [], []
    for r in result.scorecard.results:
        fix = fix_for(r.id, r.area.value, _rule_cls(r.id))
        rules.append(
            {
                "id": r.id,
                "name": r.id.replace(".", "_"),
                "shortDescription": {"text": r.title},
                "help": {"text": fix or r.title},
                "properties": {"area": r.area.value, "tags": ["security", r.area.value]},
            }
        )
        if r.status.value in ("fail", "error"):
            msg = r.evidence
            if r.figure is not None:
                msg += f" ({r.figure.name}={r.figure.value:.4g}, bar {r.figure.bar:.4g})"
            results.append(
                {
                    "ruleId": r.id,
                    "level": "error" if r.status.value == "fail" else "warning",
                    "message": {"text": f"{r.title}: {msg}. Fix: {fix}"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "shopguard.toml"},
                                "region": {"startLine": 1},
                            },
                            "logicalLocations": [
                                {"name": r.id, "fullyQualifiedName": f"{result.target}#{r.id}"}
                            ],
                        }
                    ],
                }
            )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "shopguard-redteam",
                        "version": __version__,
                        "informationUri": "https://github.com/shopguard/shopguard",
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"shopguard-redteam/{result.run_id}"},
                "invocations": [{"executionSuccessful": True}],
                "results": results,
            }
        ],
    }


# --- report ------------------------------------------------------------------------------------

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;max-width:1100px;color:#222;padding:0 1rem;font-size:14px}
h1{margin:0 0 .2rem} h2{margin:1.2rem 0 .4rem;font-size:1.15rem} .sub{color:#555;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3} .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:.6rem;color:#fff;font-size:.8rem;font-weight:600}
.verdict{font-size:1.2rem;font-weight:700;padding:.5rem .8rem;border-radius:.4rem;color:#fff;display:inline-block}
.cards{display:flex;gap:.6rem;flex-wrap:wrap;margin:.6rem 0}.card{border:1px solid #ddd;border-radius:.4rem;padding:.4rem .8rem;min-width:7rem}
.card b{font-size:1.3rem;display:block}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:.8rem} img{max-width:100%}
details summary{cursor:pointer} .areas>tbody>tr>td:nth-child(-n+3){white-space:nowrap;width:1%} .ev{overflow-wrap:anywhere} .fix{color:#0d47a1} .ev{color:#444;font-size:.85rem}
@media print{
 body{margin:0;max-width:none;font-size:10px} h2{page-break-after:avoid}
 tr,img,.plots>div{page-break-inside:avoid} details::details-content{content-visibility:visible;display:block}
 .badge,.verdict{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 @page{size:A4;margin:12mm}
}
"""


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return (
        f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'
    )


def _badge(status: str) -> str:
    return (
        f'<span class="badge" style="background:{_COLOUR.get(status, "#757575")}">{status}</span>'
    )


def _area_status(statuses: list[str]) -> str:
    if "fail" in statuses:
        return "fail"
    if "error" in statuses:
        return "error"
    if "pass" in statuses:
        return "pass"
    return "skipped"


def _extraction_plot(result: RunResult) -> str | None:
    pts = {
        name: f.details
        for name, f in result.findings.items()
        if name.startswith("extraction.") and "fidelity_at_stop" in f.details
    }
    if not pts:
        return None
    fig, ax = plt.subplots(figsize=(4.8, 3.0))
    for name, d in sorted(pts.items()):
        xs, ys = [0.0], [1 / 3]
        if d.get("alarm_at") is not None and d.get("fidelity_at_alarm") is not None:
            xs.append(float(d["alarm_at"]))
            ys.append(float(d["fidelity_at_alarm"]))
        stop = d.get("blocked_at") or result.findings[name].value
        xs.append(float(stop))
        ys.append(float(d["fidelity_at_stop"]))
        ax.plot(xs, ys, marker="o", label=name.removeprefix("extraction."))
    ax.axhline(0.9, color="#c62828", ls="--", lw=1, label="bar 0.90")
    ax.set(
        xlabel="queries sent",
        ylabel="surrogate decision fidelity",
        ylim=(0, 1.02),
        title="Extraction fidelity vs queries (stops when blocked)",
    )
    ax.legend(fontsize=7)
    return _png(fig)


def _robust_plot(result: RunResult) -> str | None:
    curves = dict(result.extras.get("robust_accuracy") or {})
    for name, f in result.findings.items():
        if "robust_accuracy" in f.details:
            curves[name] = f.details["robust_accuracy"]
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(4.8, 3.0))
    for name, curve in sorted(curves.items()):
        eps = sorted(float(e) for e in curve)
        ax.plot(
            eps,
            [float(curve[e] if e in curve else curve[str(e)]) for e in eps],
            marker="o",
            label=name,
        )
    ax.set(
        xlabel="epsilon", ylabel="robust accuracy", ylim=(0, 1.02), title="Robust accuracy vs eps"
    )
    ax.legend(fontsize=7)
    return _png(fig)


def _roc_plot(result: RunResult) -> str | None:
    curves = dict(result.extras.get("roc_curves") or {})
    for name, f in result.findings.items():
        if "roc" in f.details:
            curves[name] = f.details["roc"]
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(4.8, 3.0))
    for name, (fpr, tpr) in sorted(curves.items()):
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], color="#999", ls=":", lw=1)
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title="Detector ROC curves")
    ax.legend(fontsize=7)
    return _png(fig)


def _history_plot(past: list[dict[str, Any]]) -> str | None:
    if len(past) < 2:
        return None
    areas = sorted({c["area"] for r in past for c in r["scorecard"]["checks"]})
    fig, ax = plt.subplots(figsize=(9.6, 2.8))
    xs = list(range(len(past)))
    totals = []
    for area in areas:
        ys = []
        for r in past:
            cs = [
                c
                for c in r["scorecard"]["checks"]
                if c["area"] == area and c["status"] != "skipped"
            ]
            ys.append(sum(c["status"] == "pass" for c in cs) / len(cs) if cs else float("nan"))
        ax.plot(xs, ys, marker=".", lw=1, label=area)
    for r in past:
        cs = [c for c in r["scorecard"]["checks"] if c["status"] != "skipped"]
        totals.append(sum(c["status"] == "pass" for c in cs) / len(cs) if cs else float("nan"))
    ax.plot(xs, totals, color="black", lw=2.5, label="all")
    ax.set_xticks(
        xs, [r["meta"]["started_at"][5:16].replace("T", " ") for r in past], rotation=30, fontsize=7
    )
    ax.set(
        ylabel="share of checks passing", ylim=(-0.02, 1.05), title="Posture over time (per area)"
    )
    ax.legend(fontsize=6, ncol=6, loc="lower left")
    return _png(fig)


def write_report(
    result: RunResult,
    path: Path,
    *,
    past: list[dict[str, Any]] | None = None,
    summary: str | None = None,
) -> Path:
    esc = html.escape
    rs = result.scorecard.results
    counts = Counter(r.status.value for r in rs)
    verdict = "PASS" if result.passed else "FAIL"
    by_area: dict[str, list[Any]] = defaultdict(list)
    for r in rs:
        by_area[r.area.value].append(r)
    prev = (
        past[-2]
        if past and len(past) >= 2 and past[-1]["meta"]["run_id"] == result.run_id
        else (past[-1] if past and past[-1]["meta"]["run_id"] != result.run_id else None)
    )
    changes: dict[str, str] = {}
    if prev is not None:
        cur = {"meta": result.meta(), "scorecard": result.scorecard.to_json()}
        changes = {
            c.id: c.kind for c in diff(prev, cur)[0] if c.kind in ("regression", "improvement")
        }
    rows = []
    for area in sorted(
        by_area, key=lambda a: (_STATUS_RANK[_area_status([r.status.value for r in by_area[a]])], a)
    ):
        items = by_area[area]
        st = _area_status([r.status.value for r in items])
        c = Counter(r.status.value for r in items)
        inner = []
        for r in sorted(items, key=lambda r: (_STATUS_RANK[r.status.value], r.id)):
            fig = (
                f"{esc(r.figure.name)} = {r.figure.value:.4g}<br><small>bar {r.figure.bar:.4g}</small>"
                if r.figure
                else "—"
            )
            fix = (
                fix_for(r.id, area, _rule_cls(r.id)) if r.status.value in ("fail", "error") else ""
            )
            mark = changes.get(r.id, "")
            inner.append(
                f"<tr><td>{_badge(r.status.value)}{' <b>' + mark + '</b>' if mark else ''}</td>"
                f"<td><code>{esc(r.id)}</code><br>{esc(r.title)}</td><td class=num>{fig}</td>"
                f"<td class=ev>{esc(r.evidence)}"
                + (f'<div class="fix">Fix: {esc(fix)}</div>' if fix else "")
                + "</td></tr>"
            )
        rows.append(
            f"<tr><td>{_badge(st)}</td><td><b>{esc(area)}</b></td>"
            f"<td class=num>{c['pass']} pass · {c['fail']} fail · {c['error']} error · {c['skipped']} skipped</td>"
            f"<td><details{' open' if st in ('fail', 'error') else ''}><summary>{len(items)} checks</summary>"
            f"<table><tr><th>status</th><th>check</th><th>figure vs bar</th><th>evidence / fix</th></tr>{''.join(inner)}</table>"
            f"</details></td></tr>"
        )
    plots = [p for p in (_extraction_plot(result), _robust_plot(result), _roc_plot(result)) if p]
    hist = _history_plot(past or [])
    head = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>shopguard red team {esc(result.run_id)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>shopguard red-team report</h1><p class=sub>run <code>{esc(result.run_id)}</code> against "
        f"<code>{esc(result.target)}</code> · {esc(result.meta()['started_at'])} · {result.queries} requests"
        f"{' of ' + str(result.budget) if result.budget else ''} · {result.seconds:.0f} s · shopguard {esc(__version__)}</p>"
        f'<span class="verdict" style="background:{_COLOUR["pass" if result.passed else "fail"]}">{verdict}</span>'
        f"<div class=cards>"
        + "".join(
            f"<div class=card><b>{counts[s]}</b>{s}</div>"
            for s in ("pass", "fail", "error", "skipped")
        )
        + (
            f"<div class=card><b>{sum(v == 'regression' for v in changes.values())}</b>regressions</div>"
            if prev
            else ""
        )
        + "</div>"
    )
    body = (
        (f"<p>{esc(summary)}</p>" if summary else "")
        + "<h2>Areas</h2><table class=areas><tr><th>status</th><th>area</th><th>checks</th><th>details</th></tr>"
        + "".join(rows)
        + "</table>"
        + (
            f"<h2>Plots</h2><div class=plots>{''.join(f'<div>{p}</div>' for p in plots)}</div>"
            if plots
            else ""
        )
        + (f"<h2>Over time</h2>{hist}" if hist else "")
        # Print every area's checks, not only the open ones.
        + "<script>addEventListener('beforeprint',()=>document.querySelectorAll('details')"
        + ".forEach(d=>d.open=true))</script></body></html>"
    )
    path.write_text(head + body, "utf-8")
    return path


def write_outputs(
    result: RunResult, out: Path, *, history_dir: Path | None = None, summary: str | None = None
) -> dict[str, Path]:
    """Write every artefact into ``out`` (and the run into history); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "scorecard": out / "scorecard.json",
        "junit": out / "junit.xml",
        "sarif": out / "redteam.sarif",
        "report": out / "report.html",
    }
    result.scorecard.write(paths["scorecard"])
    paths["junit"].write_text(to_junit(result), "utf-8")
    paths["sarif"].write_text(json.dumps(to_sarif(result), indent=1), "utf-8")
    past: list[dict[str, Any]] = []
    if history_dir is not None:
        paths["history"] = save_run(result, history_dir)
        past = history(history_dir)
    write_report(result, paths["report"], past=past, summary=summary)
    return paths
