"""The deploy/ reference configuration parses and is wired consistently."""

from __future__ import annotations

import runpy
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def test_k8s_when_manifests_parsed_then_every_kind_present_and_names_match() -> None:
    kinds = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in _docs(path):
            assert {"apiVersion", "kind"} <= doc.keys(), path
            kinds[doc["kind"]] = doc
    assert {
        "Deployment",
        "Service",
        "ConfigMap",
        "Secret",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        "Kustomization",
    } <= kinds.keys()
    dep = kinds["Deployment"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"] == labels
    assert kinds["Service"]["spec"]["selector"] == labels
    assert (
        kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"]
        == (dep["metadata"]["name"])
    )
    assert kinds["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2
    container = dep["spec"]["template"]["spec"]["containers"][0]
    refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
    assert refs == {kinds["ConfigMap"]["metadata"]["name"], kinds["Secret"]["metadata"]["name"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    listed = set(kinds["Kustomization"]["resources"])
    assert listed == {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}


def test_compose_when_parsed_then_two_gateways_share_postgres_and_redis() -> None:
    compose = _docs(DEPLOY / "compose.yaml")[0]
    services = compose["services"]
    gateways = [s for s in services if s.startswith("gateway")]
    assert len(gateways) == 2 and {"postgres", "redis"} <= services.keys()
    for name in gateways:
        env = services[name]["environment"]
        assert "@postgres:" in env["SHOPGUARD_DATABASE_URL"]
        assert env["SHOPGUARD_REDIS_URL"].startswith("redis://redis:")


def test_gunicorn_when_config_loaded_then_uvicorn_workers_and_no_access_log() -> None:
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert conf["worker_class"] == "uvicorn.workers.UvicornWorker"
    assert conf["accesslog"] is None and conf["workers"] >= 1
    module, _, factory = conf["wsgi_app"].partition(":")
    assert module == "shopguard.gateway.app" and factory == "app_from_environment()"
