"""Model cards and the transparency report."""

from __future__ import annotations

import json
from pathlib import Path

from shopguard.fairness.cards import card_is_current, collect_card, render_card, write_card
from shopguard.fairness.transparency import plain_words, write_transparency_report

AUDIT = {
    "attribute": "region",
    "min_group_size": 30,
    "verdict": "outside_bars",
    "too_small": ["XX"],
    "groups": [
        {"group": "EU-south", "status": "ok", "selection_rate": 0.06, "false_positive_rate": 0.05},
        {"group": "US", "status": "ok", "selection_rate": 0.01, "false_positive_rate": 0.007},
        {"group": "XX", "status": "too_small", "selection_rate": 0.5, "false_positive_rate": None},
    ],
    "false_positive_rate_difference": {"value": 0.043, "low": 0.03, "high": 0.055},
    "demographic_parity_difference": {"value": 0.05, "low": 0.04, "high": 0.06},
}


def test_render_card_when_values_hold_markup_then_escaped_and_missing_sections_named() -> None:
    page, card = render_card({"name": "fraud", "owner": "<script>alert(1)</script>"})
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "not measured" in page and card["schema"].startswith("shopguard.model_card")


def test_card_when_model_changes_then_no_longer_current(tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "fraud").mkdir(parents=True)
    (models / "fraud" / "model.json").write_text(json.dumps({"shopguard_version": "0.1"}))
    (models / "fraud" / "metrics.json").write_text(json.dumps({"roc_auc": 0.9}))
    _, json_path = write_card(collect_card("fraud", models, owner="risk team"), tmp_path / "c")
    card = json.loads(json_path.read_text())
    assert card["owner"] == "risk team" and card["metrics"] == {"roc_auc": 0.9}
    assert "fraud prevention" in card["consent_basis"]
    assert card_is_current(json_path, models / "fraud")
    (models / "fraud" / "model.json").write_text(json.dumps({"shopguard_version": "0.2"}))
    assert not card_is_current(json_path, models / "fraud")


def test_transparency_when_written_then_html_with_chart_and_pdf(tmp_path: Path) -> None:
    paths = write_transparency_report(
        tmp_path, models=["fraud", "recommender"], audits={"region": AUDIT}
    )
    page = paths[0].read_text()
    assert "data:image/png;base64," in page and "Recommended for you" in page
    assert "too small to judge" in page and "4.3 percentage points" in page
    assert paths[1].read_bytes().startswith(b"%PDF")


def test_plain_words_when_cannot_judge_then_says_so_not_fair() -> None:
    text = plain_words(
        "age_band", {"verdict": "cannot_judge", "min_group_size": 30, "too_small": []}
    )
    assert "could not yet judge" in text and "fair" in text and "within" not in text
