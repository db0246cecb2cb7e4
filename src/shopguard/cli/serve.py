"""``shopguard serve``: the gateway over the state in .shopguard/."""

from __future__ import annotations

import json
import os

import typer

from shopguard.cli import app
from shopguard.cli._common import settings
from shopguard.core.errors import ConfigError


def _parse_upstreams(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name.isidentifier() or not url.startswith(("http://", "https://")):
            raise ConfigError(
                "--upstream takes NAME=URL with an identifier NAME and an http(s) URL"
            )
        out[name] = url
    return out


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)."),
    port: int = typer.Option(8000, min=1, max=65535),
    workers: int = typer.Option(
        1, min=1, max=64, help="Worker processes (share state via DB/Redis)."
    ),
    upstream: list[str] = typer.Option(
        [],
        "--upstream",
        help="Reverse-proxy mode: NAME=URL of a model service to guard (repeatable).",
    ),
    ssl_certfile: str = typer.Option(None, help="TLS certificate (PEM) to serve HTTPS."),
    ssl_keyfile: str = typer.Option(None, help="TLS private key (PEM)."),
) -> None:
    """Serve the store's models (and any --upstream services) behind the guarded gateway."""
    import uvicorn

    if upstream:
        merged = {**settings().upstreams, **_parse_upstreams(upstream)}
        # Through the environment, so every worker process sees the same configuration.
        os.environ["SHOPGUARD_UPSTREAMS"] = json.dumps(merged)
    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise ConfigError("--ssl-certfile and --ssl-keyfile go together")
    from shopguard.core.keyring import load_keks

    # Fail here, with one line and exit 2, on a bad configuration or an unreadable
    # key file, instead of in every worker after the port is bound.
    load_keks(settings())
    uvicorn.run(
        "shopguard.gateway.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        log_level="warning",
        access_log=False,  # URLs carry customer ids; the audit log records requests instead
        server_header=False,
    )
