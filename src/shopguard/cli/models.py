"""``shopguard models list|show|import|import-store|promote|export|scan|verify-ownership``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from shopguard.cli import app
from shopguard.cli._common import console, err_console, open_runtime, progress
from shopguard.core.errors import DataValidationError
from shopguard.modelsec.scan import scan_path
from shopguard.modelsec.vault import (
    OPERATOR,
    ModelKind,
    ModelVault,
    VaultStage,
    directory_digest,
    store_reference_models,
)

models_app = typer.Typer(
    help="The model vault (encrypted, signed artifacts), artifact scanning, ownership proof.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")


@models_app.command("list")
def list_models(
    name: str = typer.Option(None, "--name", help="Only this model's versions."),
) -> None:
    """Every version in the vault: kind, owner, stage, signing key (no secrets)."""
    with open_runtime() as rt:
        infos = ModelVault(rt).list(who=OPERATOR, name=name)
    table = Table("name", "version", "kind", "stage", "owner", "created", "signing key")
    for i in infos:
        table.add_row(
            i.name,
            str(i.version),
            i.kind.value,
            i.stage.value,
            i.owner,
            i.created_at,
            i.sign_key_id,
        )
    console.print(table)


@models_app.command("show")
def show(
    name: str = typer.Argument(..., help="Model name."),
    version: int = typer.Option(None, "--version", help="Default: production, else latest."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """A version's signed manifest and whether it verifies now (exit 1 if it does not)."""
    with open_runtime() as rt:
        info, ok, reason = ModelVault(rt).show(name, version, who=OPERATOR)
    if as_json:
        typer.echo(json.dumps({**info.to_json(), "verified": ok, "reason": reason}, indent=2))
    else:
        m = info.manifest
        console.print(f"[bold]{info.name}@{info.version}[/] {info.kind.value} ({info.stage.value})")
        console.print(f"owner {info.owner}; created {info.created_at}")
        console.print(f"training data sha256 {m.get('training_data_sha256') or '-'}")
        console.print(f"bundle sha256 {m.get('bundle_sha256')}; signed by {info.sign_key_id}")
        console.print(
            f"integrity: {m['integrity']['verdict']} ({len(m['integrity']['files'])} files)"
        )
        metrics = m.get("metrics") or {}
        flat = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
        if flat:
            console.print("metrics: " + ", ".join(f"{k}={v:.4g}" for k, v in sorted(flat.items())))
        console.print(("[green]verifies[/]: " if ok else "[red]REFUSED[/]: ") + reason)
    raise typer.Exit(0 if ok else 1)


@models_app.command("import")
def import_model(
    source: Path = typer.Argument(..., help="A model directory."),
    name: str = typer.Option(..., "--name", help="Name in the vault."),
    kind: ModelKind = typer.Option(ModelKind.GENERIC, "--kind", help="Which loader reads it."),
    owner: str = typer.Option(None, "--owner", help="Owner recorded in the manifest."),
    training_data: Path = typer.Option(
        None, "--training-data", help="File or folder whose SHA-256 is recorded."
    ),
    promote: bool = typer.Option(False, "--promote", help="Make it the production version."),
) -> None:
    """Scan, encrypt, sign and store a model directory (refused if any file is unsafe)."""
    if not source.is_dir():
        raise DataValidationError("model directory does not exist", file=str(source))
    data_hash = None
    if training_data is not None:
        if training_data.is_dir():
            data_hash = directory_digest(training_data)
        elif training_data.is_file():
            import hashlib

            data_hash = hashlib.sha256(training_data.read_bytes()).hexdigest()
        else:
            raise DataValidationError("training data does not exist", file=str(training_data))
    with open_runtime() as rt:
        vault = ModelVault(rt)
        info = vault.put(
            name, source, kind=kind, who=OPERATOR, owner=owner, training_data_sha256=data_hash
        )
        if promote:
            info = vault.promote(name, info.version, who=OPERATOR)
    console.print(
        f"stored {info.name}@{info.version} ({info.stage.value}), signed by {info.sign_key_id}"
    )


@models_app.command("import-store")
def import_store() -> None:
    """Put the store's reference models (fraud, recommender, reviews) and the shipped image
    classifiers (images) into the vault; the gateway then serves the images from it."""
    with open_runtime() as rt:
        infos = store_reference_models(
            ModelVault(rt),
            rt.settings.models_dir,
            who=OPERATOR,
            store_dir=rt.settings.home / "store",
        )
    for i in infos:
        console.print(f"stored {i.name}@{i.version} ({i.stage.value})")


@models_app.command("promote")
def promote(
    name: str = typer.Argument(...),
    version: int = typer.Argument(...),
    stage: VaultStage = typer.Option(VaultStage.PRODUCTION, "--stage"),
) -> None:
    """Move a version to a stage (it must verify first)."""
    with open_runtime() as rt:
        info = ModelVault(rt).promote(name, version, who=OPERATOR, stage=stage)
    console.print(f"{info.name}@{info.version} is now {info.stage.value}")


@models_app.command("export")
def export(
    name: str = typer.Argument(...),
    dest: Path = typer.Argument(..., help="A new directory."),
    version: int = typer.Option(None, "--version"),
) -> None:
    """Write a verified version with its signed manifest and public key to DEST."""
    with open_runtime() as rt:
        out = ModelVault(rt).export(name, version, dest, who=OPERATOR)
    console.print(f"exported to {out}")


@models_app.command("scan")
def scan(
    paths: list[Path] = typer.Argument(..., help="Files or directories to scan."),
    as_json: bool = typer.Option(False, "--json", help="One JSON report per line."),
) -> None:
    """Scan pickle / joblib / PyTorch / Keras / NumPy files without loading them.

    Exit 0 when every file is safe, 1 naming each dangerous construct otherwise.
    """
    for p in paths:
        if not p.exists():
            raise DataValidationError("path does not exist", file=str(p))
    unsafe = 0
    with progress(transient=True) as bar:
        task = bar.add_task("scanning", total=len(paths))
        reports = []
        for p in paths:
            reports.append(scan_path(p))
            bar.advance(task)
    for r in reports:
        if as_json:
            typer.echo(json.dumps(r.to_json()))
        elif r.safe:
            console.print(f"[green]safe[/]   {r.path} ({r.format})")
        else:
            console.print(f"[red]UNSAFE[/] {r.path} ({r.format})")
            for f in r.findings:
                console.print(f"  - {f}", markup=False)
        unsafe += 0 if r.safe else 1
    if unsafe:
        err_console.print(f"{unsafe} of {len(reports)} unsafe")
    raise typer.Exit(1 if unsafe else 0)


@models_app.command("fingerprint")
def fingerprint(
    name: str = typer.Argument("fraud", help="A fraud model in the vault."),
    version: int = typer.Option(None, "--version"),
) -> None:
    """Take a keyed black-box fingerprint of a vault fraud model; stored encrypted as NAME.fingerprint."""
    import tempfile

    from shopguard.modelsec.ownership import fingerprint_fraud_model
    from shopguard.modelsec.watermark import watermark_from_metrics, watermark_key
    from shopguard.store.schema import load_store

    with open_runtime() as rt:
        vault = ModelVault(rt)
        info, _ok, _reason = vault.show(name, version, who=OPERATOR)
        if info.kind is not ModelKind.FRAUD:
            raise DataValidationError(f"model {name} is not a fraud model")
        model = vault.load(name, info.version, who=OPERATOR)
        store_dir = rt.settings.home / "store"
        if not store_dir.is_dir():
            raise DataValidationError(
                "no store data to train reference models", file=str(store_dir)
            )
        tx = load_store(store_dir).transactions
        wm_key = watermark_key(rt.keyring, model.metrics)
        watermark = watermark_from_metrics(model.metrics, wm_key) if wm_key else None
        with progress(transient=True) as bar:
            bar.add_task("training reference models", total=None)
            fp = fingerprint_fraud_model(
                model,
                tx,
                key=rt.keyring.active("modelsec.fingerprint").secret,
                watermark=watermark,
            )
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "fingerprint.json").write_bytes(fp.dumps())
            stored = vault.put(
                f"{name}.fingerprint",
                tmp,
                kind=ModelKind.GENERIC,
                who=OPERATOR,
                extra={"model": name, "model_version": info.version},
            )
            vault.promote(stored.name, stored.version, who=OPERATOR)
    console.print(
        f"fingerprint of {name}@{info.version}: {len(fp.bodies)} queries, stored as {stored.name}@{stored.version}"
    )


@models_app.command("verify-ownership")
def verify_ownership_cmd(
    suspect: str = typer.Option(
        ..., "--suspect", help="A suspect's scoring URL, or a fraud model directory."
    ),
    name: str = typer.Option("fraud", "--model", help="Our model (its fingerprint must exist)."),
    api_key: str = typer.Option(
        None, "--api-key", envvar="SHOPGUARD_SUSPECT_API_KEY", help="Header for the suspect URL."
    ),
    alpha: float = typer.Option(0.01, "--alpha", min=1e-9, max=0.5),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Query a suspect (at most 100 queries); exit 0 if it is a copy of ours (p < alpha), else 1.

    A watermarked model (trained with ``shopguard train fraud --watermark`` or by the demo)
    is judged by its keyed trigger-set watermark, with the fingerprint, when one was
    taken, as second evidence; otherwise the fingerprint decides.
    """
    from shopguard.modelsec.ownership import (
        Fingerprint,
        fraud_model_scorer,
        http_scorer,
        verify_ownership,
    )
    from shopguard.modelsec.watermark import watermark_from_metrics, watermark_key

    if suspect.startswith(("http://", "https://")):
        scorer = http_scorer(suspect, api_key=api_key)
    else:
        path = Path(suspect)
        if not path.is_dir():
            raise DataValidationError(
                "suspect is neither a URL nor a model directory", file=suspect
            )
        report = scan_path(path)
        if not report.safe:
            raise DataValidationError(
                f"suspect artifact is unsafe: {report.findings[0]}", file=suspect
            )
        from shopguard.store.fraud import FraudModel

        scorer = fraud_model_scorer(FraudModel.load(path))
    with open_runtime() as rt:
        vault = ModelVault(rt)
        ours = vault.load(name, who=OPERATOR)
        metrics = getattr(ours, "metrics", None) or {}
        wm_key = watermark_key(rt.keyring, metrics)
        watermark = watermark_from_metrics(metrics, wm_key) if wm_key else None
        fp = None
        if vault.list(who=OPERATOR, name=f"{name}.fingerprint"):
            files = vault.files(f"{name}.fingerprint", who=OPERATOR)
            fp = Fingerprint.from_json(json.loads(files["fingerprint.json"]))
    if watermark is None and fp is None:
        raise DataValidationError(
            f"model {name} carries no watermark and has no fingerprint; run 'shopguard models fingerprint {name}'"
        )
    result = verify_ownership(scorer, fp, watermark=watermark, alpha=alpha)
    if as_json:
        typer.echo(json.dumps(result.to_json()))
    else:
        verdict = "[red]a copy of ours[/]" if result.ours else "not shown to be ours"
        second = (
            f"; fingerprint p-value {result.fingerprint_p:.3g} (second evidence)"
            if result.method == "watermark" and result.fingerprint_p is not None
            else ""
        )
        console.print(
            f"{verdict}: {result.method} p-value {result.p_value:.3g} (alpha {alpha}), "
            f"{result.queries} queries{second}"
        )
    raise typer.Exit(0 if result.ours else 1)
