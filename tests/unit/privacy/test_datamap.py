"""The data map: reference declarations, user declarations and what the scan discovers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from shopguard.core.errors import ConfigError
from shopguard.privacy.datamap import build_data_map, load_declarations


def test_map_when_reference_then_categories_stores_readers_models() -> None:
    doc = build_data_map().to_json()
    card = doc["categories"]["CREDIT_CARD"]
    assert (
        "store:transactions" in card["stored_in"] and "store:privacy_customers" in card["stored_in"]
    )
    assert "model:fraud" in card["models"] and "fraud:score" in card["readers"]
    assert "model:recommender" in doc["categories"]["POSTAL_ADDRESS"]["models"]


def test_map_when_clear_column_scanned_then_discovered_and_flagged() -> None:
    frame = pd.DataFrame(
        {"customer_id": ["C1", "C2", "C3"], "contact": ["a@x.io", "b@y.io", "c@z.io"]}
    )
    dm = build_data_map(store_frames=[("newsletter", frame)])
    node = dm.nodes["store:newsletter"]
    assert node.discovered and node.categories["EMAIL"] == "clear text (discovered)"
    html = dm.to_html()
    assert "<svg" in html and "#c0392b" in html and "a@x.io" not in html


def test_map_when_declarations_then_nodes_and_flows_added(tmp_path: Path) -> None:
    decl = tmp_path / "shopguard.toml"
    decl.write_text(
        """
[[data_map.nodes]]
id = "dataset:crm"
kind = "dataset"
categories = ["EMAIL"]
readers = ["marketing"]

[[data_map.flows]]
source = "dataset:crm"
target = "model:recommender"
purpose = "enrichment"
"""
    )
    dm = build_data_map(declarations=load_declarations(decl))
    assert dm.nodes["dataset:crm"].categories == {"EMAIL": "declared"}
    assert dm.consumers_of("dataset:crm") == [
        "consumer:GET /v1/recommendations/{id}",
        "model:recommender",
    ]
    flows = json.loads(json.dumps(dm.to_json()))["flows"]
    assert {"source": "dataset:crm", "target": "model:recommender", "purpose": "enrichment",
            "categories": []} in flows  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        '[[data_map.nodes]]\nid = "x"\nkind = "spaceship"\n',
        '[[data_map.flows]]\nsource = "nowhere"\ntarget = "model:fraud"\n',
        "data_map = 3\n",
        "not toml at all [",
    ],
)
def test_map_when_declarations_malformed_then_config_error(tmp_path: Path, body: str) -> None:
    decl = tmp_path / "bad.toml"
    decl.write_text(body)
    with pytest.raises(ConfigError):
        build_data_map(declarations=load_declarations(decl))
