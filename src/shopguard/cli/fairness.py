"""``shopguard fairness``: bias audits of store models and of any tabular file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from shopguard.cli import app
from shopguard.cli._common import console, err_console, require_file, settings
from shopguard.core.errors import DataValidationError

__all__ = ["fairness_app"]

fairness_app = typer.Typer(
    help="Audit models and data for unfair treatment of groups; mitigate.", no_args_is_help=True
)
app.add_typer(fairness_app, name="fairness")


def _split_list(value: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise DataValidationError("name at least one sensitive column")
    return items


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


def _render_audit(col: str, audit: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(
        "group",
        "n",
        "status",
        "selection",
        "FPR",
        "FNR",
        "precision",
        "calib. gap",
        title=f"{col} (groups under {audit['min_group_size']} rows: too small to judge)",
    )
    for g in audit["groups"]:
        table.add_row(
            g["group"],
            str(g["n"]),
            "too small to judge" if g["status"] == "too_small" else "ok",
            _fmt(g["selection_rate"]),
            _fmt(g["false_positive_rate"]),
            _fmt(g["false_negative_rate"]),
            _fmt(g["precision"]),
            _fmt(g["calibration_gap"]),
        )
    console.print(table)
    for key, label in (
        ("demographic_parity_difference", "demographic-parity difference"),
        ("equalized_odds_difference", "equalised-odds difference"),
        ("false_positive_rate_difference", "false-positive-rate difference"),
        ("disparate_impact_ratio", "disparate-impact ratio"),
    ):
        iv = audit[key]
        if iv is None:
            console.print(f"  {label}: not judged")
        else:
            console.print(f"  {label}: {iv['value']:.3f} (95% CI {iv['low']:.3f}-{iv['high']:.3f})")
    if audit["four_fifths_rule"] is not None:
        console.print(f"  four-fifths rule: {'met' if audit['four_fifths_rule'] else 'NOT met'}")
    for note in audit["notes"]:
        console.print(f"  note: {note}")
    console.print(f"  verdict: {audit['verdict'].replace('_', ' ')}")


def _exit_code(report: dict[str, Any]) -> int:
    verdicts = [a["verdict"] for a in report.get("audits", {}).values()]
    if "verdict" in report:
        verdicts.append(report["verdict"])
    mit = report.get("mitigation")
    if mit is not None:
        verdicts = [mit["audit_after"]["verdict"]]
    return 0 if verdicts and all(v == "within_bars" for v in verdicts) else 1


@fairness_app.command("audit")
def audit(
    model: str | None = typer.Option(None, "--model", help="A store model: fraud or recommender."),
    data: Path | None = typer.Option(
        None, "--data", help="A CSV/Parquet file (with --target), or the store folder for --model."
    ),
    target: str | None = typer.Option(None, "--target", help="Label column of --data."),
    positive: str | None = typer.Option(None, "--positive", help="The label value that is 1."),
    sensitive: str = typer.Option(
        "", "--sensitive", help="Comma-separated sensitive columns, e.g. region,age_band."
    ),
    mitigate: str | None = typer.Option(
        None, "--mitigate", help="threshold | reductions | reweighing (tabular files)."
    ),
    threshold: float = typer.Option(
        0.8, "--threshold", min=0.0, max=1.0, help="Fraud decline threshold (--model fraud)."
    ),
    min_group_size: int | None = typer.Option(
        None, "--min-group-size", min=1, help="Smaller groups are too small to judge."
    ),
    bootstrap: int = typer.Option(200, "--bootstrap", min=0, max=5000),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    save: bool = typer.Option(
        False, "--save", help="With --model: record the audit beside the model (for its card)."
    ),
) -> None:
    """Per-group rates and gaps with 95% bootstrap intervals; exit 1 when outside the bars."""
    from shopguard.fairness.audit import FairnessBars
    from shopguard.fairness.mitigation import Mitigation
    from shopguard.fairness.runs import audit_store_model, audit_table
    from shopguard.fairness.tabular import load_table

    cfg = settings()
    min_n = min_group_size or cfg.fairness_min_group_size
    bars = FairnessBars(
        demographic_parity_difference=cfg.fairness_dp_gap_bar,
        false_positive_rate_difference=cfg.fairness_fpr_gap_bar,
    )
    cols = [c.strip() for c in sensitive.split(",") if c.strip()]
    say = (lambda m: err_console.print(f"[dim]{m}[/dim]")) if not as_json else None
    if (model is None) == (target is None):
        raise DataValidationError("give either --model NAME or --data FILE --target COL")
    if model is not None:
        if mitigate is not None:
            raise DataValidationError("--mitigate applies to tabular files (--data --target)")
        if model == "fraud" and not cols:
            raise DataValidationError("name at least one sensitive column (--sensitive)")
        store_dir = data or (cfg.home / "store")
        report = audit_store_model(
            model,
            store_dir=store_dir,
            models_dir=cfg.models_dir,
            sensitive=cols,
            threshold=threshold,
            min_group_size=min_n,
            n_bootstrap=bootstrap,
            bars=bars,
            say=say,
        )
    else:
        if data is None or positive is None:
            raise DataValidationError("--target needs --data FILE and --positive VALUE")
        if not data.is_dir():
            require_file(data, what="data file")
        method = None
        if mitigate is not None:
            try:
                method = Mitigation(mitigate)
            except ValueError:
                raise DataValidationError(
                    "--mitigate must be threshold, reductions or reweighing"
                ) from None
        frame = load_table(data)
        report = audit_table(
            frame,
            target=str(target),
            positive=positive,
            sensitive=_split_list(sensitive),
            mitigate=method,
            min_group_size=min_n,
            n_bootstrap=bootstrap,
            bars=bars,
            say=say,
        )
    if save and model is not None:
        from shopguard.fairness.cards import FAIRNESS_FILE

        path = cfg.models_dir / model / FAIRNESS_FILE
        path.write_text(json.dumps(report, indent=2, default=str) + "\n", "utf-8")
        err_console.print(f"audit recorded in {path}")
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        if "split" in report:
            console.print(f"split: {report['split']}")
        for col, a in report.get("audits", {}).items():
            _render_audit(col, a)
        for row in report.get("exposure", []):
            console.print(
                f"  sellers {row['group']}: exposure {row['exposure_share']:.3f}, catalogue "
                f"{row['catalogue_share']:.3f}, purchases {_fmt(row['relevance_share'])} "
                f"-> {row['status']}"
            )
        mit = report.get("mitigation")
        if mit is not None:
            console.print(
                f"mitigation {mit['method']} on {mit['attribute']}: DP difference "
                f"{_fmt(mit['dp_difference_before'])} -> {_fmt(mit['dp_difference_after'])}, "
                f"accuracy {mit['accuracy_before']:.4f} -> {mit['accuracy_after']:.4f}"
            )
    raise typer.Exit(_exit_code(report))


@fairness_app.command("dataset")
def dataset(
    data: Path = typer.Option(..., "--data", help="CSV/Parquet file or a store folder."),
    sensitive: str = typer.Option(..., "--sensitive", help="Comma-separated sensitive columns."),
    reference: Path | None = typer.Option(
        None, "--reference", help="Population to compare shares with (default: the data itself)."
    ),
    threshold: float = typer.Option(0.3, "--proxy-threshold", min=0.0, max=1.0),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Group representation against a reference population, and proxy features per column."""
    from shopguard.fairness.dataset import representation
    from shopguard.fairness.runs import proxy_report, store_frame
    from shopguard.fairness.tabular import load_table

    def table_of(path: Path) -> Any:
        if path.is_dir() and any((path / f"customers.{x}").exists() for x in ("csv", "parquet")):
            return store_frame(path).customers
        return load_table(path)

    frame = table_of(data)
    ref = table_of(reference) if reference is not None else frame
    out: dict[str, Any] = {}
    for col in _split_list(sensitive):
        if col not in frame.columns or col not in ref.columns:
            raise DataValidationError("unknown sensitive column", column=col)
        out[col] = {
            "representation": [r.to_json() for r in representation(frame[col], ref[col])],
            "proxies": proxy_report(frame, col, threshold=threshold),
        }
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    for col, res in out.items():
        console.print(f"[bold]{col}[/bold]")
        for r in res["representation"]:
            console.print(
                f"  {r['group']}: {r['share']:.3f} of rows vs {r['reference_share']:.3f} -> {r['status']}"
            )
        flagged = [p for p in res["proxies"] if p["is_proxy"]]
        console.print(
            "  proxies: "
            + (", ".join(f"{p['feature']} (lift {p['lift']:.2f})" for p in flagged) or "none found")
        )


@fairness_app.command("prices")
def prices(
    sensitive: str = typer.Option(..., "--sensitive", help="Comma-separated customer columns."),
    data: Path | None = typer.Option(None, "--data", help="Store folder (default: the home's)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Personalised prices and discounts across customer groups."""
    from shopguard.fairness.runs import price_report

    cfg = settings()
    report = price_report(
        data or cfg.home / "store",
        sensitive=_split_list(sensitive),
        min_group_size=cfg.fairness_min_group_size,
    )
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    for col, rows in report["groups"].items():
        console.print(f"[bold]{col}[/bold]")
        for r in rows:
            state = (
                "too small to judge"
                if r["status"] == "too_small"
                else (f"mark-up vs best-treated {r['markup_vs_best']:+.1%}")
            )
            console.print(
                f"  {r['group']}: paid/list {r['price_ratio']:.3f} "
                f"[{r['price_ratio_low']:.3f}, {r['price_ratio_high']:.3f}], "
                f"discounted orders {r['discount_rate']:.1%}, {state}"
            )


@fairness_app.command("mitigate")
def mitigate(
    model: str = typer.Option("fraud", "--model", help="The store model (live mitigation: fraud)."),
    sensitive: str = typer.Option("region", "--sensitive", help="The customer attribute."),
    validation_days: int = typer.Option(
        28, "--validation-days", min=1, max=3650, help="Days of labelled payments fitted on."
    ),
    label_delay_days: int = typer.Option(
        7, "--label-delay-days", min=0, max=365, help="Newest days left out (labels not known)."
    ),
    min_group_size: int = typer.Option(
        100, "--min-group-size", min=1, help="Genuine payments a group needs for its own offset."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Fit group-aware thresholds for the model's live decisions and record them beside it.

    The gateway serves them when the setting ``fairness_mitigation`` maps the model to
    ``threshold``.
    """
    from shopguard.core.errors import ModelError
    from shopguard.fairness.runs import store_frame
    from shopguard.fairness.serving import LIVE_MODELS, fit_fraud_mitigation, save_mitigation
    from shopguard.store.fraud import FraudModel

    if model not in LIVE_MODELS:
        raise DataValidationError(f"--model must be one of {', '.join(LIVE_MODELS)}")
    cols = _split_list(sensitive)
    if len(cols) != 1:
        raise DataValidationError("--sensitive takes one attribute for a live mitigation")
    cfg = settings()
    model_dir = cfg.models_dir / model
    if not model_dir.is_dir():
        raise ModelError(f"model {model} not found under {cfg.models_dir}")
    store = store_frame(cfg.home / "store")
    err_console.print("[dim]scoring the store's payments[/dim]")
    scores = FraudModel.load(model_dir).score(store.transactions)
    mit, report = fit_fraud_mitigation(
        store.transactions,
        store.customers,
        scores,
        attribute=cols[0],
        validation_days=validation_days,
        label_delay_days=label_delay_days,
        min_group_size=min_group_size,
    )
    path = save_mitigation(mit, model_dir)
    report["file"] = str(path)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    console.print(f"fitted on {report['fitted_on']}; written to {path}")
    for group, off in sorted(report["offsets"].items()):
        console.print(f"  {group}: log-odds offset {off:+.3f}")
    for group in report["too_small"]:
        console.print(f"  {group}: too small to judge (kept unmitigated)")
    for bar, res in report["bars"].items():
        console.print(
            f"  at score {bar}: FPR gap {_fmt(res['fpr_gap_before'])} -> "
            f"{_fmt(res['fpr_gap_after'])} (fitting window)"
        )
