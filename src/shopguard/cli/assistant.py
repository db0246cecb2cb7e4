"""``shopguard assistant``: the shopping assistant's prompt-injection detector."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

from shopguard.cli import app
from shopguard.cli._common import err_console, progress, require_file, settings
from shopguard.core.errors import ConfigError, DataValidationError
from shopguard.core.threads import hold_blas_threads

__all__ = ["assistant_app"]

assistant_app = typer.Typer(help="Shopping-assistant security.", no_args_is_help=True)
app.add_typer(assistant_app, name="assistant")


@assistant_app.command("score-prompts")
def score_prompts(
    infile: Path = typer.Argument(..., help='JSON lines, each {"id": ..., "text": ...}.'),
    out: Path = typer.Option(..., "--out", help='JSON lines to write: {"id", "score", "flagged"}.'),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Report malformed lines and go on (default: fail, write nothing)."
    ),
    target_fpr: float | None = typer.Option(
        None,
        "--target-fpr",
        help="Flag at this share of benign shopper messages (out of fold, e.g. 0.005) instead "
        "of the shipped threshold.",
    ),
    detector_name: str = typer.Option(
        "balanced",
        "--detector",
        help="Shipped detector: 'balanced' (default, round 36) or 'recall' (round 8: a little "
        "more of the public attack sets, far fewer fresh hand-written ones).",
    ),
    model: Path | None = typer.Option(
        None,
        "--model",
        help="A detector file built by 'python -m shopguard.assistant.train --out FILE' "
        "(e.g. --round10 for many languages), instead of a shipped one.",
    ),
) -> None:
    """Score prompts for injection with a shipped or built detector (no network calls)."""
    from shopguard.assistant.batch import BadLine, score_lines
    from shopguard.assistant.detector import PromptInjectionDetector

    if target_fpr is not None and not 0.0 < target_fpr < 0.5:
        raise ConfigError("--target-fpr must be between 0 and 0.5")
    if detector_name not in ("balanced", "recall"):
        raise ConfigError("--detector must be 'balanced' or 'recall'")
    if model is not None and detector_name != "balanced":
        raise ConfigError("--model and --detector name two detectors; give one")
    require_file(infile, what="input file")
    if model is not None:
        require_file(model, what="detector file")
    if not out.parent.is_dir():
        raise DataValidationError("output directory does not exist", file=str(out))
    with infile.open("rb") as fh:
        total = sum(1 for _ in fh)
    hold_blas_threads(settings().blas_threads)
    detector = (
        PromptInjectionDetector.load(model)
        if model is not None
        else PromptInjectionDetector.shipped(detector_name)
    )
    if target_fpr is not None:
        detector.calibrate(target_fpr)
    n_ok = n_bad = n_flag = 0
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with (
            os.fdopen(fd, "w", encoding="utf-8") as dst,
            infile.open("rb") as src,
            progress() as bar,
        ):
            task = bar.add_task("scoring prompts", total=total)
            for item in score_lines(src, detector):
                bar.update(task, completed=item.line)
                if isinstance(item, BadLine):
                    if not skip_bad:
                        raise DataValidationError(
                            f"line {item.line}: {item.reason}", file=str(infile)
                        )
                    n_bad += 1
                    err_console.print(f"skipped line {item.line}: {item.reason}")
                    continue
                dst.write(item.to_json() + "\n")
                n_ok += 1
                n_flag += item.flagged
            bar.update(task, completed=total)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    err_console.print(
        f"scored {n_ok} prompts, {n_flag} flagged"
        + (f", skipped {n_bad} bad lines" if n_bad else "")
    )
    typer.echo(str(out))
