"""Shopping-assistant security: prompt-injection detection, leak-proof tools, output filtering.

The assistant (:class:`Assistant`) answers product, policy and order questions
through an :class:`Engine` — the built-in offline engine or any
OpenAI-compatible endpoint — with every defence on by default: injection
detection on messages and retrieved documents, tools bound to the
authenticated customer, and output filters for canaries, secrets and other
people's personal data. The HTTP route lives in :mod:`.routes`.
"""

from __future__ import annotations

from shopguard.assistant.detector import (
    DEFAULT_DETECTOR_PATH,
    InjectionVerdict,
    PromptInjectionDetector,
)
from shopguard.assistant.engines import (
    BuiltinEngine,
    Document,
    Engine,
    EngineError,
    EngineReply,
    EngineRequest,
    Message,
    ObedientTestEngine,
    OpenAICompatibleEngine,
    ToolCall,
    ToolSpec,
    engines,
)
from shopguard.assistant.filters import FilterResult, OutputFilter
from shopguard.assistant.knowledge import POLICY_FAQ, Knowledge
from shopguard.assistant.service import (
    BLOCKED_ANSWER,
    FALLBACK_ANSWER,
    Assistant,
    AssistantInputError,
    ChatTurn,
    Guards,
    build_assistant,
)
from shopguard.assistant.tools import (
    TOOL_SPECS,
    OrderBook,
    ReturnsStore,
    ToolContext,
    ToolExecutor,
    ToolOutcome,
)

__all__ = [
    "BLOCKED_ANSWER",
    "DEFAULT_DETECTOR_PATH",
    "FALLBACK_ANSWER",
    "POLICY_FAQ",
    "TOOL_SPECS",
    "Assistant",
    "AssistantInputError",
    "BuiltinEngine",
    "ChatTurn",
    "Document",
    "Engine",
    "EngineError",
    "EngineReply",
    "EngineRequest",
    "FilterResult",
    "Guards",
    "InjectionVerdict",
    "Knowledge",
    "Message",
    "ObedientTestEngine",
    "OpenAICompatibleEngine",
    "OrderBook",
    "OutputFilter",
    "PromptInjectionDetector",
    "ReturnsStore",
    "ToolCall",
    "ToolContext",
    "ToolExecutor",
    "ToolOutcome",
    "ToolSpec",
    "build_assistant",
    "engines",
]
