"""Staff log-in at the gateway: ``POST /v1/staff/sessions`` and ``DELETE /v1/staff/sessions``.

A staff member (``shopguard staff add``) trades user name, password and, for
every privileged role, a TOTP or recovery code for a session token
(``sgs_...``). The gateway's ``authn`` guard accepts that token as
``Authorization: Bearer sgs_...`` with the scopes of the member's role, on the
tenant ``ops_staff_tenant`` (see :func:`shopguard.governance.gateway_hook.staff_authenticator`).
Lockout, back-off, replayed codes and the MFA requirement are those of
:class:`~shopguard.governance.staff.StaffDirectory`; every attempt is audited by
it without the password or code. Both routes are public (the credentials are in
the request) and rate limited per client address.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from shopguard.core.errors import AuthenticationError
from shopguard.gateway.pipeline import GuardContext
from shopguard.governance.staff import StaffDirectory

__all__ = ["LOGIN_PATH", "StaffLoginIn", "StaffSessionOut", "install_staff_routes"]

LOGIN_PATH = "/v1/staff/sessions"


class StaffLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=1, max_length=1024, repr=False)
    code: str | None = Field(default=None, max_length=16, repr=False)
    recovery_code: str | None = Field(default=None, max_length=32, repr=False)


class StaffSessionOut(BaseModel):
    token: str
    username: str
    role: str
    scopes: list[str]
    expires_at: datetime


def install_staff_routes(app: FastAPI) -> None:
    """Add the staff session routes (the app's ``authn`` guard already accepts sessions)."""
    from shopguard.gateway.app import ERRORS

    staff: StaffDirectory = app.state.staff
    login_guard = app.state.guarded("staff.login", public=True)
    logout_guard = app.state.guarded("staff.logout", public=True)

    @app.post(
        LOGIN_PATH,
        response_model=StaffSessionOut,
        status_code=201,
        tags=["operations"],
        responses=ERRORS,
    )
    async def staff_login(body: StaffLoginIn, ctx: GuardContext = login_guard) -> StaffSessionOut:
        session = await run_in_threadpool(
            lambda: staff.login(
                body.username, body.password, code=body.code, recovery_code=body.recovery_code
            )
        )
        return StaffSessionOut(
            token=session.token,
            username=session.username,
            role=session.role.value,
            scopes=sorted(session.scopes),
            expires_at=session.expires_at,
        )

    @app.delete(LOGIN_PATH, status_code=204, tags=["operations"], responses=ERRORS)
    async def staff_logout(request: Request, ctx: GuardContext = logout_guard) -> Response:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not token.startswith("sgs_"):
            raise AuthenticationError("send the session as Authorization: Bearer sgs_...")
        await run_in_threadpool(staff.logout, token)
        return Response(status_code=204)
