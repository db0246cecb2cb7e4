"""HTTP routes of the vendor risk register, served behind the gateway's guards.

:func:`add_vendor_routes` is called once by the gateway's app factory. The
register is deployment-wide (not per tenant): give ``vendors:read`` /
``vendors:write`` only to the operator's keys.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    field_validator,
)

from shopguard.core.runtime import Runtime
from shopguard.governance.vendors import (
    ENDPOINT_PATTERN,
    QUESTIONS,
    VENDOR_ID_PATTERN,
    Answer,
    Clause,
    DataCategory,
    Question,
    VendorRegister,
)

__all__ = ["VENDOR_SCOPES", "add_vendor_routes"]

VENDOR_SCOPES = ("vendors:read", "vendors:write")


#: Path parameter: the register's id rule, so the OpenAPI schema documents what is accepted.
VendorId = Annotated[str, StringConstraints(pattern=VENDOR_ID_PATTERN)]
_TEXT = r"\S"  # at least one non-space character


class CertificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=_TEXT)
    expires: str = Field(json_schema_extra={"format": "date"}, max_length=10)

    @field_validator("expires")
    @classmethod
    def _iso_date(cls, value: str) -> str:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("expires must be an ISO date (YYYY-MM-DD)") from None
        return value


class DependsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    models: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=list, max_length=50
    )
    datasets: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=list, max_length=50
    )
    routes: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=list, max_length=50
    )


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


class VendorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, pattern=_TEXT)
    supplies: str = Field(min_length=1, max_length=500, pattern=_TEXT)
    kind: str = Field(default="ai_api", pattern=r"^[a-z_]{1,32}$")
    personal_data: list[DataCategory] = Field(default_factory=list, max_length=20)
    depends: DependsIn = Field(default_factory=DependsIn)
    endpoints: list[Annotated[str, StringConstraints(pattern=ENDPOINT_PATTERN, max_length=500)]] = (
        Field(default_factory=list, max_length=20)
    )
    clauses: list[Clause] = Field(default_factory=list, max_length=20)
    # JSON true/false are not hours or days (pydantic would read them as 1/0); 48.0 is 48.
    breach_notification_hours: (
        Annotated[int, Field(ge=0, le=8760), BeforeValidator(_no_bool)] | None
    ) = None
    certifications: list[CertificationIn] = Field(default_factory=list, max_length=20)
    reassess_days: Annotated[int, Field(ge=1, le=1095), BeforeValidator(_no_bool)] = 365


def _answer_type(q: Question) -> Any:
    allowed = [a.value for a in Answer if a is not Answer.NOT_APPLICABLE or q.na_allowed]
    return Literal[tuple(allowed)]


#: One optional field per question (aliased to its id): the schema lists every question and
#: the answers each accepts, so no schema-valid body is refused.
if TYPE_CHECKING:
    AnswersIn = BaseModel
else:
    AnswersIn = create_model(  # type: ignore[call-overload]
        "AnswersIn",
        __config__=ConfigDict(extra="forbid", populate_by_name=True),
        **{
            q.id.replace(".", "__"): (
                _answer_type(q) | None,
                Field(default=None, alias=q.id, description=q.text),
            )
            for q in QUESTIONS
        },
    )


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: AnswersIn
    assessor: str = Field(default="api", min_length=1, max_length=64, pattern=_TEXT)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["incident", "sla_breach"]
    severity: Literal["low", "medium", "high", "critical"]
    summary: str = Field(min_length=1, max_length=500, pattern=_TEXT)


def _view(reg: VendorRegister, vendor_id: str) -> dict[str, Any]:
    vendor = reg.get(vendor_id)
    latest = reg.latest_assessment(vendor_id)
    return {
        **vendor.to_json(),
        "rating": reg.rate(vendor_id).to_json(),
        "latest_assessment": None
        if latest is None
        else {
            "at": latest.at,
            "score": latest.score,
            "complete": latest.complete,
            "passed": latest.passed,
            "missing": list(latest.missing),
            "critical_failed": list(latest.critical_failed),
        },
        "risk_history": [
            {"at": at, "risk": risk, "level": level.value}
            for at, risk, level in reg.history(vendor_id)
        ],
    }


def add_vendor_routes(app: Any) -> None:
    """Add ``/v1/vendors...`` to a gateway app built by ``create_app``."""
    from shopguard.gateway.app import add_guarded_route

    rt: Runtime = app.state.runtime
    reg = VendorRegister(rt.engine, audit=rt.audit, bus=rt.bus)
    read, write = VENDOR_SCOPES

    async def list_vendors() -> Any:
        def work() -> list[dict[str, Any]]:
            return [{**v.to_json(), "rating": reg.rate(v.vendor_id).to_json()} for v in reg.all()]

        return {"vendors": await asyncio.to_thread(work)}

    async def get_vendor(vendor_id: VendorId) -> Any:
        return await asyncio.to_thread(_view, reg, vendor_id)

    async def put_vendor(vendor_id: VendorId, body: VendorIn) -> Any:
        def work() -> dict[str, Any]:
            reg.add(
                vendor_id=vendor_id,
                name=body.name,
                supplies=body.supplies,
                kind=body.kind,
                personal_data=[c.value for c in body.personal_data],
                depends={k: v for k, v in body.depends.model_dump().items() if v},
                endpoints=body.endpoints,
                clauses=[c.value for c in body.clauses],
                breach_notification_hours=body.breach_notification_hours,
                certifications=[(c.name, c.expires) for c in body.certifications],
                reassess_days=body.reassess_days,
            )
            return _view(reg, vendor_id)

        return await asyncio.to_thread(work)

    async def assess_vendor(vendor_id: VendorId, body: AssessmentIn) -> Any:
        def work() -> dict[str, Any]:
            answers = body.answers.model_dump(by_alias=True, exclude_none=True)
            reg.assess(vendor_id, answers, assessor=body.assessor)
            return _view(reg, vendor_id)

        return await asyncio.to_thread(work)

    async def vendor_event(vendor_id: VendorId, body: EventIn) -> Any:
        def work() -> dict[str, Any]:
            reg.record_event(
                vendor_id, kind=body.kind, severity=body.severity, summary=body.summary
            )
            return _view(reg, vendor_id)

        return await asyncio.to_thread(work)

    tags = ["vendors"]
    add_guarded_route(
        app, "/v1/vendors", list_vendors, policy_id="vendors.read", scopes=[read], tags=tags
    )
    add_guarded_route(
        app,
        "/v1/vendors/{vendor_id}",
        get_vendor,
        policy_id="vendors.read",
        scopes=[read],
        tags=tags,
    )
    add_guarded_route(
        app, "/v1/vendors/{vendor_id}", put_vendor, policy_id="vendors.write", scopes=[write],
        methods=["PUT"], tags=tags,
    )  # fmt: skip
    add_guarded_route(
        app, "/v1/vendors/{vendor_id}/assessments", assess_vendor, policy_id="vendors.write",
        scopes=[write], methods=["POST"], tags=tags,
    )  # fmt: skip
    add_guarded_route(
        app, "/v1/vendors/{vendor_id}/events", vendor_event, policy_id="vendors.write",
        scopes=[write], methods=["POST"], tags=tags,
    )  # fmt: skip
