"""``shopguard keys create|list|revoke``: API keys for the gateway."""

from __future__ import annotations

import typer
from rich.table import Table

from shopguard.cli import app
from shopguard.cli._common import console, err_console, open_runtime

keys_app = typer.Typer(help="Create, list and revoke gateway API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="What the key is for."),
    tenant: str = typer.Option(..., "--tenant", help="The tenant (store) the key may act for."),
    scopes: str = typer.Option(
        ..., "--scopes", help="Comma-separated, e.g. fraud:score,reviews:read."
    ),
    expires: str = typer.Option(
        None, "--expires", help="Lifetime such as 30d, 12h; default: no expiry."
    ),
) -> None:
    """Create a key and print it once; only a keyed hash is stored."""
    from shopguard.core.audit import AuditEvent
    from shopguard.gateway.keys import ApiKeyStore, parse_duration

    lifetime = parse_duration(expires) if expires else None
    scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
    with open_runtime() as rt:
        issued = ApiKeyStore(rt.engine, rt.keyring).create(
            name=name, tenant=tenant, scopes=scope_list, expires_in=lifetime
        )
        rt.audit.append(
            AuditEvent(
                action="keys.create",
                decision="allow",
                principal="cli",
                target=f"api_key:{issued.record.key_id}",
                details={"tenant": tenant, "scopes": sorted(scope_list)},
            )
        )
    err_console.print(f"key id {issued.record.key_id} (tenant {tenant}); the key is shown once:")
    typer.echo(issued.secret)


@keys_app.command("list")
def list_keys() -> None:
    """List keys (ids, tenants, scopes, state) — never the keys themselves."""
    from shopguard.gateway.keys import ApiKeyStore

    with open_runtime() as rt:
        records = ApiKeyStore(rt.engine, rt.keyring).list()
    table = Table("key id", "name", "tenant", "scopes", "expires", "state")
    for r in records:
        state = "revoked" if r.revoked_at else "active"
        table.add_row(
            r.key_id, r.name, r.tenant, ",".join(sorted(r.scopes)), r.expires_at or "never", state
        )
    console.print(table)


@keys_app.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="The key id to revoke.")) -> None:
    """Revoke a key; every gateway worker refuses it within a second."""
    from shopguard.core.audit import AuditEvent
    from shopguard.gateway.keys import ApiKeyStore

    with open_runtime() as rt:
        ApiKeyStore(rt.engine, rt.keyring).revoke(key_id)
        rt.audit.append(
            AuditEvent(
                action="keys.revoke", decision="allow", principal="cli", target=f"api_key:{key_id}"
            )
        )
    console.print(f"revoked {key_id}")
