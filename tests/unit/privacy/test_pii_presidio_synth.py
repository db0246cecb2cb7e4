"""Mapping presidio-research's entity names onto ours, and the template-disjoint split."""

from __future__ import annotations

import json

import pytest

from shopguard.core.errors import DataValidationError
from shopguard.privacy.pii import PiiType
from shopguard.privacy.pii.presidio_synth import (
    Record,
    gold_spans,
    load_records,
    split_by_template,
)


def _rec(text: str, spans: list[tuple[str, str]], tid: int = 1) -> Record:
    out = []
    for t, sub in spans:
        i = text.index(sub)
        out.append((t, i, i + len(sub)))
    return Record(text, tuple(out), tid)


def test_gold_when_gpe_chained_to_street_then_address_else_out_of_scope():
    text = "Ship to 12 Main St\nSpringfield\nUSA 12345. I flew to Paris."
    rec = _rec(text, [("STREET_ADDRESS", "12 Main St"), ("GPE", "Springfield"), ("GPE", "USA"),
                      ("ZIP_CODE", "12345"), ("GPE", "Paris")])  # fmt: skip
    got = {text[g.start : g.end]: g.type for g in gold_spans(rec)}
    assert got == {"12 Main St": PiiType.POSTAL_ADDRESS, "Springfield": PiiType.POSTAL_ADDRESS,
                   "USA": PiiType.POSTAL_ADDRESS, "12345": PiiType.POSTAL_ADDRESS, "Paris": None}  # fmt: skip


def test_gold_when_date_then_dob_only_with_birth_context():
    a = _rec("Please tell me your date of birth. It's 8/12/1991", [("DATE_TIME", "8/12/1991")])
    b = _rec("It's like that since 8/12/1991", [("DATE_TIME", "8/12/1991")])
    assert [g.type for g in gold_spans(a)] == [PiiType.DATE_OF_BIRTH]
    assert [g.type for g in gold_spans(b)] == [None]


def test_gold_when_untargeted_types_then_out_of_scope():
    rec = _rec(
        "Dr. Ann Lee of Acme", [("TITLE", "Dr."), ("PERSON", "Ann Lee"), ("ORGANIZATION", "Acme")]
    )
    assert [g.type for g in gold_spans(rec)] == [None, PiiType.PERSON, None]


def test_split_when_by_template_then_disjoint_and_complete():
    recs = [Record(f"t{i}", (("PERSON", 0, 2),), i % 10) for i in range(50)]
    recs += [Record("ip", (("IP_ADDRESS", 0, 2),), 99)]
    train, test = split_by_template(recs, random_state=0)
    assert {r.template_id for r in train}.isdisjoint({r.template_id for r in test})
    assert len(train) + len(test) == len(recs)
    assert 99 in {r.template_id for r in test}  # a one-template stratum goes to test


def test_load_when_not_the_dataset_then_data_validation_error(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps([{"nope": 1}]))
    with pytest.raises(DataValidationError):
        load_records(p)
