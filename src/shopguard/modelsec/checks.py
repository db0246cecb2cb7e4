"""Scorecard checks for model theft: tampered artifacts, malicious pickles, extraction."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from shopguard.core.errors import ModelError
from shopguard.core.runtime import Runtime, init_state
from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks
from shopguard.core.settings import load_settings
from shopguard.modelsec.scan import scan_bytes
from shopguard.modelsec.tables import versions
from shopguard.modelsec.vault import OPERATOR, ModelKind, ModelVault

__all__ = [
    "DegradedOutputsCoarsened",
    "ExtractionBlocked",
    "MaliciousPickleRefused",
    "StolenSurrogateIdentified",
    "TamperedArtifactRefused",
]


@checks.register
class TamperedArtifactRefused(Check):
    """A model whose encrypted artifact has one flipped byte is refused by the vault."""

    name = "model_theft.tampered_artifact_refused"
    area = Area.MODEL_THEFT
    title = "Vault refuses a tampered model artifact (one flipped byte)"

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        source = ctx.resources.get("models_dir")
        tmp = Path(tempfile.mkdtemp(prefix="shopguard-check-"))
        try:
            model_dir = Path(source) / "fraud" if source else None
            if model_dir is None or not model_dir.is_dir():
                model_dir = tmp / "model"
                model_dir.mkdir()
                (model_dir / "weights.json").write_text('{"w": [0.5, 1.5]}')
            settings = load_settings(home=tmp / ".shopguard")
            init_state(settings)
            rt = Runtime.open(settings)
            try:
                vault = ModelVault(rt)
                kind = (
                    ModelKind.FRAUD if (model_dir / "model.skops").is_file() else ModelKind.GENERIC
                )
                vault.put("probe", model_dir, kind=kind, who=OPERATOR)
                vault.files("probe", 1, who=OPERATOR)  # the intact artifact loads
                with rt.engine.begin() as conn:
                    ct = bytearray(conn.execute(sa.select(versions.c.ciphertext)).scalar_one())
                    ct[len(ct) // 3] ^= 0x01
                    conn.execute(versions.update().values(ciphertext=bytes(ct)))
                try:
                    vault.files("probe", 1, who=OPERATOR)
                except ModelError as exc:
                    return Status.PASS, None, f"intact artifact loaded; tampered one refused: {exc}"
                return Status.FAIL, None, "tampered artifact was loaded"
            finally:
                rt.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@checks.register
class MaliciousPickleRefused(Check):
    """Every malicious artifact of the red-team corpus is flagged and the vault refuses one."""

    name = "model_theft.malicious_pickle_refused"
    area = Area.MODEL_THEFT
    title = "Malicious pickles (incl. obfuscated) are flagged and refused by the vault"

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        from shopguard.redteam.artifacts import malicious_artifacts

        items = malicious_artifacts()
        missed = [name for name, _fam, data in items if scan_bytes(data, name).safe]
        rate = 1 - len(missed) / len(items)
        tmp = Path(tempfile.mkdtemp(prefix="shopguard-check-"))
        try:
            settings = load_settings(home=tmp / ".shopguard")
            init_state(settings)
            rt = Runtime.open(settings)
            try:
                evil = tmp / "evil"
                evil.mkdir()
                name, _fam, data = next(i for i in items if i[0] == "stack_global_memo.pkl")
                (evil / name).write_bytes(data)
                try:
                    ModelVault(rt).put("evil", evil, kind=ModelKind.GENERIC, who=OPERATOR)
                    refused = False
                except ModelError:
                    refused = True
            finally:
                rt.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        ok = not missed and refused
        evidence = f"{len(items) - len(missed)}/{len(items)} malicious artifacts flagged; vault import refused: {refused}"
        if missed:
            evidence += f"; missed {', '.join(missed[:5])}"
        return (Status.PASS if ok else Status.FAIL), Figure("detection_rate", rate, 1.0), evidence


@checks.register
class ExtractionBlocked(Check):
    """A random-query extraction attack on the live fraud API is blocked before 90 % fidelity."""

    name = "model_theft.extraction_blocked"
    area = Area.MODEL_THEFT
    title = "Extraction attack on the fraud API detected and blocked before 90 % surrogate fidelity"
    requires = ("base_url", "api_keys", "scraper_key", "extraction_public")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        import httpx

        from shopguard.redteam.extraction import HttpFraudTarget, decision, run_extraction, tx_body

        public = ctx["extraction_public"]
        test = public.sample(n=min(150, len(public)), random_state=5)
        test_bodies = [tx_body(r, 90_000 + i) for i, r in enumerate(test.to_dict("records"))]
        results: list[Any] = []
        with httpx.Client(base_url=ctx["base_url"], timeout=30) as client:
            victim = HttpFraudTarget(client, ctx["api_keys"]["full"])
            scores = []
            for b in test_bodies:
                status, s = _retrying(victim, b)
                if s is None:
                    return (
                        Status.ERROR,
                        None,
                        f"storefront key could not score the test set ({status})",
                    )
                scores.append(s)
            test_victim = np.asarray([decision(s) for s in scores])
            attacker = HttpFraudTarget(client, ctx["scraper_key"])
            for family in ("equation_solving", "knockoff"):
                results.append(
                    run_extraction(
                        family,
                        _Retry(attacker),
                        public=public,
                        test_bodies=test_bodies,
                        test_victim=test_victim,
                        limit=400,
                        seed=1,
                    )
                )
        worst = max(r.fidelity_at_stop for r in results)
        blocked = all(r.blocked_at is not None for r in results)
        ok = blocked and worst < 0.90
        evidence = "; ".join(
            f"{r.family}: blocked at query {r.blocked_at}, surrogate balanced fidelity {r.fidelity_at_stop:.2f}"
            for r in results
        )
        return (
            (Status.PASS if ok else Status.FAIL),
            Figure("surrogate_fidelity", worst, 0.90),
            evidence,
        )


@checks.register
class StolenSurrogateIdentified(Check):
    """A surrogate stolen through the live fraud API is proven ours by the keyed watermark."""

    name = "model_theft.stolen_surrogate_identified"
    area = Area.MODEL_THEFT
    title = "A surrogate stolen through the live API is identified as ours (p < 0.01)"
    requires = ("base_url", "partner_key", "extraction_public", "fraud_watermark")

    #: Queries the thief sends (a rogue partner's key, exempt from the extraction watch).
    queries: int = 800

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        import httpx
        from sklearn.ensemble import HistGradientBoostingRegressor

        from shopguard.modelsec.ownership import verify_ownership
        from shopguard.redteam.extraction import HttpFraudTarget, body_features, steal_surrogate

        public = ctx["extraction_public"]
        watermark = ctx["fraud_watermark"]
        with httpx.Client(base_url=ctx["base_url"], timeout=30) as client:
            thief = _Retry(HttpFraudTarget(client, ctx["partner_key"]))
            try:
                stolen, answered = steal_surrogate(
                    "equation_solving", thief, public=public, queries=self.queries, seed=3
                )
            except ValueError as exc:
                return Status.ERROR, None, f"the thief could not copy the model: {exc}"
        ours = verify_ownership(stolen, watermark=watermark)
        # Control: a model the thief trained on its own labelled data must not be claimed.
        own = HistGradientBoostingRegressor(max_iter=200, random_state=0).fit(
            body_features([_body(r) for r in public.to_dict("records")]),
            public["TX_FRAUD"].to_numpy(dtype=float),
        )
        control = verify_ownership(
            lambda bodies: [float(v) for v in own.predict(body_features(bodies))],
            watermark=watermark,
        )
        ok = ours.ours and not control.ours
        evidence = (
            f"surrogate distilled from {answered} random queries through the live API "
            f"(rogue partner key): watermark p-value {ours.p_value:.2g} over {ours.queries} "
            f"queries ({'identified' if ours.ours else 'NOT identified'}); the thief's own "
            f"independently trained model: p-value {control.p_value:.2g} "
            f"({'wrongly claimed' if control.ours else 'not claimed'})"
        )
        return (
            (Status.PASS if ok else Status.FAIL),
            Figure("ownership_p_value", ours.p_value, 0.01),
            evidence,
        )


def _body(row: Any) -> dict[str, Any]:
    from shopguard.redteam.extraction import tx_body

    return tx_body(row)


class _Retry:
    """Waits out 429s like a patient scraper (the rate limit is not what is being tested)."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def score(self, body: dict[str, Any]) -> tuple[int, float | None]:
        return _retrying(self.target, body)


def _retrying(target: Any, body: dict[str, Any]) -> tuple[int, float | None]:
    import time

    for _ in range(20):
        status, s = target.score(body)
        if status != 429:
            return status, s
        time.sleep(0.5)
    return 429, None


@checks.register
class DegradedOutputsCoarsened(Check):
    """A client the extraction watch has flagged gets coarser scores (one decimal) from then
    on, until it is blocked: the copy it builds learns less before it is shut out.

    A fresh key (scope ``fraud:score``, revoked at the end) sends random payments, as an
    equation-solving attack does, until it is refused (at most 200).
    """

    name = "model_theft.degraded_outputs_coarsened"
    area = Area.MODEL_THEFT
    title = "A flagged extraction stream gets coarsened scores before it is blocked"
    requires = ("runtime", "base_url")
    fix = "Keep extraction_degrade in gateway_guards after extraction_watch."

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        import httpx

        from shopguard.gateway.keys import ApiKeyStore

        rt = ctx["runtime"]
        keys = ApiKeyStore(rt.engine, rt.keyring)
        issued = keys.create(
            name="degrade-probe",
            tenant=ctx.resources.get("drill_tenant", "default"),
            scopes=["fraud:score"],
        )
        rng = np.random.default_rng(11)
        scores: list[float] = []
        stopped_at: int | None = None
        try:
            with httpx.Client(base_url=ctx["base_url"], timeout=30) as client:
                for i in range(200):
                    r = client.post(
                        "/v1/fraud/score",
                        json=_random_payment(rng, i),
                        headers={"X-API-Key": issued.secret},
                    )
                    if r.status_code in (401, 403):
                        stopped_at = i
                        break
                    if r.status_code == 429:
                        continue
                    if r.status_code != 200:
                        return Status.ERROR, None, f"fraud score answered {r.status_code}"
                    scores.append(float(r.json()["score"]))
        finally:
            keys.revoke(issued.record.key_id)
        coarse = [s for s in scores if round(s, 1) == s]
        fine = len(scores) - len(coarse)
        ok = len(coarse) >= 3 and fine >= 3
        evidence = (
            f"{len(scores)} scores served, {fine} at full precision then {len(coarse)} "
            f"coarsened to one decimal; stream "
            + (f"refused at query {stopped_at + 1}" if stopped_at is not None else "never refused")
        )
        return (
            (Status.PASS if ok else Status.FAIL),
            Figure("coarsened_scores", float(len(coarse)), 3.0),
            evidence,
        )


def _random_payment(rng: np.random.Generator, i: int) -> dict[str, Any]:
    return {
        "transaction_id": f"DEGRADE-PROBE-{i}",
        "customer_id": "C-degrade-probe",
        "terminal_id": "T-1",
        "amount": round(float(rng.uniform(1, 3000)), 2),
        "timestamp": f"2025-06-01T{int(rng.integers(0, 24)):02d}:00:00",
        "device_is_new": bool(rng.random() < 0.5),
        "ship_bill_mismatch": bool(rng.random() < 0.5),
        "ip_country_mismatch": bool(rng.random() < 0.5),
        "account_age_days": int(rng.integers(0, 3650)),
        "card_present": bool(rng.random() < 0.5),
    }
