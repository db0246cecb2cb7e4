"""The recommended fix the report shows next to a failing check: per check, else per area.

A check or attack class may carry its own ``fix`` text (a class attribute); otherwise the
texts here apply. Capabilities merged later add entries with :func:`register_fix`.
"""

from __future__ import annotations

from shopguard.core.scorecard import Area

__all__ = ["AREA_FIXES", "CHECK_FIXES", "fix_for", "register_fix"]

AREA_FIXES: dict[str, str] = {
    Area.API: "Keep authn, authz and rate_limit in gateway_guards; give keys the fewest scopes; "
    "keep gateway_max_body_bytes small.",
    Area.PRIVACY: "Seal personal fields at rest (protect_store), keep PII redaction on the log "
    "pipeline, and honour the consent ledger before personalising.",
    Area.INTEGRITY: "Route new reviews and training rows through the integrity gate; quarantine "
    "bursts and re-run the label audit before retraining.",
    Area.MODEL_THEFT: "Keep extraction_watch in the guard chain with a low block threshold, "
    "round or band scores, and store models signed in the vault.",
    Area.ADVERSARIAL: "Enable the input purification / detection guard for images and retrain "
    "with adversarial examples at the epsilon the bar names.",
    Area.ASSISTANT: "Keep the assistant's injection, tool-permission and output guards on; "
    "scope its tools to the signed-in customer.",
    Area.SUPPLY_CHAIN: "Pin and audit dependencies (pip-audit), regenerate the SBOM, and fix "
    "the configuration audit's findings.",
    Area.COMPLIANCE: "Regenerate the processing records and finish the vendor assessments.",
    Area.FAIRNESS: "Re-run the fairness audit, apply the mitigation, and publish current model "
    "cards with reason codes on declines.",
    Area.OPERATIONS: "Require MFA for privileged staff, verify the audit chain, rotate unused "
    "keys and keep containment playbooks enabled.",
    Area.MONITORING: "Validate alert rules and make sure extraction alerts open incidents.",
}

CHECK_FIXES: dict[str, str] = {
    "api.flood_rate_limited": "Add rate_limit to gateway_guards and set rate_limit_key.",
    "api.underscoped_key_refused": "Add authz to gateway_guards; re-issue keys with fewer scopes.",
    "api.no_credentials_refused": "Add authn to gateway_guards.",
    "api.wrong_key_refused": "Add authn to gateway_guards; rotate any leaked keys.",
    "api.expired_jwt_refused": "Validate exp/aud/iss on JWTs (authn guard, jwt_* settings).",
    "api.cross_tenant_read_refused": "Resolve the store from the key's tenant, never the URL.",
    "api.oversized_body_refused": "Lower gateway_max_body_bytes.",
    "api.malformed_json_refused": "Keep strict request schemas on every JSON route.",
    "model_theft.extraction_blocked": "Add extraction_watch to gateway_guards; lower its "
    "block threshold.",
    "monitoring.extraction_becomes_incident": "Turn ops.containment on so extraction alerts "
    "open incidents and revoke the key.",
}


def register_fix(name: str, text: str) -> None:
    CHECK_FIXES[name] = text


def fix_for(check_id: str, area: str, cls: object | None = None) -> str:
    own = getattr(cls, "fix", None) if cls is not None else None
    if isinstance(own, str) and own:
        return own
    return CHECK_FIXES.get(check_id) or AREA_FIXES.get(area, "")
