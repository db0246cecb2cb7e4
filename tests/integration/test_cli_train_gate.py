"""Every `shopguard train` target runs its integrity checks first (the training gate).

Each test shows the poisoned data refused (exit 1, nothing written), the same data
accepted with ``--accept-risk REASON`` (audited, recorded in ``integrity.json``), and
clean data passing with its hash recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopguard.cli import main
from shopguard.core.runtime import Runtime
from shopguard.core.settings import load_settings
from shopguard.integrity.gate import data_hash, sequences_hash
from shopguard.integrity.shilling import AttackKind, inject_attack
from shopguard.store.generate import generate_store
from shopguard.store.recommender import order_sequences
from tests.unit.store.test_reviews import synthetic_reviews

_PROMO = (
    "Best purchase of the year, five stars without a doubt, my whole family uses it every "
    "day and it still works like new, do not hesitate and order it today"
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _overrides(model: str) -> list[str]:
    rt = Runtime.open(load_settings())
    try:
        return [
            str(r.details["reason"])
            for r in rt.audit.records()
            if r.action == "integrity.training_gate.override" and r.target == f"model:{model}"
        ]
    finally:
        rt.close()


def _campaign(n: int, product: str) -> pd.DataFrame:
    """A push campaign: copied 5-star reviews from fresh accounts within two hours."""
    start = pd.Timestamp("2024-03-01", tz="UTC")
    words = ["year", "decade", "month", "season", "summer"]
    return pd.DataFrame(
        {
            "review_id": [f"X{i:04d}" for i in range(n)],
            "product_id": product,
            "customer_id": [f"S{i:06d}" for i in range(n)],
            "rating": 5,
            "title": "Amazing",
            "text": [_PROMO.replace("year", words[i % len(words)]) for i in range(n)],
            "created_at": [start + pd.Timedelta(minutes=3 * i) for i in range(n)],
            "verified_purchase": False,
            "helpful_votes": 0,
        }
    )


@pytest.mark.slow
def test_train_reviews_when_fake_campaign_then_refused_unless_risk_accepted_and_audited(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["init"]) == 0
    capsys.readouterr()
    clean = synthetic_reviews(n_products=20, seed=4)
    poisoned = pd.concat([clean, _campaign(48, "P00003")], ignore_index=True)
    src, ok_src = tmp_path / "poisoned.csv", tmp_path / "clean.csv"
    poisoned.to_csv(src, index=False)
    clean.to_csv(ok_src, index=False)
    out = tmp_path / "ranker"
    code, _, err = _run(capsys, "train", "reviews", "--reviews", str(src), "--out", str(out))
    assert code == 1 and "suspected_fake_reviews" in err
    assert not out.exists()
    assert _overrides("reviews") == []
    reason = "campaign reviewed by the trust team"
    argv = ("train", "reviews", "--reviews", str(src), "--out", str(out), "--accept-risk", reason)
    code, _, _ = _run(capsys, *argv)
    assert code == 0
    report = json.loads((out / "integrity.json").read_text("utf-8"))
    assert report["passed"] is False and report["accepted_risk"] == reason
    flagged = {c["name"]: c for c in report["checks"]}["suspected_fake_reviews"]
    assert flagged["value"] > flagged["bar"]
    assert _overrides("reviews") == [reason]
    good = tmp_path / "good"
    code, _, _ = _run(capsys, "train", "reviews", "--reviews", str(ok_src), "--out", str(good))
    assert code == 0
    report = json.loads((good / "integrity.json").read_text("utf-8"))
    assert report["passed"] is True and report["accepted_risk"] is None
    assert report["data_sha256"] == data_hash(pd.read_csv(ok_src))
    assert report["rows"] == len(clean)


def test_train_reviews_when_review_ids_repeat_then_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["init"]) == 0
    capsys.readouterr()
    df = synthetic_reviews(n_products=6, seed=1)
    df.loc[5, "review_id"] = df.loc[4, "review_id"]
    src = tmp_path / "dup.csv"
    df.to_csv(src, index=False)
    code, _, err = _run(
        capsys, "train", "reviews", "--reviews", str(src), "--out", str(tmp_path / "m")
    )
    assert code == 1 and "duplicate_review_ids" in err


def _write_sequences(path: Path, seqs: dict[str, list[str]]) -> Path:
    path.write_text("".join(f"{u} {' '.join(s)}\n" for u, s in seqs.items()), "utf-8")
    return path


@pytest.mark.slow
def test_train_recommender_when_shilling_attack_then_refused_unless_risk_accepted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["init"]) == 0
    capsys.readouterr()
    raw = order_sequences(generate_store(seed=5, customers=400).orders)
    seqs = {str(n + 1): list(s) for n, s in enumerate(raw.values())}
    counts = pd.Series([i for s in seqs.values() for i in s]).value_counts()
    target = str(counts.index[-1])
    attack = inject_attack(
        seqs,
        target,
        kind=AttackKind.BANDWAGON,
        n_profiles=len(seqs) // 25,
        rng=np.random.default_rng(0),
    )
    poisoned = {**seqs, **{str(len(seqs) + n + 1): s for n, s in enumerate(attack.values())}}
    ref = _write_sequences(tmp_path / "reference.txt", seqs)
    src = _write_sequences(tmp_path / "poisoned.txt", poisoned)
    out = tmp_path / "rec"
    base = ("train", "recommender", "--interactions", str(src), "--out", str(out))
    code, _, err = _run(capsys, *base, "--reference", str(ref))
    assert code == 1 and "suspected_shilling_profiles" in err and not out.exists()
    code, _, _ = _run(capsys, *base, "--reference", str(ref), "--accept-risk", "load test data")
    assert code == 0
    report = json.loads((out / "integrity.json").read_text("utf-8"))
    assert report["passed"] is False and report["accepted_risk"] == "load test data"
    assert report["data_sha256"] == sequences_hash(poisoned)
    assert _overrides("recommender") == ["load test data"]
    clean_out = tmp_path / "clean"
    code, _, _ = _run(
        capsys,
        "train",
        "recommender",
        "--interactions",
        str(ref),
        "--out",
        str(clean_out),
        "--reference",
        str(ref),
    )
    assert code == 0
    report = json.loads((clean_out / "integrity.json").read_text("utf-8"))
    assert report["passed"] is True and report["rows"] == len(seqs)
