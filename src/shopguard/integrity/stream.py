"""Streaming and partitioned review scoring for tables larger than memory.

:func:`score_reviews_csv` reads a CSV in chunks, scores each chunk and appends
to the output, so memory stays bounded by the chunk size whatever the file
size. Behaviour signals that compare reviews (bursts, copies, cliques, rating
consensus) see the reviews of the same chunk; sort the input by product (or
use a chunk that holds a product's recent reviews) for them to see all.

:func:`score_reviews_dask` runs the same scoring on each partition of a Dask
dataframe (a cluster, or a local one), for tables larger than one machine.
"""

from __future__ import annotations

import csv
import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from shopguard.core.errors import DataValidationError
from shopguard.integrity.reviews import REQUIRED_REVIEW_COLUMNS, ReviewScorer

__all__ = ["OUTPUT_COLUMNS", "score_reviews_csv", "score_reviews_dask"]

OUTPUT_COLUMNS = ("id", "score", "flagged", "reasons")
_OPTIONAL = ("product_id", "reviewer_id", "created_at", "verified_purchase", "account_age_days")


def _prepare(chunk: pd.DataFrame, offset: int, file: str) -> pd.DataFrame:
    for col in REQUIRED_REVIEW_COLUMNS:
        if col not in chunk.columns:
            raise DataValidationError("required column missing", file=file, column=col)
    ids = chunk["id"].fillna("").astype(str).str.strip()
    bad = (ids == "").to_numpy()
    if bad.any():
        raise DataValidationError(
            "empty id", file=file, row=offset + int(bad.argmax()) + 1, column="id"
        )
    rating = pd.to_numeric(chunk["rating"], errors="coerce")
    bad = (rating.isna() | (rating < 1) | (rating > 5)).to_numpy()
    if bad.any():
        raise DataValidationError(
            "rating must be a number from 1 to 5",
            file=file,
            row=offset + int(bad.argmax()) + 1,
            column="rating",
        )
    out = chunk[[c for c in (*REQUIRED_REVIEW_COLUMNS, *_OPTIONAL) if c in chunk.columns]].copy()
    out["id"] = ids
    out["text"] = out["text"].fillna("").astype(str)
    out["rating"] = rating
    return out


def _render(scored: pd.DataFrame) -> pd.DataFrame:
    out = scored[list(OUTPUT_COLUMNS)].copy()
    out["flagged"] = out["flagged"].map(lambda b: "true" if b else "false")
    out["reasons"] = out["reasons"].map(lambda r: "; ".join(r))
    return out


def score_reviews_csv(
    src: Path,
    out: Path,
    *,
    scorer: ReviewScorer | None = None,
    chunk_size: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Score every review of ``src`` into ``out`` (``id,score,flagged,reasons``), in chunks.

    The output is written to a temporary file and moved into place at the end:
    a failure leaves no partial output.

    Raises
    ------
    DataValidationError
        A required column is missing or a row has an empty id / bad rating
        (naming the row); nothing is written.
    """
    if not src.is_file():
        raise DataValidationError("file not found", file=src.name)
    if not out.parent.is_dir():
        raise DataValidationError("output directory does not exist", file=str(out))
    scorer = scorer or ReviewScorer.load_default()
    n = flagged = 0
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            try:
                reader = pd.read_csv(
                    src, dtype=str, keep_default_na=False, na_values=[""], chunksize=chunk_size
                )
                first = True
                for chunk in reader:
                    rows = _prepare(chunk, n, src.name)
                    scored = scorer.score_frame(rows)
                    _render(scored).to_csv(fh, header=first, index=False, quoting=csv.QUOTE_MINIMAL)
                    first = False
                    n += len(rows)
                    flagged += int(scored["flagged"].sum())
                    if progress is not None:
                        progress(n)
            except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
                raise DataValidationError(
                    f"unreadable CSV ({type(exc).__name__})", file=src.name
                ) from None
            if first:
                fh.write(",".join(OUTPUT_COLUMNS) + "\n")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return {"reviews": n, "flagged": flagged}


@functools.lru_cache(maxsize=4)
def _worker_scorer(model_path: Path | None) -> ReviewScorer:
    # One load per process and model (six stackers and the column lookup tables take about
    # a second to build); scoring does not mutate the scorer, so threads may share it.
    return ReviewScorer.load_default(model_path) if model_path else ReviewScorer.load_default()


def score_reviews_dask(frame: Any, *, model_path: Path | None = None) -> Any:
    """Score a ``dask.dataframe`` of reviews partition by partition; returns a lazy frame.

    Each worker process loads the shipped model once (about 10 MB, no pickle of the
    model crosses the wire: only the path does) and keeps it for its later partitions.
    """

    def part(df: pd.DataFrame) -> pd.DataFrame:
        scorer = _worker_scorer(model_path)
        if len(df) == 0:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in OUTPUT_COLUMNS})
        return _render(scorer.score_frame(_prepare(df, 0, "<partition>")))

    meta = pd.DataFrame(
        {
            "id": pd.Series(dtype=object),
            "score": pd.Series(dtype=float),
            "flagged": pd.Series(dtype=object),
            "reasons": pd.Series(dtype=object),
        }
    )
    return frame.map_partitions(part, meta=meta)
