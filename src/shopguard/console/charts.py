"""Server-rendered SVG charts (no script, no inline style: the console's CSP forbids both).

Each chart carries a ``<title>`` and ``<desc>`` and is followed in the page by
the same numbers as a table, so screen-reader users get the figures too.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["area_bars", "heatmap", "rate_line", "traffic_bars"]

_W, _H, _PAD = 560, 180, 32


def _svg(title: str, desc: str, body: str, width: int = _W, height: int = _H) -> Markup:
    return Markup(  # noqa: S704 - every interpolated text is escaped here
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-labelledby="t-{abs(hash(title))} d-{abs(hash(title))}">'
        f'<title id="t-{abs(hash(title))}">{escape(title)}</title>'
        f'<desc id="d-{abs(hash(title))}">{escape(desc)}</desc>{body}</svg>'
    )


def traffic_bars(buckets: Sequence[tuple[str, int, int]], title: str) -> Markup:
    """Stacked bars per time bucket: allowed (bottom) and denied (top)."""
    n = max(len(buckets), 1)
    top = max([a + d for _, a, d in buckets] + [1])
    bw = (_W - 2 * _PAD) / n
    parts = [
        f'<line class="axis" x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" '
        'stroke="#444"/>',
        f'<text class="lbl" x="{_PAD}" y="14" font-size="11">max {top} requests</text>',
    ]
    for i, (label, allowed, denied) in enumerate(buckets):
        x = _PAD + i * bw
        ha = (_H - 2 * _PAD) * allowed / top
        hd = (_H - 2 * _PAD) * denied / top
        y_a = _H - _PAD - ha
        parts.append(
            f'<rect class="ok" x="{x:.1f}" y="{y_a:.1f}" width="{max(bw - 2, 1):.1f}" '
            f'height="{ha:.1f}" fill="#1f6f3f"><title>{escape(label)}: {allowed} allowed'
            "</title></rect>"
        )
        parts.append(
            f'<rect class="bad" x="{x:.1f}" y="{y_a - hd:.1f}" width="{max(bw - 2, 1):.1f}" '
            f'height="{hd:.1f}" fill="#a11"><title>{escape(label)}: {denied} denied</title></rect>'
        )
        if i in (0, n - 1) or n <= 12:
            parts.append(
                f'<text class="lbl" x="{x:.1f}" y="{_H - 12}" font-size="10">{escape(label)}</text>'
            )
    total_a = sum(a for _, a, _ in buckets)
    total_d = sum(d for _, _, d in buckets)
    return _svg(title, f"{total_a} allowed and {total_d} denied requests", "".join(parts))


def rate_line(points: Sequence[tuple[str, float]], title: str) -> Markup:
    """A line of a rate in [0, 1] per bucket."""
    n = max(len(points), 1)
    step = (_W - 2 * _PAD) / max(n - 1, 1)
    coords = [
        (_PAD + i * step, _H - _PAD - (_H - 2 * _PAD) * min(max(v, 0.0), 1.0))
        for i, (_, v) in enumerate(points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [
        f'<line class="axis" x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" '
        'stroke="#444"/>',
        f'<text class="lbl" x="2" y="{_PAD}" font-size="10">100%</text>',
        f'<text class="lbl" x="2" y="{_H - _PAD}" font-size="10">0%</text>',
    ]
    if coords:
        parts.append(
            f'<polyline class="line" points="{path}" fill="none" stroke="#a11" stroke-width="2"/>'
        )
        for (x, y), (label, v) in zip(coords, points, strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#a11"><title>{escape(label)}: '
                f"{v:.1%}</title></circle>"
            )
    worst = max((v for _, v in points), default=0.0)
    return _svg(title, f"highest denial rate {worst:.1%}", "".join(parts))


def area_bars(areas: Sequence[tuple[str, int, int]], title: str) -> Markup:
    """Horizontal bars per scorecard area: passing and failing checks."""
    row = 20
    height = max(len(areas), 1) * row + 24
    top = max([p + f for _, p, f in areas] + [1])
    scale = (_W - 180) / top
    parts = []
    for i, (area, passed, failed) in enumerate(areas):
        y = 8 + i * row
        parts.append(f'<text class="lbl" x="4" y="{y + 13}" font-size="12">{escape(area)}</text>')
        parts.append(
            f'<rect class="ok" x="130" y="{y}" width="{passed * scale:.1f}" height="{row - 6}" '
            f'fill="#1f6f3f"><title>{escape(area)}: {passed} pass</title></rect>'
        )
        parts.append(
            f'<rect class="bad" x="{130 + passed * scale:.1f}" y="{y}" '
            f'width="{failed * scale:.1f}" height="{row - 6}" fill="#a11">'
            f"<title>{escape(area)}: {failed} not passing</title></rect>"
        )
        parts.append(
            f'<text class="lbl" x="{136 + (passed + failed) * scale:.1f}" y="{y + 13}" '
            f'font-size="11">{passed}/{passed + failed}</text>'
        )
    total_p = sum(p for _, p, _ in areas)
    total = sum(p + f for _, p, f in areas)
    return _svg(title, f"{total_p} of {total} checks pass", "".join(parts), height=height)


def heatmap(cells: Sequence[tuple[str, int, int, float]], title: str) -> Markup:
    """5x5 likelihood x impact grid; each risk at its inherent cell and residual marker.

    ``cells``: ``(risk_id, likelihood, impact, residual_likelihood)``.
    """
    size, left, bottom = 80, 60, 40
    width, height = left + 5 * size + 10, 5 * size + bottom + 10
    parts = []
    for lk in range(1, 6):
        for im in range(1, 6):
            score = lk * im
            band = (
                "crit" if score >= 16 else "high" if score >= 10 else "med" if score >= 5 else "low"
            )
            fill = {"crit": "#f4b6b6", "high": "#f8d3a5", "med": "#f6efa6", "low": "#cde8c4"}[band]
            x, y = left + (im - 1) * size, 10 + (5 - lk) * size
            parts.append(
                f'<rect class="hm-{band}" x="{x}" y="{y}" width="{size}" height="{size}" '
                f'fill="{fill}" stroke="#fff"/>'
            )
    for i in range(1, 6):
        parts.append(
            f'<text class="lbl" x="{left + (i - 0.5) * size:.0f}" y="{height - 14}" '
            f'font-size="12" text-anchor="middle">{i}</text>'
        )
        parts.append(
            f'<text class="lbl" x="{left - 14}" y="{10 + (5 - i + 0.55) * size:.0f}" '
            f'font-size="12" text-anchor="middle">{i}</text>'
        )
    parts.append(
        f'<text class="lbl" x="{left + 2.5 * size:.0f}" y="{height - 1}" font-size="12" '
        'text-anchor="middle">impact</text>'
    )
    parts.append(
        f'<text class="lbl" x="12" y="{10 + 2.5 * size:.0f}" font-size="12" '
        f'transform="rotate(-90 12 {10 + 2.5 * size:.0f})" text-anchor="middle">likelihood</text>'
    )
    placed: dict[tuple[int, int], int] = {}
    for risk_id, lk, im, residual in cells:
        k = placed.get((lk, im), 0)
        placed[(lk, im)] = k + 1
        x = left + (im - 1) * size + 6
        y = 10 + (5 - lk) * size + 16 + 14 * k
        ry = 10 + (5 - min(max(residual, 1.0), 5.0) + 0.5) * size
        parts.append(
            f'<text class="risk" x="{x}" y="{y}" font-size="12" fill="#111">{escape(risk_id)}'
            f"<title>{escape(risk_id)}: likelihood {lk}, impact {im}, residual likelihood "
            f"{residual:.1f}</title></text>"
        )
        parts.append(
            f'<circle class="resid" cx="{left + (im - 0.25) * size:.0f}" cy="{ry:.1f}" r="4" '
            f'fill="#114"><title>{escape(risk_id)} residual {residual:.1f}</title></circle>'
        )
    return _svg(
        title,
        f"{len(cells)} risks placed by likelihood and impact; dots mark residual likelihood",
        "".join(parts),
        width=width,
        height=height,
    )
