"""The customer-facing transparency report: which AI the store uses, on what data, why, how to
opt out, and how fair it is, in plain words with charts (HTML, and PDF via matplotlib).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from shopguard.fairness.cards import MODEL_FACTS

__all__ = ["plain_words", "write_transparency_report"]


def plain_words(attribute: str, audit: Mapping[str, Any]) -> str:
    """One paragraph a customer can read about an audit of ``attribute``."""
    what = attribute.replace("_", " ")
    dp = audit.get("false_positive_rate_difference") or audit.get("demographic_parity_difference")
    small = audit.get("too_small") or []
    parts = []
    if audit.get("verdict") == "cannot_judge" or dp is None:
        parts.append(f"We could not yet judge fairness by {what}: too few payments per group.")
    else:
        pts = dp["value"] * 100
        verdict = "within" if audit.get("verdict") == "within_bars" else "outside"
        parts.append(
            f"By {what}, the share of genuine payments we wrongly stopped differs by at most "
            f"{pts:.1f} percentage points between groups (95% range "
            f"{dp['low'] * 100:.1f}-{dp['high'] * 100:.1f}); this is {verdict} the limit we set."
        )
    if small:
        parts.append(
            f"Groups with fewer than {audit.get('min_group_size')} payments ("
            + ", ".join(small)
            + ") are too small to judge and are not counted as fair."
        )
    return " ".join(parts)


def _chart(attribute: str, audit: Mapping[str, Any]) -> Figure:
    groups = [g for g in audit["groups"] if g["status"] == "ok"]
    fig = Figure(figsize=(6, 2.8))
    ax = fig.add_subplot()
    names = [g["group"] for g in groups]
    fpr = [(g["false_positive_rate"] or 0.0) * 100 for g in groups]
    sel = [g["selection_rate"] * 100 for g in groups]
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], sel, width=0.4, label="payments stopped (%)", color="#4c72b0")
    ax.bar([i + 0.2 for i in x], fpr, width=0.4, label="genuine ones stopped (%)", color="#dd8452")
    ax.set_xticks(list(x), names)
    ax.set_title(f"Fraud checks by {attribute.replace('_', ' ')}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def write_transparency_report(
    out_dir: Path,
    *,
    store_name: str = "our store",
    models: Sequence[str] = ("fraud", "recommender", "reviews"),
    audits: Mapping[str, Mapping[str, Any]] | None = None,
    pdf: bool = True,
    now: datetime | None = None,
) -> list[Path]:
    """Write ``transparency.html`` (and ``transparency.pdf``) into ``out_dir``.

    ``audits`` maps a sensitive attribute to a fraud-model audit (``AuditResult.to_json()``).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    audits = audits or {}
    when = (now or datetime.now(UTC)).date().isoformat()
    features = []
    for name in models:
        f = MODEL_FACTS.get(name)
        if f is None:
            continue
        features.append(
            "<section><h2>{}</h2><p><b>What it does:</b> {}</p><p><b>Data it uses:</b> {}</p>"
            "<p><b>Why:</b> {}</p><p><b>Your choice:</b> {}</p><p><b>Legal basis:</b> {}</p>"
            "</section>".format(
                *(
                    html.escape(str(f[k]))
                    for k in (
                        "customer_feature",
                        "intended_use",
                        "data",
                        "why",
                        "opt_out",
                        "consent_basis",
                    )
                )
            )
        )
    fairness = []
    figs: list[Figure] = []
    for attr, audit in audits.items():
        fig = _chart(attr, audit)
        figs.append(fig)
        fairness.append(
            f"<p>{html.escape(plain_words(attr, audit))}</p>"
            f'<img alt="fraud checks by {html.escape(attr)}" src="data:image/png;base64,{_png(fig)}">'
        )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>How {html.escape(store_name)} uses AI</title>
<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;line-height:1.5}}
img{{max-width:100%}}</style></head><body>
<h1>How {html.escape(store_name)} uses AI</h1><p>Updated {when}.</p>
{"".join(features)}
<h2>Is it fair?</h2>
{"".join(fairness) or "<p>No fairness audit has been run yet.</p>"}
<h2>Ask a person</h2><p>If an automated decision affected you, you can ask for a person to
review it; we answer within the deadline given when you ask.</p>
</body></html>
"""
    html_path = out_dir / "transparency.html"
    html_path.write_text(page, "utf-8")
    written = [html_path]
    if pdf:
        pdf_path = out_dir / "transparency.pdf"
        with PdfPages(pdf_path) as pages:
            text = plt.figure(figsize=(8.27, 11.69))
            lines = [f"How {store_name} uses AI (updated {when})", ""]
            for name in models:
                f = MODEL_FACTS.get(name)
                if f:
                    lines += [
                        f["customer_feature"],
                        f"  {f['intended_use']}",
                        f"  Choice: {f['opt_out']}",
                        "",
                    ]
            for attr, audit in audits.items():
                lines += [plain_words(attr, audit), ""]
            import textwrap

            wrapped = [w for ln in lines for w in (textwrap.wrap(ln, 95) or [""])]
            text.text(0.05, 0.97, "\n".join(wrapped), va="top", fontsize=8, family="sans-serif")
            pages.savefig(text)
            plt.close(text)
            for fig in figs:
                pages.savefig(fig)
        written.append(pdf_path)
    return written
