"""The ``shopguard`` command.

Thin by design: parse -> settings -> library call -> render -> exit code. Each
command group lives in its own module and registers itself on :data:`app`.
Every :class:`~shopguard.core.errors.ShopguardError` (and every usage error)
becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import typer

from shopguard import __version__
from shopguard.core.errors import ShopguardError

__all__ = ["app", "main"]

app = typer.Typer(
    name="shopguard",
    help="Protect the AI features of an online store, and prove it by attacking them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shopguard {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """shopguard: guard a store's models, data and customers."""


_COMMAND_MODULES = (
    "core_cmds",
    "keys",
    "data",
    "train",
    "_train_recommender",
    "score",
    "evaluate",
    "privacy",
    "integrity",
    "serve",
    "demo",
    "assistant",
    "ops",
    "fairness",
    "report",
    "sbom",
    "audit_cmds",
    "vendors",
    "evidence",
    "models",
    "images",
    "adversarial",
    "redteam",
)


def _register() -> None:
    # Imported for their side effect: each module adds its commands to ``app``.
    for name in _COMMAND_MODULES:
        importlib.import_module(f"shopguard.cli.{name}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 1 a check failed, 2 bad input)."""
    _register()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = app(args=args, prog_name="shopguard", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.TyperException as exc:
        # Usage errors (unknown option, missing argument, bad value): one line, exit 2.
        fmt = getattr(exc, "format_message", None)
        message = fmt() if callable(fmt) else str(exc)
        line = " ".join(str(message).split())
        if line:  # a bare group prints its help instead of an error
            typer.echo(f"shopguard: error: {line}", err=True)
        return 2
    except typer.Abort:
        typer.echo("shopguard: aborted", err=True)
        return 130
    except ShopguardError as exc:
        typer.echo(f"shopguard: error: {exc}", err=True)
        return 2
    return int(rv) if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
