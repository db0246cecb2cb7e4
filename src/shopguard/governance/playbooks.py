"""Incident playbooks: one per threat, steps as a checklist, some steps runnable.

Each playbook goes contain -> eradicate -> recover -> notify (NIST SP 800-61r2's
phases, folded to four). A step may name a :class:`Action`; the incident desk
runs it with :class:`Containment` when a responder (or a drill) asks, and
records it in the incident's timeline.

References
----------
NIST SP 800-61 Rev. 2, Computer Security Incident Handling Guide, 2012.
GDPR Article 33 (notification of a personal data breach within 72 hours).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shopguard.core.errors import DataValidationError
from shopguard.core.keyring import KeyRing
from shopguard.gateway.keys import ApiKeyStore
from shopguard.governance import ops_tables as t
from shopguard.governance.model_versions import ModelVersions
from shopguard.governance.threats import Threat

__all__ = ["PLAYBOOKS", "Action", "Containment", "Phase", "Playbook", "Step", "playbook_for"]


class Phase(StrEnum):
    CONTAIN = "contain"
    ERADICATE = "eradicate"
    RECOVER = "recover"
    NOTIFY = "notify"


class Action(StrEnum):
    REVOKE_KEY = "revoke_key"
    BLOCK_CLIENT = "block_client"
    ROLLBACK_MODEL = "rollback_model"
    FREEZE_INGESTION = "freeze_ingestion"


@dataclass(frozen=True)
class Step:
    id: str
    phase: Phase
    title: str
    action: Action | None = None


@dataclass(frozen=True)
class Playbook:
    threat: Threat
    title: str
    steps: tuple[Step, ...]


def _s(id_: str, phase: Phase, title: str, action: Action | None = None) -> Step:
    return Step(id_, phase, title, action)


C, E, R, N = Phase.CONTAIN, Phase.ERADICATE, Phase.RECOVER, Phase.NOTIFY

PLAYBOOKS: dict[Threat, Playbook] = {
    Threat.EXTRACTION: Playbook(
        Threat.EXTRACTION,
        "Model extraction / scraping",
        (
            _s("revoke-key", C, "Revoke the API key that scraped the model", Action.REVOKE_KEY),
            _s("block-client", C, "Block the client at the gateway", Action.BLOCK_CLIENT),
            _s("review-limits", E, "Tighten per-key rate and query-budget limits for the route"),
            _s("check-watermark", E, "Check marketplaces for a copy (watermark / fingerprint)"),
            _s("reissue-key", R, "Reissue a key to the legitimate owner with least privilege"),
            _s("notify-owner", N, "Tell the key's owner and the model owner what was taken"),
        ),
    ),
    Threat.POISONING: Playbook(
        Threat.POISONING,
        "Training-data poisoning / model degradation",
        (
            _s("freeze-ingestion", C, "Freeze review ingestion", Action.FREEZE_INGESTION),
            _s(
                "rollback-model",
                C,
                "Roll the model back to the previous version",
                Action.ROLLBACK_MODEL,
            ),
            _s("quarantine", E, "Quarantine the suspect records and their sources"),
            _s("retrain", R, "Retrain on cleaned data and re-run the red-team suite"),
            _s("notify-ml", N, "Tell the ML and product owners; record the root cause"),
        ),
    ),
    Threat.EVASION: Playbook(
        Threat.EVASION,
        "Adversarial evasion of a model",
        (
            _s("block-client", C, "Block the evading client", Action.BLOCK_CLIENT),
            _s("manual-review", C, "Route the affected decisions to manual review"),
            _s("harden", E, "Add the samples to adversarial training; tighten input checks"),
            _s(
                "rollback-model",
                R,
                "Roll back if the live model was changed",
                Action.ROLLBACK_MODEL,
            ),
            _s("notify-fraud", N, "Tell the fraud team; reverse losses where possible"),
        ),
    ),
    Threat.PROMPT_INJECTION: Playbook(
        Threat.PROMPT_INJECTION,
        "Prompt injection against the shopping assistant",
        (
            _s("revoke-key", C, "Revoke the key used for the injection", Action.REVOKE_KEY),
            _s("disable-tools", C, "Disable the assistant's tools that the injection reached"),
            _s("filters", E, "Add the pattern to the injection detector and output filters"),
            _s("verify", R, "Re-run the assistant red-team suite before re-enabling"),
            _s("notify-customers", N, "Tell affected customers if any data left the assistant"),
        ),
    ),
    Threat.DATA_BREACH: Playbook(
        Threat.DATA_BREACH,
        "Personal data breach",
        (
            _s("revoke-key", C, "Revoke the credentials involved", Action.REVOKE_KEY),
            _s("block-client", C, "Block the exfiltrating client", Action.BLOCK_CLIENT),
            _s("scope", E, "Establish which records and data subjects were affected"),
            _s("rotate", E, "Rotate the key ring purposes that protected the data"),
            _s("restore", R, "Restore service with the hole closed; verify the audit chain"),
            _s(
                "notify-authority",
                N,
                "Notify the supervisory authority within 72 hours (GDPR Art. 33)",
            ),
            _s(
                "notify-subjects",
                N,
                "Notify affected customers without undue delay if high risk (Art. 34)",
            ),
        ),
    ),
    Threat.VENDOR_COMPROMISE: Playbook(
        Threat.VENDOR_COMPROMISE,
        "Compromised vendor, model or dependency",
        (
            _s(
                "rollback-model",
                C,
                "Roll back to the last model from a trusted source",
                Action.ROLLBACK_MODEL,
            ),
            _s("revoke-vendor-key", C, "Revoke the vendor's API key", Action.REVOKE_KEY),
            _s("pin", E, "Pin or replace the compromised package / artifact; rebuild the SBOM"),
            _s("rescan", R, "Re-scan artifacts and dependencies; redeploy"),
            _s("notify-vendor", N, "Tell the vendor and, if personal data was exposed, the DPO"),
        ),
    ),
    Threat.BIAS: Playbook(
        Threat.BIAS,
        "Biased or unfair model outcomes",
        (
            _s("rollback-model", C, "Roll back to the last fair model", Action.ROLLBACK_MODEL),
            _s("audit", E, "Run the bias audit on recent decisions; find the cause"),
            _s("mitigate", R, "Retrain with mitigation; publish the transparency report"),
            _s("notify-privacy", N, "Tell the privacy officer and affected customer groups"),
        ),
    ),
    Threat.INSIDER_MISUSE: Playbook(
        Threat.INSIDER_MISUSE,
        "Insider misuse of access",
        (
            _s("revoke-key", C, "Revoke the insider's API keys", Action.REVOKE_KEY),
            _s("disable-account", C, "Disable the staff account; end break-glass grants"),
            _s("review-audit", E, "Verify the audit chain and review the insider's actions"),
            _s("access-review", R, "Run an access review of every account and key"),
            _s("notify-hr", N, "Tell HR / legal; notify the authority if personal data was taken"),
        ),
    ),
    Threat.AVAILABILITY: Playbook(
        Threat.AVAILABILITY,
        "Guard or dependency failure (service degraded, failing closed)",
        (
            _s("block-client", C, "Block a flooding client if one causes it", Action.BLOCK_CLIENT),
            _s("diagnose", E, "Find the failing guard or store from the alert details"),
            _s("restore", R, "Restore the dependency; confirm error rates are back to normal"),
            _s("notify-ops", N, "Post a status update for the store's operators"),
        ),
    ),
}


def playbook_for(threat: Threat) -> Playbook:
    return PLAYBOOKS[threat]


_STREAMS = frozenset({"reviews", "transactions"})


class Containment:
    """Containment actions and the state the gateway's ``ops.containment`` guard reads.

    Blocked principals are API key ids, ``jwt:<subject>`` or ``client:<pseudonym>``
    (the keyed pseudonym of the client address the gateway audits).
    """

    def __init__(
        self,
        engine: Engine,
        keyring: KeyRing,
        models_dir: Path,
        *,
        clock: Callable[[], datetime] | None = None,
        cache_ttl: float = 0.5,
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self.models = ModelVersions(models_dir)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._ttl = cache_ttl
        self._cache: tuple[float, frozenset[tuple[str, str]]] | None = None
        self._lock = threading.Lock()

    def _add(self, kind: str, value: str, incident_id: int | None) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                t.containment.insert().values(
                    kind=kind, value=value, incident_id=incident_id, at=self._clock().isoformat()
                )
            )
        self._cache = None

    def revoke_key(self, key_id: str, *, incident_id: int | None = None) -> None:
        ApiKeyStore(self._engine, self._keyring).revoke(key_id)
        self._add("revoked_key", key_id, incident_id)

    def block(self, principal: str, *, incident_id: int | None = None) -> None:
        if not principal or len(principal) > 128:
            raise DataValidationError("principal must be 1-128 characters", column="principal")
        self._add("block", principal, incident_id)

    def freeze(self, stream: str, *, incident_id: int | None = None) -> None:
        if stream not in _STREAMS:
            raise DataValidationError(f"stream must be one of {sorted(_STREAMS)}", column="stream")
        self._add("freeze", stream, incident_id)

    def rollback_model(self, name: str, *, incident_id: int | None = None) -> int:
        version = self.models.rollback(name).version
        self._add("rollback", f"{name}@v{version}", incident_id)
        return version

    def lift(self, kind: str, value: str) -> int:
        with self._engine.begin() as conn:
            n = conn.execute(
                t.containment.update()
                .where(
                    t.containment.c.kind == kind,
                    t.containment.c.value == value,
                    t.containment.c.lifted_at.is_(None),
                )
                .values(lifted_at=self._clock().isoformat())
            ).rowcount
        self._cache = None
        return int(n)

    def cached(self) -> frozenset[tuple[str, str]] | None:
        """The active ``(kind, value)`` pairs if the cache is fresh, else None (no I/O)."""
        with self._lock:
            cached = self._cache
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        return None

    def _active(self) -> frozenset[tuple[str, str]]:
        hit = self.cached()
        if hit is not None:
            return hit
        now = time.monotonic()
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.containment.c.kind, t.containment.c.value).where(
                    t.containment.c.lifted_at.is_(None)
                )
            ).all()
        active = frozenset((str(k), str(v)) for k, v in rows)
        with self._lock:
            self._cache = (now, active)
        return active

    def active(self) -> frozenset[tuple[str, str]]:
        """The active ``(kind, value)`` pairs: ``("block", principal)``, ``("freeze", stream)``..."""
        return self._active()

    def is_blocked(self, principal: str) -> bool:
        return ("block", principal) in self._active()

    def is_frozen(self, stream: str) -> bool:
        return ("freeze", stream) in self._active()
