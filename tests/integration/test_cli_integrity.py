"""`shopguard integrity` through main(argv): ingest, quarantine decisions, score-reviews."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from shopguard.cli import main
from shopguard.core.runtime import Runtime
from shopguard.core.settings import load_settings

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
COPIED = (
    "I ordered the walnut desk organiser for my home office and it holds every pen, cable and "
    "notebook I own, the finish is smooth and it arrived two days early"
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _reviews(tmp_path: Path) -> Path:
    rows = [
        {"id": "g1", "text": "Comfortable shoes, true to size.", "rating": 5, "reviewer_id": "c1"},
        {"id": "bad", "text": "", "rating": 11, "reviewer_id": "c2"},
        {"id": "d1", "text": COPIED, "rating": 5, "reviewer_id": "c3"},
        {"id": "d2", "text": COPIED.replace("two", "three"), "rating": 5, "reviewer_id": "c4"},
    ]
    path = tmp_path / "reviews.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_ingest_when_batch_has_bad_and_copied_rows_then_exit_1_with_reasons_and_resumable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["init"]) == 0
    capsys.readouterr()
    path = _reviews(tmp_path)
    code, out, err = _run(
        capsys,
        "integrity",
        "ingest",
        str(path),
        "--kind",
        "review",
        "--source",
        "partner-feed",
        "--json",
    )
    assert code == 1
    rep = json.loads(out)
    assert rep["rejected"] == 1 and rep["quarantined"] >= 1 and rep["accepted"] >= 1
    assert {e["column"] for e in rep["errors"]} == {"text", "rating"}
    assert all(e["id"] == "bad" and e["row"] == 2 for e in rep["errors"])
    code, out, _ = _run(
        capsys,
        "integrity",
        "ingest",
        str(path),
        "--kind",
        "review",
        "--source",
        "partner-feed",
        "--json",
    )
    again = json.loads(out)
    assert again["accepted"] == 0 and again["quarantined"] == 0 and again["resumed_from"] == 4

    code, out, _ = _run(capsys, "integrity", "quarantine", "list", "--json")
    items = json.loads(out)
    d2 = next(i for i in items if i["key"] == "d2")
    assert any("duplicate of review d1" in r for r in d2["reasons"])
    code, out, _ = _run(
        capsys,
        "integrity",
        "quarantine",
        "reject",
        str(d2["id"]),
        "--reviewer",
        "mod-7",
        "--reason",
        "copy campaign",
    )
    assert code == 0 and "rejected" in out
    code, _, err = _run(
        capsys,
        "integrity",
        "quarantine",
        "release",
        str(d2["id"]),
        "--reviewer",
        "mod-7",
        "--reason",
        "oops",
    )
    assert code == 2 and "not quarantined" in err
    rt = Runtime.open(load_settings())
    try:
        entries = [r for r in rt.audit.records() if r.action.startswith("integrity.quarantine")]
        assert [(e.decision, e.principal) for e in entries] == [("rejected", "mod-7")]
    finally:
        rt.close()


def test_ingest_when_kind_unknown_or_file_missing_then_exit_2_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["init"]) == 0
    code, _, err = _run(
        capsys,
        "integrity",
        "ingest",
        str(tmp_path / "none.csv"),
        "--kind",
        "review",
        "--source",
        "s",
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = _run(
        capsys, "integrity", "ingest", str(_reviews(tmp_path)), "--kind", "banana", "--source", "s"
    )
    assert code == 2 and "--kind" in err


def test_score_reviews_when_csv_then_writes_id_score_flagged_reasons(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = pd.read_csv(SHARED / "fake_reviews_salminen" / "reviews.csv")
    sample = pd.concat(
        [data[data.label == "CG"].head(20), data[data.label == "OR"].head(20)], ignore_index=True
    )
    src = tmp_path / "in.csv"
    pd.DataFrame(
        {"id": [f"x{i}" for i in range(len(sample))], "text": sample.text, "rating": 5}
    ).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    code, stdout, _ = _run(capsys, "integrity", "score-reviews", str(src), "--out", str(out))
    assert code == 0 and stdout.strip() == str(out)
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["id", "score", "flagged", "reasons"]
    assert [r["id"] for r in rows] == [f"x{i}" for i in range(40)]
    scores = [float(r["score"]) for r in rows]
    assert sum(scores[:20]) / 20 > sum(scores[20:]) / 20 + 0.3
    assert all(r["reasons"] for r in rows if r["flagged"] == "true")


def test_score_reviews_when_rating_bad_then_exit_2_naming_row_and_no_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,text,rating\na,fine,5\nb,fine,zero\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, _, err = _run(capsys, "integrity", "score-reviews", str(src), "--out", str(out))
    assert code == 2 and "row 2" in err and "rating" in err
    assert not out.exists()
    src.write_text("id,text\na,fine\n", encoding="utf-8")
    code, _, err = _run(capsys, "integrity", "score-reviews", str(src), "--out", str(out))
    assert code == 2 and "rating" in err


def test_train_fraud_when_labels_poisoned_then_refused_unless_risk_accepted_and_audited(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    n = 1800
    t = pd.Timestamp("2018-04-01") + pd.to_timedelta(
        np.sort(rng.integers(0, 30 * 86_400, n)), unit="s"
    )
    amount = rng.gamma(2.0, 25.0, n).round(2)
    fraud = (rng.random(n) < 0.05).astype(int)
    amount[fraud == 1] += 250.0
    label = fraud.copy()
    flip = rng.choice(n, int(0.2 * n), replace=False)  # a fifth of the labels flipped
    label[flip] = 1 - label[flip]
    tx = pd.DataFrame(
        {
            "TRANSACTION_ID": np.arange(n),
            "TX_DATETIME": t.strftime("%Y-%m-%d %H:%M:%S"),
            "CUSTOMER_ID": rng.integers(0, 2000, n),
            "TERMINAL_ID": rng.integers(0, 500, n),
            "TX_AMOUNT": amount,
            "TX_FRAUD": label,
        }
    )
    src = tmp_path / "tx.csv"
    tx.to_csv(src, index=False)
    out = tmp_path / "model"
    assert main(["init"]) == 0
    capsys.readouterr()
    code, _, err = _run(capsys, "train", "fraud", "--transactions", str(src), "--out", str(out))
    assert code == 1 and "suspected_flipped_labels" in err and not (out / "integrity.json").exists()
    code, _, _ = _run(
        capsys,
        "train",
        "fraud",
        "--transactions",
        str(src),
        "--out",
        str(out),
        "--accept-risk",
        "labels re-checked by hand",
    )
    assert code == 0
    report = json.loads((out / "integrity.json").read_text("utf-8"))
    assert report["passed"] is False and report["accepted_risk"] == "labels re-checked by hand"
    assert len(report["data_sha256"]) == 64
    rt = Runtime.open(load_settings())
    try:
        overrides = [
            r for r in rt.audit.records() if r.action == "integrity.training_gate.override"
        ]
        assert len(overrides) == 1 and overrides[0].details["reason"] == "labels re-checked by hand"
    finally:
        rt.close()
