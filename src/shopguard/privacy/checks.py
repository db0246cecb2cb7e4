"""Scorecard checks of the privacy area, run against a live gateway."""

from __future__ import annotations

import httpx

from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks

__all__: list[str] = []

PROBE_POLICY = "scorecard-probe"


@checks.register
class ConsentOptOutHonoured(Check):
    """After a customer opts out of personalisation, the recommender stops personalising.

    Needs ``consent_subject``: a customer whose recommendations are personalised when
    consent is given. The probe's consent events are tagged with policy version
    ``scorecard-probe``; the customer's personalisation consent is granted again at the end.
    """

    name = "privacy.consent_opt_out_honoured"
    area = Area.PRIVACY
    title = "A consent opt-out is honoured by the recommender"
    requires = ("base_url", "api_keys", "consent_subject")

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        cid = ctx["consent_subject"]
        url = f"/v1/customers/{cid}/consent"
        headers = {"X-API-Key": ctx["api_keys"]["full"]}

        def set_consent(client: httpx.Client, granted: bool) -> int:
            body = {
                "purpose": "personalisation",
                "granted": granted,
                "policy_version": PROBE_POLICY,
            }
            return client.put(url, json=body, headers=headers).status_code

        with httpx.Client(base_url=ctx["base_url"], timeout=30) as client:
            codes = [set_consent(client, True)]
            before = client.get(f"/v1/recommendations/{cid}", headers=headers).json()
            codes.append(set_consent(client, False))
            after = client.get(f"/v1/recommendations/{cid}", headers=headers).json()
            codes.append(set_consent(client, True))
        if any(c != 200 for c in codes):
            return Status.ERROR, None, f"consent endpoint answered {codes}"
        ok = before.get("personalised") is True and after.get("personalised") is False
        changed = before.get("products") != after.get("products")
        evidence = (
            f"opted in: personalised={before.get('personalised')}; "
            f"opted out: personalised={after.get('personalised')}, list changed={changed}"
        )
        return (Status.PASS if ok and changed else Status.FAIL), None, evidence
