"""The batch text scan partitioned on Dask: a local cluster or a running scheduler.

The driver reads the JSON-lines input in partitions of ``partition_lines`` lines and
submits each partition's raw bytes to the cluster (so workers need no shared file
system); every worker builds one :class:`~shopguard.privacy.pii.PiiDetector` per
process and returns, per partition, the output lines and the bad lines it met. The
driver writes the results in input order, so the output is byte-identical to the
single-process scan, and applies the same bad-line policy (fail, writing nothing, or
skip and report).

References
----------
Rocklin, "Dask: Parallel Computation with Blocked algorithms and Task Scheduling", SciPy 2015.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopguard.core.errors import ConfigError, DataValidationError

__all__ = ["DaskScanResult", "scan_text_dask"]

_DETECTORS: dict[float, Any] = {}


@dataclass
class DaskScanResult:
    """What the scan did: texts scanned, bad lines skipped (1-based line, reason), workers."""

    scanned: int
    skipped: list[tuple[int, str]] = field(default_factory=list)
    workers: int = 0


def _scan_partition(
    first_line: int, lines: list[bytes], min_score: float
) -> tuple[list[str], list[tuple[int, str]]]:
    """Runs on a worker: scan one partition; returns (output lines, bad lines)."""
    from shopguard.privacy.pii import PiiDetector
    from shopguard.privacy.pii._jsonl import BadLine, read_text_records

    detector = _DETECTORS.get(min_score)
    if detector is None:
        detector = _DETECTORS[min_score] = PiiDetector(min_score=min_score)
    out: list[str] = []
    bad: list[tuple[int, str]] = []
    for item in read_text_records(lines):
        line = first_line + item.line - 1
        if isinstance(item, BadLine):
            bad.append((line, item.reason))
            continue
        ents = [e.to_dict() for e in detector.detect(item.text)]
        out.append(json.dumps({"id": item.id, "entities": ents}, ensure_ascii=False) + "\n")
    return out, bad


def _partitions(path: Path, size: int) -> Iterator[tuple[int, list[bytes]]]:
    with path.open("rb") as fh:
        chunk: list[bytes] = []
        first = 1
        for i, raw in enumerate(fh, start=1):
            chunk.append(raw)
            if len(chunk) >= size:
                yield first, chunk
                chunk, first = [], i + 1
        if chunk:
            yield first, chunk


def _client(dask: str, workers: int) -> tuple[Any, Any]:
    """A distributed client for ``"local"`` (a new local cluster) or a scheduler address."""
    from dask.distributed import Client, LocalCluster

    if dask == "local":
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never clash with a running cluster
            silence_logs=40,
        )
        return Client(cluster), cluster  # type: ignore[no-untyped-call]
    if not dask.startswith(("tcp://", "tls://", "ucx://", "inproc://")):
        raise ConfigError("--dask takes 'local' or a scheduler address such as tcp://host:8786")
    try:
        return Client(dask, timeout=10), None  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError):
        raise ConfigError("cannot reach the Dask scheduler") from None


def scan_text_dask(
    infile: Path,
    out: Path,
    *,
    dask: str = "local",
    workers: int = 2,
    min_score: float = 0.5,
    skip_bad: bool = False,
    partition_lines: int = 500,
    on_progress: Callable[[int], None] | None = None,
) -> DaskScanResult:
    """Scan ``infile`` (JSON lines of ``{"id", "text"}``) on Dask; write ``out`` atomically.

    Raises
    ------
    DataValidationError
        A malformed line and ``skip_bad`` is false (nothing is written).
    ConfigError
        A bad ``dask`` value or an unreachable scheduler.
    """
    from dask.distributed import as_completed

    client, cluster = _client(dask, workers)
    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        futures = {
            client.submit(_scan_partition, first, lines, min_score, pure=False): idx
            for idx, (first, lines) in enumerate(_partitions(infile, partition_lines))
        }
        results: dict[int, tuple[list[str], list[tuple[int, str]]]] = {}
        done_lines = 0
        for fut in as_completed(futures):  # type: ignore[no-untyped-call]
            res = fut.result()
            results[futures[fut]] = res
            done_lines += len(res[0]) + len(res[1])
            if on_progress is not None:
                on_progress(done_lines)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    ordered = [results[i] for i in range(len(results))]
    skipped = [b for _, bad in ordered for b in bad]
    if skipped and not skip_bad:
        line, reason = skipped[0]
        raise DataValidationError(f"line {line}: {reason}", file=str(infile))
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as dst:
            for lines, _ in ordered:
                dst.writelines(lines)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return DaskScanResult(sum(len(o) for o, _ in ordered), skipped, n_workers)
