"""The main job: a whole store's AI built, served, exercised and checked in one command.

Steps: initialise ``.shopguard/`` (as ``shopguard init``), generate the store,
train the reference models, serve the API on a free loopback port, send it
legitimate traffic, run the scorecard checks, and write ``report.html`` and
``scorecard.json``. State stays in ``.shopguard/`` so later commands
(``shopguard audit verify``, ``shopguard serve``) inspect the same store.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import uvicorn

import shopguard.scorecard_checks  # noqa: F401  (registers every check)
from shopguard.adversarial.demo import demo_resources, guard_images
from shopguard.assistant.checks import demo_resources as assistant_resources
from shopguard.core.runtime import Runtime, init_state
from shopguard.core.scorecard import CheckContext, Scorecard
from shopguard.core.settings import Settings
from shopguard.demo.idp import DemoIdentityProvider
from shopguard.demo.report import write_report
from shopguard.fairness.demo import prepare as prepare_fairness
from shopguard.gateway.app import STORE_SCOPES, create_app
from shopguard.gateway.keys import ApiKeyStore
from shopguard.gateway.ratelimit import parse_limits
from shopguard.governance.ops_demo import setup_operations
from shopguard.governance.supply_demo import setup_supply_chain_demo
from shopguard.integrity.checks import demo_resources as integrity_demo_resources
from shopguard.modelsec.demo import prepare_demo, train_demo_fraud
from shopguard.privacy.consent import ConsentLedger, training_subjects
from shopguard.privacy.dsar import record_training_subjects
from shopguard.privacy.protect import protect_store
from shopguard.redteam.demo import demo_resources as redteam_resources
from shopguard.redteam.outputs import write_outputs as write_redteam
from shopguard.redteam.runner import RunResult, run_suite
from shopguard.store.fraud import train_fraud
from shopguard.store.generate import StoreData, generate_store, write_store
from shopguard.store.recommender import order_sequences, train_recommender
from shopguard.store.reviews import train_review_ranker
from shopguard.store.service import DEFAULT_TENANT, STORE_DIR, TENANTS_DIR

__all__ = ["DemoResult", "run_demo"]

Step = Callable[[str], None]


@dataclass
class DemoResult:
    out_dir: Path
    report: Path
    scorecard_path: Path
    scorecard: Scorecard
    seconds: float
    store_summary: dict[str, Any]
    model_metrics: dict[str, dict[str, Any]]
    traffic: dict[str, list[float]] = field(default_factory=dict)
    redteam: RunResult | None = None
    redteam_report: Path | None = None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free loopback port; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="shopguard-demo-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the demo API did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _store_summary(store: StoreData) -> dict[str, Any]:
    tx = store.transactions
    patterns = tx.loc[tx["TX_FRAUD"] == 1, "fraud_pattern"].fillna("unknown").value_counts()
    return {
        "customers": len(store.customers),
        "products": len(store.products),
        "sessions": len(store.sessions),
        "orders": len(store.orders),
        "transactions": len(tx),
        "reviews": len(store.reviews),
        "fraud_rate": float(tx["TX_FRAUD"].mean()),
        "fraud_patterns": {str(k): int(v) for k, v in patterns.items()},
    }


def _seed_consent(store: StoreData, ledger: ConsentLedger, *, seed: int) -> None:
    """Consent as a store would have it: most EU/UK shoppers opted in at signup, a few US
    shoppers opted out of personalisation; the rest rely on their jurisdiction's default."""
    rng = np.random.default_rng(seed)
    decisions: list[tuple[str, str, bool]] = []
    for cid, jur in zip(
        store.customers["customer_id"].astype(str), store.customers["jurisdiction"], strict=True
    ):
        u = rng.random()
        if jur in ("EU", "UK") and u < 0.7:
            decisions += [(cid, "personalisation", True), (cid, "model_training", True)]
        elif jur in ("US", "US-CA") and u < 0.05:
            decisions.append((cid, "personalisation", False))
        elif jur == "US-CA" and u < 0.6:
            decisions.append((cid, "model_training", True))
    ledger.record_many(
        tenant=DEFAULT_TENANT, decisions=decisions, source="import", policy_version="2025-01"
    )


def _privacy_resources(store: StoreData, *, exclude: set[str]) -> dict[str, Any]:
    """What the privacy checks need, taken from the shop's export before it was protected:
    clear values to search for at rest, a customer to export and one to erase."""
    cust = store.customers
    sample = cust.iloc[:: max(1, len(cust) // 50)]
    canaries = [
        str(v) for col in ("name", "email", "phone", "card_number") for v in sample[col].dropna()
    ]
    busy = store.transactions["CUSTOMER_ID"].astype(str).value_counts().index.tolist()
    with_orders = set(store.orders["customer_id"].astype(str))
    with_sessions = set(store.sessions["customer_id"].astype(str))
    picks = [c for c in busy if c in with_orders and c in with_sessions and c not in exclude]
    dsar_id, erase_id = picks[0], picks[1]
    rows = {
        "customers": int((cust["customer_id"].astype(str) == dsar_id).sum()),
        "sessions": int((store.sessions["customer_id"].astype(str) == dsar_id).sum()),
        "orders": int((store.orders["customer_id"].astype(str) == dsar_id).sum()),
        "transactions": int((store.transactions["CUSTOMER_ID"].astype(str) == dsar_id).sum()),
    }
    email = str(cust.loc[cust["customer_id"].astype(str) == dsar_id, "email"].iloc[0])
    return {
        "pii_canaries": canaries,
        "dsar_subject": {"customer_id": dsar_id, "rows": rows, "email": email},
        "erasure_subject": erase_id,
    }


def _traffic(
    base_url: str, store: StoreData, *, key: str, seed: int, n: int
) -> dict[str, list[float]]:
    """Legitimate storefront traffic with one API key; returns latencies (ms) per endpoint.

    A well-behaved client: on 429 it waits ``Retry-After`` and tries again.
    """
    rng = np.random.default_rng(seed)
    tx = store.transactions
    recent = tx.sort_values("TX_DATETIME").tail(max(n, 1))
    customers = store.customers["customer_id"].astype(str).to_numpy()
    reviewed = store.reviews["product_id"].astype(str).unique()
    lat: dict[str, list[float]] = {
        "fraud.score": [],
        "recommendations": [],
        "reviews.read": [],
        "reviews.post": [],
    }
    bought = store.orders.groupby("customer_id")["product_id"].first()
    with httpx.Client(base_url=base_url, timeout=30, headers={"X-API-Key": key}) as client:

        def timed(name: str, method: str, url: str, *, ok: int = 200, **kw: Any) -> None:
            for _ in range(10):
                t0 = time.perf_counter()
                resp = client.request(method, url, **kw)
                if resp.status_code != 429:
                    break
                time.sleep(float(resp.headers.get("retry-after", "1")))
            lat[name].append((time.perf_counter() - t0) * 1000)
            if resp.status_code != ok:
                raise RuntimeError(f"demo traffic: {name} answered {resp.status_code}")

        sample = recent.sample(n=min(n, len(recent)), random_state=seed)
        for row in sample.to_dict("records"):
            tx_body: dict[str, Any] = {
                "transaction_id": str(row["TRANSACTION_ID"]),
                "customer_id": str(row["CUSTOMER_ID"]),
                "terminal_id": str(row["TERMINAL_ID"]),
                "amount": float(row["TX_AMOUNT"]),
                "timestamp": pd.Timestamp(row["TX_DATETIME"]).isoformat(),
                "device_is_new": bool(row["device_is_new"]),
                "ship_bill_mismatch": bool(row["ship_bill_mismatch"]),
                "ip_country_mismatch": bool(row["ip_country_mismatch"]),
                "account_age_days": int(row["account_age_days"]),
            }
            timed("fraud.score", "POST", "/v1/fraud/score", json=tx_body)
        for cid in rng.choice(customers, size=n, replace=True):
            timed("recommendations", "GET", f"/v1/recommendations/{cid}")
        for pid in rng.choice(reviewed, size=n, replace=True):
            timed("reviews.read", "GET", f"/v1/products/{pid}/reviews", params={"limit": 5})
        for cid, pid in list(bought.items())[: max(1, n // 5)]:
            review = {
                "product_id": str(pid),
                "customer_id": str(cid),
                "rating": int(rng.integers(3, 6)),
                "title": "Does what it says",
                "text": "Arrived on time and works as described; the fit and finish are good for the price.",
            }
            timed("reviews.post", "POST", "/v1/reviews", json=review, ok=201)
    return lat


def run_demo(
    settings: Settings,
    out_dir: Path,
    *,
    customers: int = 10_000,
    seed: int = 7,
    requests: int = 100,
    step: Step | None = None,
) -> DemoResult:
    """Run the whole demo; ``step`` is told each stage's name as it starts."""
    say = step or (lambda _s: None)
    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)

    say("initialising .shopguard/ (key ring, database, audit log)")
    init_state(settings)

    say(f"generating a store of {customers:,} customers")
    store = generate_store(seed=seed, customers=customers, sensitive=True)
    store_dir = settings.home / STORE_DIR
    summary = _store_summary(store)

    say("recording customers' consent choices")
    consent_rt = Runtime.open(settings)
    try:
        say("sealing and tokenising the store's personal data before it is kept")
        protected, _ = protect_store(consent_rt, store, tenant=DEFAULT_TENANT)
        write_store(protected, store_dir, fmt="parquet", overwrite=True)
        ledger = ConsentLedger(consent_rt.engine)
        _seed_consent(store, ledger, seed=seed)
        jurisdictions = dict(
            zip(
                store.customers["customer_id"].astype(str),
                store.customers["jurisdiction"],
                strict=True,
            )
        )
        trainable = training_subjects(ledger, tenant=DEFAULT_TENANT, jurisdictions=jurisdictions)
    finally:
        consent_rt.close()
    summary["training_subjects"] = len(trainable)

    models = settings.models_dir
    say("training the fraud scorer (with the key ring's ownership watermark)")
    wm_rt = Runtime.open(settings)
    try:
        fraud = train_demo_fraud(wm_rt, store.transactions, random_state=seed)
    finally:
        wm_rt.close()
    fraud.save(models / "fraud")
    say("training the recommender")
    # Only customers with model_training consent (explicit, or their jurisdiction's default).
    sequences = {c: items for c, items in order_sequences(store.orders).items() if c in trainable}
    rec = train_recommender(sequences, random_state=seed)
    rec.save(models / "recommender")
    say("training the review-helpfulness ranker")
    ranker = train_review_ranker(store.reviews, random_state=seed)
    ranker.save(models / "reviews")
    subjects_rt = Runtime.open(settings)
    try:
        # Which customers' data trained which model, so an erasure can flag them for retraining.
        for name, ids in (
            ("fraud", store.transactions["CUSTOMER_ID"]),
            ("recommender", pd.Series(list(sequences))),
            ("reviews", store.reviews["customer_id"]),
        ):
            record_training_subjects(
                subjects_rt, models / name, tenant=DEFAULT_TENANT, customer_ids=ids.astype(str)
            )
    finally:
        subjects_rt.close()
    metrics = {
        "fraud": dict(fraud.metrics),
        "recommender": dict(rec.metrics),
        "reviews": dict(ranker.metrics_),
    }

    say("auditing the models for fairness and writing their model cards")
    fairness = prepare_fairness(settings.home, store, fraud_model=fraud)
    say("setting up a second tenant, API keys and a demo identity provider")
    other_root = settings.home / TENANTS_DIR / "other"
    other = generate_store(seed=seed + 1, customers=max(200, customers // 10))
    other_rt = Runtime.open(settings)
    try:
        other_protected, _ = protect_store(other_rt, other, tenant="other")
    finally:
        other_rt.close()
    write_store(other_protected, other_root / STORE_DIR, fmt="parquet", overwrite=True)
    if (other_root / "models").exists():
        shutil.rmtree(other_root / "models")
    shutil.copytree(models, other_root / "models")
    idp = DemoIdentityProvider.create(settings.home / "demo-idp")
    settings = settings.model_copy(
        update={
            "jwt_public_key_files": [idp.public_key_path],
            "jwt_audience": idp.audience,
            "jwt_issuer": idp.issuer,
        }
    )

    rt = Runtime.open(settings)
    try:
        keys = ApiKeyStore(rt.engine, rt.keyring)
        everything = list(STORE_SCOPES)
        api_keys = {
            "full": keys.create(
                name="demo-storefront", tenant=DEFAULT_TENANT, scopes=everything
            ).secret,
            "underscoped": keys.create(
                name="demo-underscoped", tenant=DEFAULT_TENANT, scopes=["catalogue:read"]
            ).secret,
            "other_tenant": keys.create(
                name="demo-other-tenant", tenant="other", scopes=everything
            ).secret,
            "flood": keys.create(
                name="demo-flood", tenant=DEFAULT_TENANT, scopes=["metrics:read"]
            ).secret,
            "expired_jwt": idp.token(
                subject="demo-service", tenant=DEFAULT_TENANT, scopes=everything, expires_in=-60
            ),
        }
        n_other = len(other.customers)
        foreign = str(store.customers["customer_id"].iloc[-1])
        if foreign in set(
            other.customers["customer_id"].astype(str)
        ):  # pragma: no cover - sizes differ
            raise RuntimeError("demo tenants overlap")
        supply_chain = setup_supply_chain_demo(rt)
        say(
            "storing the models in the vault and turning the extraction watch and image-upload guard on"
        )
        settings, theft = prepare_demo(
            settings, rt, storefront_key=api_keys["full"], transactions=store.transactions
        )
        settings = guard_images(settings)
        app = create_app(settings, runtime=rt)
        say("setting up staff accounts, MFA and training records")
        ops_resources = setup_operations(
            rt, drill_targets=store.customers["customer_id"].astype(str).tolist()[:600]
        )
        say("serving the API on loopback and sending storefront traffic")
        with serve_in_thread(app) as base_url:
            traffic = _traffic(base_url, store, key=api_keys["full"], seed=seed, n=requests)
            say("running the scorecard checks")
            consent_subject = str(
                store.orders.loc[
                    store.orders["customer_id"].astype(str).isin(trainable), "customer_id"
                ]
                .value_counts()
                .index[0]
            )
            exclude = {consent_subject, str(store.customers["customer_id"].iloc[0])}
            ctx = CheckContext(
                {
                    "runtime": rt,
                    "base_url": base_url,
                    "api_keys": api_keys,
                    "foreign_customer": foreign,
                    "sample_customer": str(store.customers["customer_id"].iloc[0]),
                    "sample_product": str(store.reviews["product_id"].iloc[0]),
                    "flood_limit": parse_limits(settings.rate_limit_key)[0].amount,
                    "flood_window_s": parse_limits(settings.rate_limit_key)[0].get_expiry(),
                    "consent_subject": consent_subject,
                    "other_tenant_customers": n_other,
                    **_privacy_resources(store, exclude=exclude),
                    **assistant_resources(store, idp),
                    **ops_resources,
                    **fairness,
                    **supply_chain,
                    **theft,
                    **integrity_demo_resources(store),
                    **demo_resources(settings),
                    **redteam_resources(rt),
                }
            )
            say("red-teaming the gateway: every check and registered attack")
            redteam = run_suite(ctx, remote=False)
            card = redteam.scorecard
    finally:
        rt.close()

    say("scoring the last three weeks out of time for the report")
    holdout = _holdout_scores(store, seed=seed)
    scorecard_path = out_dir / "scorecard.json"
    card.write(scorecard_path)
    seconds = time.perf_counter() - t0
    result = DemoResult(
        out_dir=out_dir,
        report=out_dir / "report.html",
        scorecard_path=scorecard_path,
        scorecard=card,
        seconds=seconds,
        store_summary=summary,
        model_metrics=metrics,
        traffic=traffic,
    )
    say("writing report.html and the red-team report")
    result.redteam = redteam
    if holdout["legit"] and holdout["fraud"]:
        redteam.extras["roc_curves"] = {"fraud scorer (last 21 days)": _roc(holdout)}
    result.redteam_report = write_redteam(
        redteam,
        out_dir / "redteam",
        history_dir=settings.home / "redteam",
        summary=redteam.summary(),
    )["report"]
    write_report(result, fraud_scores=holdout)
    return result


def _holdout_scores(store: StoreData, *, seed: int) -> dict[str, list[float]]:
    """Out-of-time scores for the report: a model fitted on all but the last 21 days
    (labels older than the 7-day delay only) scores those 21 days."""
    tx = store.transactions.sort_values("TX_DATETIME")
    cut = tx["TX_DATETIME"].max() - pd.Timedelta(days=21)
    train = tx[tx["TX_DATETIME"] <= cut - pd.Timedelta(days=7)]
    hist, last = tx[tx["TX_DATETIME"] <= cut], tx[tx["TX_DATETIME"] > cut]
    if train["TX_FRAUD"].nunique() < 2 or last.empty:
        return {"legit": [], "fraud": []}
    model = train_fraud(train, random_state=seed, validation_days=0)
    scores = model.score(last, history=hist)
    y = last["TX_FRAUD"].to_numpy()
    return {"legit": scores[y == 0].tolist(), "fraud": scores[y == 1].tolist()}


def _roc(scores: dict[str, list[float]]) -> tuple[list[float], list[float]]:
    from sklearn.metrics import roc_curve

    y = [0] * len(scores["legit"]) + [1] * len(scores["fraud"])
    fpr, tpr, _ = roc_curve(y, scores["legit"] + scores["fraud"], drop_intermediate=True)
    return fpr.tolist(), tpr.tolist()


def median_ms(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
