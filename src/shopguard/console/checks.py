"""Scorecard check of the web console, run against the live gateway.

``operations.console_hardened``: the console's login page carries the strict
Content-Security-Policy; its cookies are HttpOnly and SameSite=Strict (and
Secure with the ``__Host-`` prefix unless turned off for a local test); a form
post without its CSRF token is refused; pages without a session go to the login.
"""

from __future__ import annotations

import httpx

from shopguard.console.app import CSP
from shopguard.core.scorecard import Area, Check, CheckContext, Figure, Status, checks

__all__ = ["ConsoleHardened"]


@checks.register
class ConsoleHardened(Check):
    """The console refuses forged forms and anonymous pages and sets hardened cookies and CSP."""

    name = "operations.console_hardened"
    area = Area.OPERATIONS
    title = "Web console: strict CSP, hardened cookies, CSRF and login enforced"
    requires = ("base_url",)

    def run(self, ctx: CheckContext) -> tuple[Status, Figure | None, str]:
        base = str(ctx["base_url"]).rstrip("/")
        problems: list[str] = []
        with httpx.Client(base_url=base, timeout=10, follow_redirects=False) as client:
            page = client.get("/console/login")
            if page.status_code != 200:
                return Status.FAIL, None, f"/console/login answered {page.status_code}"
            if page.headers.get("content-security-policy") != CSP:
                problems.append("login page lacks the console CSP")
            cookie = page.headers.get("set-cookie", "").lower()
            for flag in ("httponly", "samesite=strict"):
                if flag not in cookie:
                    problems.append(f"pre-session cookie lacks {flag}")
            if cookie.startswith("__host-") and "secure" not in cookie:
                problems.append("__Host- cookie without Secure")
            forged = client.post("/console/login", data={"username": "x", "password": "y"})
            if forged.status_code != 403:
                problems.append(f"login without CSRF answered {forged.status_code}")
            anon = client.get("/console/keys")
            if anon.status_code != 303 or "/console/login" not in anon.headers.get("location", ""):
                problems.append(f"anonymous page answered {anon.status_code}")
            anon_post = client.post("/console/keys", data={"name": "x"})
            if anon_post.status_code != 401:
                problems.append(f"anonymous action answered {anon_post.status_code}")
        fig = Figure("console hardening problems", float(len(problems)), 0.0)
        if problems:
            return Status.FAIL, fig, "; ".join(problems)
        secure = "Secure __Host- cookies" if "secure" in cookie else "cookies not Secure (test)"
        return (
            Status.PASS,
            fig,
            f"strict CSP, HttpOnly SameSite=Strict, {secure}; forged login 403, "
            "anonymous page 303 to login, anonymous action 401",
        )
