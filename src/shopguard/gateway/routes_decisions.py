"""The review route's endpoint (kept apart: it needs the web framework's request type)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from shopguard.fairness.review import ReviewCases


class ReviewRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    statement: str | None = Field(default=None, max_length=2000)


class ReviewCaseOut(BaseModel):
    case_id: str
    decision_id: str
    status: str
    opened_at: str
    deadline_at: str


def add_review_route(app: Any, settings: Any) -> None:
    from shopguard.gateway.app import add_guarded_route

    rt = app.state.runtime
    cases = ReviewCases(rt.engine, rt.keyring, deadline_days=settings.fairness_review_deadline_days)

    async def request_review(decision_id: str, body: ReviewRequestIn, request: Request) -> Any:
        state = request.scope.setdefault("state", {})
        state["audit_target"] = "decision"
        case = await run_in_threadpool(
            cases.open, tenant=state["tenant"], decision_id=decision_id, statement=body.statement
        )
        state["audit_target"] = f"decision:{case.decision_id} case:{case.case_id}"
        return ReviewCaseOut(**case.to_json())

    add_guarded_route(
        app,
        "/v1/decisions/{decision_id}/review",
        request_review,
        policy_id="decisions.review",
        scopes=["decisions:review"],
        methods=["POST"],
        response_model=ReviewCaseOut,
        status_code=201,
        tags=["fairness"],
    )
