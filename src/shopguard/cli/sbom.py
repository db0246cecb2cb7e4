"""``shopguard sbom``: the deployment's AI bill of materials (CycloneDX 1.6 JSON)."""

from __future__ import annotations

from pathlib import Path

import typer

from shopguard.cli import app
from shopguard.cli._common import console, open_runtime, require_file, settings


@app.command("sbom")
def sbom_cmd(
    out: Path = typer.Option(Path("bom.json"), "--out", "-o", help="Where to write the SBOM."),
    validate: Path = typer.Option(
        None,
        "--validate",
        help="Validate an existing CycloneDX JSON file instead (exit 0 valid, 2 not).",
    ),
) -> None:
    """Write a CycloneDX SBOM: packages (hashed), models, datasets, AI services and vendors."""
    from shopguard.governance import sbom
    from shopguard.governance.checks import sbom_inputs

    if validate is not None:
        require_file(validate, what="SBOM file")
        try:
            text = validate.read_text("utf-8")
        except UnicodeDecodeError:
            from shopguard.core.errors import DataValidationError

            raise DataValidationError("not a UTF-8 file", file=validate.name) from None
        doc = sbom.validate_bom_json(text, source=validate.name)
        console.print(
            f"{validate}: valid CycloneDX {doc.get('specVersion')} "
            f"({len(doc.get('components', []))} components, {len(doc.get('services', []))} services)"
        )
        return
    with console.status("collecting packages, models and datasets"), open_runtime() as rt:
        summary = sbom.write_sbom(settings(), out, **sbom_inputs(rt))
    console.print(
        f"wrote {summary.path}: CycloneDX {summary.spec_version}, {summary.packages} packages, "
        f"{summary.models} models (+{summary.packaged_models} shipped in the package), "
        f"{summary.datasets} datasets, {summary.services} services "
        "(schema-valid)"
    )
