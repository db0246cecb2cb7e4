"""Any tabular file as a fairness-audit problem: load, encode, split, fit a reference model.

The split is stated in every result: stratified by label and group, ``test_size`` of the
rows held out (default 30 %), and a further ``calibration_size`` of the training rows kept
apart for post-processing (threshold fitting never sees the test rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from shopguard.core.errors import DataValidationError

__all__ = [
    "ADULT_COLUMNS",
    "Split",
    "TabularProblem",
    "load_adult",
    "load_table",
    "problem_from_frame",
    "reference_model",
]

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]


def load_adult(path: str | Path) -> pd.DataFrame:
    """UCI Adult (``adult.data``, no header; ``?`` = missing); a directory holding it works too."""
    p = Path(path)
    if p.is_dir():
        p = p / "adult.data"
    if not p.is_file():
        raise DataValidationError("file does not exist", file=str(p))
    frame = pd.read_csv(p, header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?")
    return frame.dropna(how="all")


def load_table(path: str | Path) -> pd.DataFrame:
    """A CSV (header row) or Parquet file; UCI Adult's headerless files are recognised."""
    p = Path(path)
    if p.is_dir() and (p / "adult.data").is_file():
        return load_adult(p)
    if not p.is_file():
        raise DataValidationError("file does not exist", file=str(p))
    if p.name.startswith("adult.") and p.suffix in (".data", ".test"):
        return load_adult(p)
    try:
        if p.suffix == ".parquet":
            return pd.read_parquet(p)
        return pd.read_csv(p, skipinitialspace=True, na_values="?")
    except (ValueError, OSError, UnicodeDecodeError):
        raise DataValidationError(
            "unreadable table (expect CSV with a header, or Parquet)", file=str(p)
        ) from None


@dataclass(frozen=True)
class Split:
    train: NDArray[np.int64]
    calibration: NDArray[np.int64]
    test: NDArray[np.int64]
    description: str


@dataclass(frozen=True)
class TabularProblem:
    X: pd.DataFrame
    y: NDArray[np.int64]
    sensitive: pd.DataFrame
    target: str
    positive: str
    features: tuple[str, ...]
    split: Split


def problem_from_frame(
    frame: pd.DataFrame,
    *,
    target: str,
    positive: str,
    sensitive: list[str],
    drop: tuple[str, ...] = (),
    include_sensitive: bool = False,
    test_size: float = 0.3,
    calibration_size: float = 0.2,
    random_state: int = 0,
) -> TabularProblem:
    """Encode ``frame`` for a classifier; labels are ``target == positive`` (as text).

    Raises
    ------
    DataValidationError
        Unknown target or sensitive column, missing labels, a label that never equals
        ``positive`` (or always does), or a missing sensitive value.
    """
    if target not in frame.columns:
        raise DataValidationError("unknown target column", column=target)
    for col in sensitive:
        if col not in frame.columns:
            raise DataValidationError("unknown sensitive column", column=col)
        if frame[col].isna().any():
            raise DataValidationError(
                "missing sensitive value",
                row=int(np.flatnonzero(frame[col].isna().to_numpy())[0]) + 1,
                column=col,
            )
    labels = frame[target]
    if labels.isna().any():
        raise DataValidationError(
            "missing label", row=int(np.flatnonzero(labels.isna().to_numpy())[0]) + 1, column=target
        )
    text = labels.astype(str).str.strip().str.rstrip(".")
    y = (text == str(positive).strip().rstrip(".")).to_numpy().astype(np.int64)
    if y.sum() == 0 or y.sum() == len(y):
        raise DataValidationError(
            "the positive value never (or always) occurs in the target", column=target
        )
    excluded = {target, *drop, *([] if include_sensitive else sensitive)}
    features = [c for c in frame.columns if c not in excluded]
    if not features:
        raise DataValidationError("no feature columns left after removing target and sensitive")
    X = frame[features].copy()
    for col in features:
        if not pd.api.types.is_numeric_dtype(X[col]):
            X[col] = X[col].astype("category")
    strata = pd.Series(y).astype(str) + "|" + frame[sensitive[0]].astype(str).to_numpy()
    counts = strata.map(strata.value_counts())
    strat = strata.where(counts >= 10, "rare").to_numpy()
    idx = np.arange(len(frame))
    rest, test = train_test_split(
        idx, test_size=test_size, random_state=random_state, stratify=strat
    )
    train, calib = train_test_split(
        rest, test_size=calibration_size, random_state=random_state, stratify=strat[rest]
    )
    desc = (
        f"stratified by label and {sensitive[0]}, seed {random_state}: "
        f"train {len(train)} rows ({1 - test_size:.0%} x {1 - calibration_size:.0%}), "
        f"calibration {len(calib)} rows, test {len(test)} rows ({test_size:.0%})"
    )
    return TabularProblem(
        X=X.reset_index(drop=True),
        y=y,
        sensitive=frame[sensitive].astype(str).reset_index(drop=True),
        target=target,
        positive=str(positive),
        features=tuple(features),
        split=Split(
            train=np.sort(train), calibration=np.sort(calib), test=np.sort(test), description=desc
        ),
    )


def reference_model(random_state: int = 0, **params: Any) -> HistGradientBoostingClassifier:
    """The classifier audited on tabular files: gradient-boosted trees, native categoricals."""
    hp: dict[str, Any] = {"max_iter": 200, "learning_rate": 0.1, **params}
    return HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=random_state, **hp
    )
