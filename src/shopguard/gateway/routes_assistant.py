"""``POST /v1/assistant/chat``: the assistant behind the gateway's guards pipeline.

The customer is the gateway's authenticated principal: a bearer JWT's subject
(scope ``assistant:chat``). API keys identify services, not shoppers, so they
are refused here (403); the request body has no customer field at all.
Conversations live in the database (text sealed under each customer's data key),
so a restart or another worker continues them.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from shopguard.assistant import erasure as _erasure  # noqa: F401  (registers the DSAR hooks)
from shopguard.assistant.conversations import SqlConversations
from shopguard.assistant.detector import PromptInjectionDetector
from shopguard.assistant.engines import BuiltinEngine, Engine, OpenAICompatibleEngine
from shopguard.assistant.service import Assistant, Guards, build_assistant
from shopguard.assistant.tools import (
    OrderBook,
    ReturnsStore,
    ToolExecutor,
    TrustingToolExecutor,
)
from shopguard.core.errors import AuthorizationError, NotFoundError, ShopguardError
from shopguard.core.settings import Settings
from shopguard.privacy.fields import FieldCipher

__all__ = ["ChatIn", "ChatOut", "install_assistant_routes"]

SCOPE = "assistant:chat"


class UnsupportedMediaType(ShopguardError):
    http_status = 415
    title = "Unsupported media type"


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    message: str = Field(min_length=1, max_length=32_000)


class ToolOut(BaseModel):
    tool: str
    decision: str


class ChatOut(BaseModel):
    conversation_id: str
    answer: str
    blocked: bool
    fallback: bool
    locked: bool
    documents_blocked: int
    tools: list[ToolOut]


def make_engine(settings: Settings) -> Engine:
    """The configured engine: an OpenAI-compatible endpoint when ``llm_url`` is set."""
    if settings.llm_url:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return OpenAICompatibleEngine(
            base_url=settings.llm_url,
            model=settings.llm_model,
            api_key=key,
            timeout_s=settings.llm_timeout_s,
        )
    return BuiltinEngine()


def load_detector(settings: Settings) -> PromptInjectionDetector:
    """The configured prompt-injection detector (a shipped one by name, or a built file) at
    the configured operating point."""
    if settings.assistant_injection_detector_file is not None:
        detector = PromptInjectionDetector.load(settings.assistant_injection_detector_file)
    else:
        detector = PromptInjectionDetector.shipped(settings.assistant_injection_detector)
    if settings.assistant_injection_fpr is not None:
        detector.calibrate(settings.assistant_injection_fpr)
    return detector


def install_assistant_routes(
    app: FastAPI, settings: Settings, *, engine: Engine | None = None
) -> None:
    """Add ``POST /v1/assistant/chat`` to a gateway built by ``create_app``."""
    from shopguard.gateway.app import add_guarded_route

    rt = app.state.runtime
    stores = app.state.stores
    assistants: dict[str, Assistant] = {}
    lock = threading.Lock()
    chosen = engine or make_engine(settings)
    returns = ReturnsStore(rt.engine)
    conversations = SqlConversations(rt.engine, cipher=FieldCipher(rt.engine, rt.keyring))
    guards = Guards.from_names(settings.assistant_guards)
    detector = load_detector(settings)

    def assistant_for(tenant: str) -> Assistant:
        with lock:
            hit = assistants.get(tenant)
        if hit is not None:
            return hit
        svc = stores.get(tenant)

        def submitted(product_id: str) -> list[dict[str, Any]]:
            return list(svc.product_reviews(product_id, limit=50))

        book = OrderBook(svc.store.orders, svc.store.customers, svc.store.products)
        executor_cls = ToolExecutor if guards.bind_tools else TrustingToolExecutor
        executor = executor_cls(
            book,
            returns=returns,
            audit=rt.audit,
            bus=rt.bus,
            refund_auto_limit=settings.assistant_refund_auto_limit,
            rate_limit=settings.assistant_tool_rate_limit,
        )
        built = build_assistant(
            svc.store,
            engine=chosen,
            extra_reviews=submitted,
            audit=rt.audit,
            bus=rt.bus,
            executor=executor,
            tenant=tenant,
            guards=guards,
            detector=detector,
            engine_timeout_s=settings.llm_timeout_s,
            max_message_chars=settings.assistant_max_message_chars,
            conversations=conversations,
        )
        with lock:
            return assistants.setdefault(tenant, built)

    app.state.assistants = assistants

    async def chat(body: ChatIn, request: Request) -> ChatOut:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise UnsupportedMediaType("send application/json")
        state = request.scope.get("state", {})
        principal = str(state.get("principal") or "")
        tenant = str(state.get("tenant") or "")
        # SECURITY: the customer is the token's subject, set by the authn guard; never the body.
        if not principal.startswith("jwt:") or not tenant:
            raise AuthorizationError("the assistant needs a customer's bearer token")
        customer_id = principal[4:]
        svc = stores.get(tenant)
        if not svc.has_customer(customer_id):
            raise NotFoundError("unknown customer")
        state["audit_target"] = f"customer:{rt.audit.pseudonym(customer_id)}"
        assistant = await run_in_threadpool(assistant_for, tenant)
        turn = await run_in_threadpool(
            lambda: assistant.chat(
                customer_id=customer_id,
                conversation_id=body.conversation_id,
                message=body.message,
                request_id=state.get("request_id"),
            )
        )
        return ChatOut(
            conversation_id=turn.conversation_id,
            answer=turn.answer,
            blocked=turn.blocked,
            fallback=turn.fallback,
            locked=turn.locked,
            documents_blocked=turn.documents_blocked,
            tools=[ToolOut(tool=o.tool, decision=o.decision) for o in turn.tools],
        )

    add_guarded_route(
        app,
        "/v1/assistant/chat",
        chat,
        policy_id="assistant.chat",
        scopes=[SCOPE],
        methods=["POST"],
        response_model=ChatOut,
        tags=["assistant"],
    )
