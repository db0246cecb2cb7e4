from __future__ import annotations

from shopguard.integrity.dedup import NearDuplicateIndex

TEXT = (
    "I bought this blender for smoothies and it crushes ice in seconds, the jar is sturdy "
    "and easy to clean, and the motor is quiet enough for early mornings"
)


def test_near_duplicate_when_few_words_changed_then_found_across_accounts() -> None:
    idx = NearDuplicateIndex()
    assert idx.query_add("a", TEXT, group="u1") is None
    edited = TEXT.replace("seconds", "moments").replace("quiet", "silent")
    m = idx.query_add("b", edited, group="u2")
    assert m is not None and m.other == "a" and not m.exact and m.similarity >= 0.6


def test_exact_duplicate_when_only_case_and_spacing_differ_then_exact() -> None:
    idx = NearDuplicateIndex()
    idx.query_add("a", TEXT, group="u1")
    m = idx.query_add("b", "  " + TEXT.upper() + "!!", group="u2")
    assert m is not None and m.exact


def test_duplicate_when_same_author_or_unrelated_text_then_not_flagged() -> None:
    idx = NearDuplicateIndex()
    idx.query_add("a", TEXT, group="u1")
    assert idx.query_add("b", TEXT, group="u1") is None
    other = "The jacket runs small, order a size up; the zip broke after two weeks of daily use"
    assert idx.query_add("c", other, group="u3") is None
