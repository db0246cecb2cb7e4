"""The model-theft scorecard checks against a live gateway prepared as the demo prepares it."""

from __future__ import annotations

from shopguard.core.runtime import Runtime
from shopguard.core.scorecard import CheckContext, Status, checks
from shopguard.demo.run import serve_in_thread
from shopguard.gateway.app import create_app
from shopguard.gateway.keys import ApiKeyStore
from shopguard.modelsec import checks as _modelsec_checks  # noqa: F401  (registers the checks)
from shopguard.modelsec.demo import prepare_demo, train_demo_fraud
from shopguard.modelsec.vault import OPERATOR, ModelVault
from shopguard.store.schema import load_store
from shopguard.store.service import STORE_DIR
from tests.integration.conftest import ALL_SCOPES, make_settings


def test_model_theft_checks_when_demo_prepared_then_all_pass(gateway_home) -> None:
    settings = make_settings(gateway_home, rate_limit_key="500/second", rate_limit_ip="500/second")
    rt = Runtime.open(settings)
    try:
        full = ApiKeyStore(rt.engine, rt.keyring).create(
            name="storefront", tenant="default", scopes=ALL_SCOPES
        )
        tx = load_store(gateway_home / STORE_DIR).transactions
        # As the demo does: the served fraud model carries the key ring's watermark.
        train_demo_fraud(rt, tx, random_state=5).save(gateway_home / "models" / "fraud")
        settings2, resources = prepare_demo(
            settings, rt, storefront_key=full.secret, transactions=tx
        )
        assert "extraction_watch" in settings2.gateway_guards
        assert {i.name for i in ModelVault(rt).list(who=OPERATOR)} == {
            "fraud",
            "recommender",
            "reviews",
            "images",
        }
        app = create_app(settings2, runtime=rt)
        with serve_in_thread(app) as base_url:
            ctx = CheckContext(
                {
                    "runtime": rt,
                    "base_url": base_url,
                    "api_keys": {"full": full.secret},
                    **resources,
                }
            )
            results = {
                name: checks.get(name)().result(ctx)
                for name in checks.names()
                if name.startswith("model_theft.")
            }
    finally:
        rt.close()
    assert len(results) >= 4
    assert "model_theft.stolen_surrogate_identified" in results
    failing = {n: (r.status, r.evidence) for n, r in results.items() if r.status is not Status.PASS}
    assert not failing, failing
