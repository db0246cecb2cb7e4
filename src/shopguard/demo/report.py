"""``report.html``: what the demo built, how good its models are, and the scorecard, with plots."""

from __future__ import annotations

import base64
import html
import io
import json
import statistics
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from shopguard import __version__

if TYPE_CHECKING:
    from shopguard.demo.run import DemoResult

__all__ = ["write_report"]

_STATUS_COLOUR = {"pass": "#2e7d32", "fail": "#c62828", "error": "#ef6c00", "skipped": "#757575"}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem} .sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%} th,td{border-bottom:1px solid #ddd;padding:.35rem .6rem;text-align:left;vertical-align:top}
th{background:#f5f5f5} .num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.6rem;color:#fff;font-size:.85rem}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1rem} img{max-width:100%}
.summary{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:.5rem;padding:.6rem 1rem;min-width:8rem}
.card b{font-size:1.4rem;display:block}
"""


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _fraud_plot(scores: dict[str, list[float]]) -> str:
    from sklearn.metrics import average_precision_score, roc_auc_score

    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    legit, fraud = scores.get("legit", []), scores.get("fraud", [])
    subtitle = ""
    if legit and fraud:
        y = [0] * len(legit) + [1] * len(fraud)
        auc = roc_auc_score(y, legit + fraud)
        ap = average_precision_score(y, legit + fraud)
        subtitle = (
            f"\nROC AUC {auc:.3f}, AP {ap:.3f} on {len(fraud)} frauds / {len(legit)} legitimate"
        )
    bins = [i / 40 for i in range(41)]
    ax.hist(
        scores.get("legit", []),
        bins=bins,
        alpha=0.7,
        label="legitimate",
        color="#1565c0",
        density=True,
    )
    ax.hist(
        scores.get("fraud", []), bins=bins, alpha=0.7, label="fraud", color="#c62828", density=True
    )
    ax.set_yscale("log")
    ax.set_xlabel("fraud score (last 21 days, model fitted on earlier days)")
    ax.set_ylabel("density (log)")
    ax.set_title("Fraud scores, out of time" + subtitle, fontsize=10)
    ax.legend()
    return _png(fig)


def _latency_plot(traffic: dict[str, list[float]]) -> str:
    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    names = [n for n, v in traffic.items() if v]
    ax.boxplot([traffic[n] for n in names], showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), names, rotation=15)
    ax.set_ylabel("latency (ms), through HTTP")
    ax.set_title("API latency per endpoint (audited)")
    return _png(fig)


def _scorecard_plot(checks: list[dict[str, Any]]) -> str:
    areas = sorted({c["area"] for c in checks})
    fig, ax = plt.subplots(figsize=(5.2, 0.5 + 0.45 * max(len(areas), 1)))
    left = [0] * len(areas)
    for status, colour in _STATUS_COLOUR.items():
        counts = [sum(1 for c in checks if c["area"] == a and c["status"] == status) for a in areas]
        ax.barh(areas, counts, left=left, color=colour, label=status)
        left = [x + y for x, y in zip(left, counts, strict=True)]
    ax.set_xlabel("checks")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_title("Scorecard by area")
    return _png(fig)


def _metrics_rows(metrics: dict[str, dict[str, Any]]) -> str:
    rows = []

    def flat(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                flat(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            rows.append((prefix, value))

    for model, m in metrics.items():
        flat(model, m)
    return "".join(
        f"<tr><td>{html.escape(k)}</td><td class=num>{v:.4g}</td></tr>" for k, v in rows[:60]
    )


def write_report(result: DemoResult, *, fraud_scores: dict[str, list[float]]) -> None:
    card = result.scorecard.to_json()
    checks = card["checks"]
    passed = sum(1 for c in checks if c["status"] == "pass")
    s = result.store_summary
    esc = html.escape
    check_rows = "".join(
        "<tr><td><span class=badge style='background:{col}'>{st}</span></td><td>{area}</td>"
        "<td><code>{id}</code><br>{title}</td><td class=num>{fig}</td><td>{ev}</td></tr>".format(
            col=_STATUS_COLOUR.get(c["status"], "#000"),
            st=esc(c["status"]),
            area=esc(c["area"]),
            id=esc(c["id"]),
            title=esc(c["title"]),
            fig=""
            if c["figure"] is None
            else esc(
                f"{c['figure']['name']} = {c['figure']['value']:.4g} (bar {c['figure']['bar']:.4g})"
            ),
            ev=esc(c["evidence"]),
        )
        for c in checks
    )
    traffic_rows = "".join(
        f"<tr><td>{esc(n)}</td><td class=num>{len(v)}</td><td class=num>{statistics.median(v):.1f}</td>"
        f"<td class=num>{max(v):.1f}</td></tr>"
        for n, v in result.traffic.items()
        if v
    )
    patterns = ", ".join(f"{esc(k)}: {v}" for k, v in sorted(s["fraud_patterns"].items()))
    redteam = (
        f"<p><b>Red team:</b> {esc(result.redteam.summary())} "
        f"<a href='redteam/report.html'>Full red-team report</a>.</p>"
        if result.redteam is not None
        else ""
    )
    doc = f"""<!doctype html><html lang=en><head><meta charset=utf-8>
<title>shopguard demo report</title><style>{_CSS}</style></head><body>
<h1>shopguard demo report</h1>
<p class=sub>shopguard {esc(__version__)} · generated {esc(card["generated_at"])} · {result.seconds:.0f} s</p>
<div class=summary>
<div class=card><b>{passed}/{len(checks)}</b>checks passed</div>
<div class=card><b>{s["customers"]:,}</b>customers</div>
<div class=card><b>{s["transactions"]:,}</b>payments</div>
<div class=card><b>{100 * s["fraud_rate"]:.2f} %</b>fraud</div>
<div class=card><b>{s["reviews"]:,}</b>reviews</div>
</div>
{redteam}
<h2>Scorecard</h2>
{_scorecard_plot(checks)}
<table><tr><th>status</th><th>area</th><th>check</th><th>figure</th><th>evidence</th></tr>{check_rows}</table>
<h2>The store's models</h2>
<div class=grid><div>{_fraud_plot(fraud_scores)}</div><div>{_latency_plot(result.traffic)}</div></div>
<p>Fraud patterns in the generated payments: {patterns}.</p>
<table><tr><th>metric</th><th class=num>value</th></tr>{_metrics_rows(result.model_metrics)}</table>
<h2>Traffic through the API</h2>
<table><tr><th>endpoint</th><th class=num>requests</th><th class=num>median ms</th><th class=num>max ms</th></tr>{traffic_rows}</table>
<p>Every request above was written to the tamper-evident audit log before its response was sent.
Run <code>shopguard audit verify</code> in this directory to check it.</p>
<details><summary>scorecard.json</summary><pre>{esc(json.dumps(card, indent=2))}</pre></details>
</body></html>"""
    tmp = result.report.with_suffix(".html.tmp")
    tmp.write_text(doc, "utf-8")
    tmp.replace(result.report)
