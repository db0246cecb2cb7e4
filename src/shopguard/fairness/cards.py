"""Model cards (HTML + JSON) and the facts they are built from.

:func:`render_card` turns a dict of model metadata into a card; :func:`collect_card` gathers
that dict for a model directory under ``models_dir`` (its metadata, metrics, artifact digest,
a fairness audit when one was recorded, and the store-wide facts in :data:`MODEL_FACTS`).
A card records the artifact digest it describes, so :func:`card_is_current` can tell when the
model changed since.

References
----------
Mitchell et al., "Model Cards for Model Reporting", FAT* 2019. https://arxiv.org/abs/1810.03993
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopguard.core.errors import ModelError

__all__ = [
    "CARD_SCHEMA",
    "FAIRNESS_FILE",
    "MODEL_FACTS",
    "card_is_current",
    "collect_card",
    "model_digest",
    "render_card",
    "write_card",
]

CARD_SCHEMA = "shopguard.model_card/1"
FAIRNESS_FILE = "fairness.json"

#: What the store says about each reference model (shown on cards and the transparency page).
MODEL_FACTS: dict[str, dict[str, Any]] = {
    "fraud": {
        "title": "Payment fraud scorer",
        "intended_use": (
            "Score each card payment for fraud risk; high scores are declined or sent to "
            "a person for review. Not for credit decisions or any use beyond payments."
        ),
        "data": "Payment history of the account and of the payment endpoint, amount, time, "
        "device and address signals. No name, age, gender or region is an input.",
        "why": "To stop stolen cards and account takeovers before goods ship.",
        "consent_basis": "Legitimate interest in fraud prevention (GDPR art. 6(1)(f)); "
        "automated declines can be reviewed by a person on request (art. 22(3)).",
        "opt_out": "Cannot be switched off, but any decline can be reviewed by a person "
        "(POST /v1/decisions/{id}/review).",
        "customer_feature": "Fraud checks at checkout",
    },
    "recommender": {
        "title": "Product recommender",
        "intended_use": "Suggest products a customer may like from their purchase history.",
        "data": "The customer's past orders (only of customers whose consent covers model "
        "training).",
        "why": "To help customers find products.",
        "consent_basis": "Consent (personalisation; model_training for training data).",
        "opt_out": "Withdraw personalisation consent: everyone then sees the same bestseller list.",
        "customer_feature": "Recommended for you",
    },
    "reviews": {
        "title": "Review helpfulness ranker",
        "intended_use": "Order a product's reviews so the most helpful come first.",
        "data": "The review's text, rating and whether the purchase was verified.",
        "why": "To show informative reviews first.",
        "consent_basis": "Legitimate interest; reviews are published by their authors.",
        "opt_out": "Reviews can be sorted by date instead.",
        "customer_feature": "Most helpful reviews",
    },
}


def model_digest(model_dir: Path) -> str:
    """SHA-256 over the model directory's files (names and bytes), sorted."""
    if not model_dir.is_dir():
        raise ModelError(f"model not found: {model_dir}")
    h = hashlib.sha256()
    for p in sorted(model_dir.iterdir()):
        if p.is_file() and p.name != FAIRNESS_FILE:
            h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def collect_card(
    name: str, models_dir: Path, *, owner: str = "unassigned", now: datetime | None = None
) -> dict[str, Any]:
    """The card's facts for ``models_dir/name``."""
    d = models_dir / name
    if not d.is_dir():
        raise ModelError(f"model {name} not found under {models_dir}")
    meta: dict[str, Any] = next(
        (m for f in ("model.json", "metadata.json") if isinstance(m := _read_json(d / f), dict)),
        {},
    )
    metrics = _read_json(d / "metrics.json") or {}
    fairness = _read_json(d / FAIRNESS_FILE)
    facts = MODEL_FACTS.get(name, {})
    return {
        "schema": CARD_SCHEMA,
        "name": name,
        "title": facts.get("title", name),
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "artifact_digest": model_digest(d),
        "format": meta.get("format"),
        "version": meta.get("shopguard_version"),
        "owner": owner,
        "intended_use": facts.get("intended_use", "not stated"),
        "training_data": facts.get("data", "not stated"),
        "consent_basis": facts.get("consent_basis", "not stated"),
        "metrics": metrics,
        "fairness": fairness,
        "robustness": metrics.get("robustness"),
        "extraction": metrics.get("extraction"),
        "integrity": metrics.get("integrity"),
        "history": [
            {
                "at": datetime.fromtimestamp(p.stat().st_mtime, UTC).isoformat(timespec="seconds"),
                "file": p.name,
            }
            for p in sorted(d.iterdir())
            if p.is_file()
        ],
    }


def _cell(value: Any) -> str:
    if value is None:
        return "<em>not measured</em>"
    if isinstance(value, Mapping | list):
        return f"<pre>{html.escape(json.dumps(value, indent=2, default=str))}</pre>"
    return html.escape(str(value))


def render_card(meta: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(html, json)`` of a model card from ``meta`` (e.g. :func:`collect_card`'s output).

    Every value is HTML-escaped; missing sections say "not measured" rather than vanish.
    """
    if "name" not in meta:
        raise ModelError("model card metadata needs a name")
    card = {"schema": CARD_SCHEMA, **dict(meta)}
    sections = [
        ("Intended use", card.get("intended_use")),
        ("Owner", card.get("owner")),
        ("Version", card.get("version")),
        ("Artifact digest (SHA-256)", card.get("artifact_digest")),
        ("Training data", card.get("training_data")),
        ("Data integrity report", card.get("integrity")),
        ("Consent basis", card.get("consent_basis")),
        ("Metrics", card.get("metrics")),
        ("Fairness audit", card.get("fairness")),
        ("Robustness", card.get("robustness")),
        ("Extraction resistance", card.get("extraction")),
        ("Version history", card.get("history")),
    ]
    rows = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{_cell(v)}</td></tr>" for k, v in sections)
    title = html.escape(str(card.get("title", card["name"])))
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Model card: {title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}}
th{{text-align:left;vertical-align:top;padding-right:1rem;width:14rem}}
td,th{{border-bottom:1px solid #ddd;padding:.4rem}}pre{{white-space:pre-wrap;font-size:.8rem}}</style>
</head><body><h1>Model card: {title}</h1>
<p>Generated {html.escape(str(card.get("generated_at", "")))}.</p>
<table>{rows}</table></body></html>
"""
    return page, card


def write_card(meta: Mapping[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``<name>.html`` and ``<name>.json`` into ``out_dir``."""
    page, card = render_card(meta)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"{card['name']}.html"
    json_path = out_dir / f"{card['name']}.json"
    html_path.write_text(page, "utf-8")
    json_path.write_text(json.dumps(card, indent=2, default=str) + "\n", "utf-8")
    return html_path, json_path


def card_is_current(card_path: Path, model_dir: Path) -> bool:
    """Whether the card at ``card_path`` describes the model now in ``model_dir``."""
    card = _read_json(card_path)
    if not isinstance(card, dict):
        return False
    return bool(card.get("artifact_digest") == model_digest(model_dir))
