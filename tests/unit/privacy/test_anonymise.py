"""k-anonymity / l-diversity: the linkage attack works on the raw extract and fails on the output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopguard.core.errors import DataValidationError
from shopguard.privacy.anonymise import (
    CategoricalHierarchy,
    DateHierarchy,
    NumericHierarchy,
    PrefixHierarchy,
    anonymise,
    equivalence_classes,
    infer_hierarchy,
)

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
    "native_country", "income",
]  # fmt: skip


@pytest.fixture
def adult(shared_data: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        shared_data / "fairness_adult" / "adult.data",
        names=ADULT_COLUMNS,
        skipinitialspace=True,
        nrows=5000,
    )
    return frame


def _linkage_hits(released: pd.DataFrame, external: pd.DataFrame, quasi: list[str]) -> int:
    """How many external people match exactly one released record on the quasi-identifiers."""
    sizes = released.groupby(quasi).size()
    unique = sizes[sizes == 1].index
    keys = pd.MultiIndex.from_frame(external[quasi])
    return int(keys.isin(unique).sum())


def test_anonymise_when_adult_extract_then_linkage_attack_fails(adult: pd.DataFrame) -> None:
    quasi = ["age", "sex", "race", "native_country"]
    # Attack on the raw extract: an attacker knowing age, sex, race and country singles people out.
    assert _linkage_hits(adult, adult, quasi) > 100
    res = anonymise(adult, quasi=quasi, k=5, max_suppression=0.02)
    out = res.frame
    assert equivalence_classes(out, quasi).min() >= 5
    assert res.min_class >= 5 and res.suppressed <= 0.02 * len(adult)
    assert len(out) == len(adult) - res.suppressed
    # The attacker generalises the same way: still no one is singled out.
    gen = adult.copy()
    for q in quasi:
        gen[q] = infer_hierarchy(adult[q]).generalise(adult[q], res.levels[q])
    assert _linkage_hits(out, gen, quasi) == 0
    # Not everything was blown away to '*'.
    assert 0 < res.precision_loss < 1


def test_anonymise_when_l_diversity_then_every_class_has_l_incomes(adult: pd.DataFrame) -> None:
    quasi = ["age", "sex", "race"]
    res = anonymise(adult, quasi=quasi, k=5, sensitive="income", l_diversity=2)
    assert res.frame.groupby(quasi)["income"].nunique().min() >= 2


def test_anonymise_when_minimal_then_lowest_generalisation_chosen() -> None:
    frame = pd.DataFrame({"age": [31, 32, 33, 34, 36, 37, 38, 39] * 2, "g": ["a"] * 8 + ["b"] * 8})
    assert equivalence_classes(frame, ["age", "g"]).max() == 1  # every record unique
    res = anonymise(
        frame, quasi=["age", "g"], k=2, max_suppression=0.0,
        hierarchies={"age": NumericHierarchy((5, 10))},
    )  # fmt: skip
    # Ages to 5-year bands are enough; gender stays as is.
    assert res.levels == {"age": 1, "g": 0}
    assert set(res.frame["age"]) == {"30-34", "35-39"}


def test_anonymise_when_direct_identifier_left_then_refused() -> None:
    frame = pd.DataFrame({"email": ["a@x.io"] * 6, "age": [30] * 6})
    with pytest.raises(DataValidationError, match="direct identifiers"):
        anonymise(frame, quasi=["age"], k=2, identifier_columns=["email"])
    res = anonymise(frame, quasi=["age"], k=2, identifier_columns=["email"], drop=["email"])
    assert "email" not in res.frame


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quasi": []}, "quasi-identifier"),
        ({"quasi": ["nope"]}, "unknown column"),
        ({"quasi": ["age"], "k": 1}, "k must"),
        ({"quasi": ["age"], "sensitive": "age"}, "both"),
        ({"quasi": ["age"], "k": 50}, "fewer than k"),
    ],
)
def test_anonymise_when_bad_parameters_then_clear_error(kwargs: dict, message: str) -> None:
    frame = pd.DataFrame({"age": np.arange(20)})
    with pytest.raises(DataValidationError, match=message):
        anonymise(frame, **{"k": 2, **kwargs})


def test_anonymise_when_unreachable_then_error_not_silent_release() -> None:
    frame = pd.DataFrame({"g": list("abcdefghij"), "s": ["x"] * 10})
    with pytest.raises(DataValidationError, match="no generalisation"):
        anonymise(frame, quasi=["g"], k=2, sensitive="s", l_diversity=2, max_suppression=0.0)


def test_hierarchies_when_generalised_then_expected_labels() -> None:
    codes = pd.Series(["75011", "75012", "69001"])
    assert list(PrefixHierarchy(5).generalise(codes, 2)) == ["750**", "750**", "690**"]
    assert list(PrefixHierarchy(5).generalise(codes, 5)) == ["*"] * 3
    dates = pd.Series(["1984-03-02", "1991-12-30"])
    assert list(DateHierarchy().generalise(dates, 2)) == ["1984", "1991"]
    assert list(DateHierarchy().generalise(dates, 3)) == ["1980s", "1990s"]
    region = CategoricalHierarchy(({"Paris": "FR", "Lyon": "FR"},))
    assert list(region.generalise(pd.Series(["Paris", "Lyon", "Rome"]), 1)) == ["FR", "FR", "*"]
    assert isinstance(infer_hierarchy(pd.Series(np.arange(100))), NumericHierarchy)
