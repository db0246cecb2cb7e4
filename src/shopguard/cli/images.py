"""``shopguard images``: the product-image classifier offline (accuracy on any IDX set, under attack)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from shopguard.cli import app
from shopguard.cli._common import require_file, settings

__all__ = ["evaluate", "images_app"]

images_app = typer.Typer(
    name="images", help="The store's product-image classifier.", no_args_is_help=True
)
app.add_typer(images_app, name="images")

_ATTACKS = ("fgsm", "pgd", "pgd50", "apgd", "square")


@images_app.command("evaluate")
def evaluate(
    images: Path = typer.Option(..., "--images", help="IDX image file (28x28, optionally gzip)."),
    labels: Path = typer.Option(..., "--labels", help="IDX label file (0-9, optionally gzip)."),
    attack: str | None = typer.Option(
        None, "--attack", help=f"Attack the images first: {', '.join(_ATTACKS)}."
    ),
    eps: float = typer.Option(0.1, "--eps", help="L-inf radius on [0, 1] pixels."),
    steps: int | None = typer.Option(None, "--steps", help="Attack steps (default per attack)."),
    model: str | None = typer.Option(
        None, "--model", help="Image model (default: the served one, setting images_model)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Accuracy of the served image model on an IDX set (on the attacked images with --attack)."""
    from shopguard.adversarial.attacks import Attack, AttackSpec
    from shopguard.adversarial.robustness import DEFAULT_STEPS, accuracy_under
    from shopguard.core.errors import DataValidationError
    from shopguard.store.images import load_classifier, read_idx_images, read_idx_labels

    if attack is not None and attack not in _ATTACKS:
        raise DataValidationError(f"--attack must be one of {', '.join(_ATTACKS)}")
    x = read_idx_images(require_file(images, what="--images"))
    y = read_idx_labels(require_file(labels, what="--labels"))
    if len(x) != len(y):
        raise DataValidationError(f"{len(x)} images but {len(y)} labels")
    name = model or settings().images_model
    clf = load_classifier(name)
    spec = None
    if attack is not None:
        kind = Attack(attack)
        spec = AttackSpec(kind, eps, steps=steps or DEFAULT_STEPS[kind])
    acc = accuracy_under(clf, x, y, spec)
    result = {
        "accuracy": round(acc, 6),
        "n": len(y),
        "model": name,
        "attack": attack,
        "eps": eps if attack is not None else 0.0,
    }
    if as_json:
        typer.echo(json.dumps(result))
        return
    what = f"under {attack} eps={eps:g}" if attack else "clean"
    typer.echo(f"{name}: accuracy {acc:.4f} on {len(y)} images ({what})")
