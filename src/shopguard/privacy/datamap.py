"""The data map: where each category of personal data is stored, who reads it, which models use it.

Nodes are datasets (sources outside shopguard), stores (tables and files
shopguard keeps), models and consumers (API routes with the scopes that reach
them); edges are flows. The map is built from three things:

1. the built-in declaration of the reference store (its tables, how each
   personal column is protected at rest, which model learns from which table,
   which route serves which model);
2. the user's declarations (``[[data_map.flows]]`` and ``[[data_map.nodes]]`` in
   a TOML file, e.g. ``shopguard.toml``) for their own systems;
3. what the table scanner discovers in the store files, so a column nobody
   declared still shows up with its category.

It is exported as JSON (for the record of processing activities) and rendered
as a self-contained HTML page with an SVG graph (no script, no network).
"""

from __future__ import annotations

import html
import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from shopguard.core.errors import ConfigError
from shopguard.privacy.pii import PiiType
from shopguard.privacy.protect import STORE_PERSONAL, Protection
from shopguard.privacy.tables import scan_frame

__all__ = ["DataMap", "Flow", "Node", "build_data_map", "load_declarations", "reference_map"]

KINDS = ("dataset", "store", "model", "consumer")

#: Personal-data category of each protected store column.
_CATEGORY = {
    "name": PiiType.PERSON,
    "email": PiiType.EMAIL,
    "phone": PiiType.PHONE,
    "street": PiiType.POSTAL_ADDRESS,
    "city": PiiType.POSTAL_ADDRESS,
    "postcode": PiiType.POSTAL_ADDRESS,
    "date_of_birth": PiiType.DATE_OF_BIRTH,
    "card_number": PiiType.CREDIT_CARD,
    "ip_address": PiiType.IP_ADDRESS,
    "device_id": PiiType.CUSTOMER_ID,
    "shipping_street": PiiType.POSTAL_ADDRESS,
    "shipping_city": PiiType.POSTAL_ADDRESS,
    "shipping_postcode": PiiType.POSTAL_ADDRESS,
}


@dataclass
class Node:
    id: str
    kind: str
    label: str
    categories: dict[str, str] = field(default_factory=dict)  # category -> protection
    readers: list[str] = field(default_factory=list)  # scopes or roles
    discovered: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "categories": dict(sorted(self.categories.items())),
            "readers": sorted(self.readers),
            "discovered": self.discovered,
        }


@dataclass(frozen=True)
class Flow:
    source: str
    target: str
    purpose: str
    categories: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "purpose": self.purpose,
            "categories": list(self.categories),
        }


@dataclass
class DataMap:
    nodes: dict[str, Node] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)

    def add(self, node: Node) -> Node:
        have = self.nodes.get(node.id)
        if have is None:
            self.nodes[node.id] = node
            return node
        have.categories.update(node.categories)
        have.readers = sorted(set(have.readers) | set(node.readers))
        return have

    def connect(self, flow: Flow) -> None:
        for end in (flow.source, flow.target):
            if end not in self.nodes:
                raise ConfigError(f"data map flow names unknown node {end!r}")
        if flow not in self.flows:
            self.flows.append(flow)

    def where(self, category: str) -> list[str]:
        """Ids of the stores holding ``category``."""
        return sorted(
            n.id for n in self.nodes.values() if n.kind == "store" and category in n.categories
        )

    def consumers_of(self, node_id: str) -> list[str]:
        """Every node reachable from ``node_id`` along flows."""
        seen: set[str] = set()
        todo = [node_id]
        while todo:
            cur = todo.pop()
            for f in self.flows:
                if f.source == cur and f.target not in seen:
                    seen.add(f.target)
                    todo.append(f.target)
        return sorted(seen)

    def to_json(self) -> dict[str, Any]:
        categories = sorted({c for n in self.nodes.values() for c in n.categories})
        return {
            "schema": 1,
            "nodes": [n.to_json() for n in sorted(self.nodes.values(), key=lambda n: n.id)],
            "flows": [f.to_json() for f in self.flows],
            "categories": {
                c: {
                    "stored_in": self.where(c),
                    "readers": sorted({r for s in self.where(c) for r in self.nodes[s].readers}),
                    "models": sorted(
                        {
                            m
                            for s in self.where(c)
                            for m in self.consumers_of(s)
                            if self.nodes[m].kind == "model"
                        }
                    ),
                }
                for c in categories
            },
        }

    def to_html(self) -> str:
        return _render_html(self)


def reference_map() -> DataMap:
    """The reference store's own map: tables, protections, models, routes and scopes."""
    dm = DataMap()
    dm.add(Node("dataset:shop_export", "dataset", "Shop export (customers, orders, payments)"))
    readers = {
        "customers": ["privacy:dsar", "privacy:reidentify"],
        "sessions": ["recommendations:read"],
        "orders": ["recommendations:read"],
        "transactions": ["fraud:score"],
    }
    for table, cols in STORE_PERSONAL.items():
        cats = {
            _CATEGORY[c].value: (
                "sealed (per-customer key)" if how is Protection.SEAL else "keyed token + vault"
            )
            for c, how in cols.items()
        }
        dm.add(Node(f"store:{table}", "store", f"store/{table}", cats, readers[table]))
        dm.connect(Flow("dataset:shop_export", f"store:{table}", "import", tuple(sorted(cats))))
    dm.add(Node("store:reviews", "store", "store/reviews", {}, ["reviews:read"]))
    dm.connect(Flow("dataset:shop_export", "store:reviews", "import"))
    dm.add(
        Node(
            "store:privacy_customers",
            "store",
            "privacy_customers (encrypted)",
            {
                c: "sealed (per-customer key)"
                for c in (
                    "PERSON",
                    "EMAIL",
                    "PHONE",
                    "POSTAL_ADDRESS",
                    "DATE_OF_BIRTH",
                    "CREDIT_CARD",
                )
            },
            ["privacy:dsar"],
        )
    )
    dm.add(
        Node(
            "store:token_vault",
            "store",
            "privacy_token_vault (encrypted)",
            {"CREDIT_CARD": "sealed", "IP_ADDRESS": "sealed", "POSTAL_ADDRESS": "sealed"},
            ["privacy:reidentify"],
        )
    )
    dm.connect(Flow("store:customers", "store:privacy_customers", "encryption at rest"))
    dm.connect(Flow("store:transactions", "store:token_vault", "pseudonymisation"))
    models = {
        "fraud": ("transactions", "fraud detection", "POST /v1/fraud/score", "fraud:score"),
        "recommender": (
            "orders",
            "personalisation (consent: personalisation, model_training)",
            "GET /v1/recommendations/{id}",
            "recommendations:read",
        ),
        "reviews": ("reviews", "review ranking", "GET /v1/products/{id}/reviews", "reviews:read"),
    }
    for model, (table, purpose, route, scope) in models.items():
        dm.add(Node(f"model:{model}", "model", f"model/{model}"))
        dm.connect(Flow(f"store:{table}", f"model:{model}", f"training: {purpose}"))
        dm.add(Node(f"consumer:{route}", "consumer", route, readers=[scope]))
        dm.connect(Flow(f"model:{model}", f"consumer:{route}", "serving"))
    return dm


def load_declarations(path: Path) -> dict[str, Any]:
    """The ``[data_map]`` table of a TOML file (nodes and flows the user declares)."""
    try:
        doc = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:  # fuzz finding
        raise ConfigError(f"cannot read data map declarations ({type(exc).__name__})") from None
    section = doc.get("data_map", {})
    if not isinstance(section, dict):
        raise ConfigError("[data_map] must be a table")
    return section


def _declared(dm: DataMap, decl: dict[str, Any]) -> None:
    for i, raw in enumerate(decl.get("nodes", []), start=1):
        if not isinstance(raw, dict) or "id" not in raw or raw.get("kind") not in KINDS:
            raise ConfigError(f"data_map.nodes[{i}] needs an id and a kind in {KINDS}")
        cats = raw.get("categories", [])
        dm.add(
            Node(
                str(raw["id"]),
                str(raw["kind"]),
                str(raw.get("label", raw["id"])),
                {str(c): str(raw.get("protection", "declared")) for c in cats},
                [str(r) for r in raw.get("readers", [])],
            )
        )
    for i, raw in enumerate(decl.get("flows", []), start=1):
        if not isinstance(raw, dict) or not {"source", "target"} <= raw.keys():
            raise ConfigError(f"data_map.flows[{i}] needs a source and a target")
        dm.connect(
            Flow(
                str(raw["source"]),
                str(raw["target"]),
                str(raw.get("purpose", "declared")),
                tuple(str(c) for c in raw.get("categories", [])),
            )
        )


def build_data_map(
    *,
    store_frames: Iterable[tuple[str, pd.DataFrame]] = (),
    declarations: dict[str, Any] | None = None,
) -> DataMap:
    """The reference map, plus declarations, plus what a scan of ``store_frames`` finds.

    A scanned column holding personal data in clear is added to its store node as
    ``"clear text (discovered)"``: the map shows it rather than trusting the declaration.
    """
    dm = reference_map()
    if declarations:
        _declared(dm, declarations)
    for table, frame in store_frames:
        node_id = f"store:{table}"
        node = dm.nodes.get(node_id) or dm.add(Node(node_id, "store", f"store/{table}"))
        for finding in scan_frame(frame):
            if finding.by_name and finding.matched_fraction < 0.3:
                continue  # named like personal data but emptied or tokenised
            node.categories[finding.type.value] = "clear text (discovered)"
            node.discovered = True
    return dm


_COLOURS = {"dataset": "#e8eef7", "store": "#fdf3e1", "model": "#e6f4ea", "consumer": "#f3e8fd"}


def _render_html(dm: DataMap) -> str:
    columns = {k: sorted((n for n in dm.nodes.values() if n.kind == k), key=lambda n: n.id)
               for k in KINDS}  # fmt: skip
    box_w, box_h, gap_x, gap_y = 230, 54, 90, 22
    pos: dict[str, tuple[int, int]] = {}
    height = 0
    for ci, kind in enumerate(KINDS):
        for ri, node in enumerate(columns[kind]):
            pos[node.id] = (20 + ci * (box_w + gap_x), 40 + ri * (box_h + gap_y))
        height = max(height, 40 + len(columns[kind]) * (box_h + gap_y))
    width = 40 + len(KINDS) * (box_w + gap_x)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 20}" '
        'role="img" aria-label="Data map graph" font-family="sans-serif" font-size="12">',
        '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="8" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#777"/></marker></defs>',
    ]
    for ci, kind in enumerate(KINDS):
        x = 20 + ci * (box_w + gap_x)
        parts.append(f'<text x="{x}" y="20" font-weight="bold">{kind}s</text>')
    for f in dm.flows:
        (x1, y1), (x2, y2) = pos[f.source], pos[f.target]
        if x1 == x2:
            sx, sy, tx, ty = x1 + box_w, y1 + box_h // 2, x2 + box_w, y2 + box_h // 2
            path = f"M{sx},{sy} C{sx + 40},{sy} {tx + 40},{ty} {tx},{ty}"
        else:
            sx, sy, tx, ty = x1 + box_w, y1 + box_h // 2, x2, y2 + box_h // 2
            mid = (sx + tx) // 2
            path = f"M{sx},{sy} C{mid},{sy} {mid},{ty} {tx},{ty}"
        parts.append(
            f'<path d="{path}" fill="none" stroke="#999" marker-end="url(#a)">'
            f"<title>{html.escape(f.purpose)}</title></path>"
        )
    for node in dm.nodes.values():
        x, y = pos[node.id]
        stroke = "#c0392b" if node.discovered else "#888"
        cats = ", ".join(sorted(node.categories)) or "no personal data"
        parts.append(
            f'<g><rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" '
            f'fill="{_COLOURS[node.kind]}" stroke="{stroke}"/>'
            f'<text x="{x + 8}" y="{y + 18}" font-weight="bold">{html.escape(node.label[:34])}</text>'
            f'<text x="{x + 8}" y="{y + 36}" fill="#555">{html.escape(cats[:40])}</text>'
            f"<title>{html.escape(node.id)}: {html.escape(cats)}</title></g>"
        )
    parts.append("</svg>")
    doc = dm.to_json()
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(c)}</th><td>{html.escape(', '.join(v['stored_in']))}"
        f"</td><td>{html.escape(', '.join(v['readers']))}</td>"
        f"<td>{html.escape(', '.join(v['models']))}</td></tr>"
        for c, v in doc["categories"].items()
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>shopguard data map</title><style>body{font-family:sans-serif;margin:24px}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:left}</style></head><body><h1>Data map</h1>"
        "<p>Where each category of personal data is stored, who can read it, and which "
        "models consume it. Red outline: personal data discovered in clear by the table scan.</p>"
        + "".join(parts)
        + "<h2>By category</h2><table><thead><tr><th>category</th><th>stored in</th>"
        "<th>readers (scopes)</th><th>models</th></tr></thead><tbody>"
        + rows
        + "</tbody></table><h2>JSON</h2><pre>"
        + html.escape(json.dumps(doc, indent=1))
        + "</pre></body></html>"
    )
