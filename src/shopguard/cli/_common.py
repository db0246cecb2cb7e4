"""Helpers shared by the command modules: settings, runtime, console, progress."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from shopguard.core.settings import Settings, load_settings

if TYPE_CHECKING:  # the runtime pulls in SQLAlchemy and the stores: not for `--help`
    from shopguard.core.runtime import Runtime

__all__ = ["console", "err_console", "open_runtime", "progress", "require_file", "settings"]

console = Console()
err_console = Console(stderr=True)


def settings() -> Settings:
    return load_settings()


@contextlib.contextmanager
def open_runtime(*, migrate_schema: bool = True) -> Iterator[Runtime]:
    from shopguard.core.runtime import Runtime

    rt = Runtime.open(settings(), migrate_schema=migrate_schema)
    try:
        yield rt
    finally:
        rt.close()


def progress(*, transient: bool = False) -> Progress:
    """A rich progress display on stderr (disabled when stderr is not a terminal and CI is set)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
        disable=bool(os.environ.get("SHOPGUARD_NO_PROGRESS")),
    )


def require_file(path: Path, *, what: str = "file") -> Path:
    """Raise a one-line error unless ``path`` is a readable file."""
    from shopguard.core.errors import DataValidationError

    if not path.exists():
        raise DataValidationError(f"{what} does not exist", file=str(path))
    if not path.is_file():
        raise DataValidationError(f"{what} is not a file", file=str(path))
    if not os.access(path, os.R_OK):
        raise DataValidationError(f"{what} is not readable", file=str(path))
    return path
