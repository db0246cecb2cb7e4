"""Where the assistant keeps its conversations: in memory, or in the database.

A conversation is keyed by ``(tenant, customer, conversation id)``, so an id
guessed by another customer opens a different, empty conversation. It holds the
last turns (the engine's context and the window the injection detector reads
for split payloads), the number of blocked turns and whether it is locked.

:class:`SqlConversations` (tables ``assistant_conversations`` and
``assistant_messages``) is what the gateway uses: a restart, or a second worker
behind the load balancer, continues the same conversation, and strikes counted
by one worker lock the conversation in all of them. Each turn is one
transaction whose ``UPDATE`` of the conversation row serialises concurrent
turns of the same conversation (a row lock on PostgreSQL, the write lock on
SQLite), so no strike is lost and messages get distinct sequence numbers.
Message text is personal data: with a
:class:`~shopguard.privacy.fields.FieldCipher` it is sealed under the
customer's own data key, so crypto-shredding on erasure makes every copy
(dumps and backups included) unreadable; the erasure hook deletes the rows too
(:mod:`shopguard.assistant.erasure`).

:class:`MemoryConversations` (bounded, least recently used first out) is the
default for library use and tests.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine as SqlEngine

from shopguard.assistant.engines import Message
from shopguard.core.db import metadata
from shopguard.core.errors import InvalidCiphertext
from shopguard.privacy.fields import FieldCipher, FieldRef, SubjectKey

__all__ = [
    "STRIKES_TO_LOCK",
    "ConversationState",
    "ConversationStore",
    "MemoryConversations",
    "SqlConversations",
    "TurnRecord",
    "assistant_conversations",
    "assistant_messages",
]

logger = logging.getLogger(__name__)

#: Blocked turns after which a conversation is locked (multi-turn probing).
STRIKES_TO_LOCK = 3
#: Messages kept per conversation (ten turns of user + assistant).
KEEP_MESSAGES = 20

assistant_conversations = sa.Table(
    "assistant_conversations",
    metadata,
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("next_seq", sa.Integer, nullable=False),
    sa.Column("strikes", sa.Integer, nullable=False),
    sa.Column("locked", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.PrimaryKeyConstraint(
        "tenant", "customer_id", "conversation_id", name="pk_assistant_conversations"
    ),
)

assistant_messages = sa.Table(
    "assistant_messages",
    metadata,
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("customer_id", sa.String(64), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("name", sa.String(64), nullable=True),
    # Sealed bytes when a cipher is configured, else UTF-8 text as bytes.
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("sealed", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.PrimaryKeyConstraint(
        "tenant", "customer_id", "conversation_id", "seq", name="pk_assistant_messages"
    ),
)


@dataclass(frozen=True)
class ConversationState:
    """What a turn needs to know about its conversation."""

    messages: tuple[Message, ...] = ()
    strikes: int = 0
    locked: bool = False


@dataclass(frozen=True)
class TurnRecord:
    """The conversation after a turn was recorded; ``locked_now`` is true only for the turn
    that locked it (so the lock alert is raised once, whichever worker counted the strike)."""

    strikes: int
    locked: bool
    locked_now: bool


class ConversationStore(Protocol):
    """Load a conversation and record a turn of it."""

    def load(self, tenant: str, customer_id: str, conversation_id: str) -> ConversationState: ...

    def record(
        self,
        tenant: str,
        customer_id: str,
        conversation_id: str,
        messages: tuple[Message, ...],
        *,
        strike: bool,
    ) -> TurnRecord: ...


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _after(strikes_before: int, strike: bool, locked_before: bool) -> TurnRecord:
    strikes = strikes_before + int(strike)
    locked = locked_before or strikes >= STRIKES_TO_LOCK
    return TurnRecord(strikes, locked, locked and not locked_before)


class MemoryConversations:
    """Conversations in this process only, at most ``max_conversations`` of them."""

    def __init__(self, *, max_conversations: int = 10_000) -> None:
        self.max_conversations = max_conversations
        self._items: OrderedDict[tuple[str, str, str], ConversationState] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, tenant: str, customer_id: str, conversation_id: str) -> ConversationState:
        key = (tenant, customer_id, conversation_id)
        with self._lock:
            state = self._items.get(key)
            if state is None:
                return ConversationState()
            self._items.move_to_end(key)
            return state

    def record(
        self,
        tenant: str,
        customer_id: str,
        conversation_id: str,
        messages: tuple[Message, ...],
        *,
        strike: bool,
    ) -> TurnRecord:
        key = (tenant, customer_id, conversation_id)
        with self._lock:
            old = self._items.get(key) or ConversationState()
            rec = _after(old.strikes, strike, old.locked)
            kept = (*old.messages, *messages)[-KEEP_MESSAGES:]
            self._items[key] = ConversationState(kept, rec.strikes, rec.locked)
            self._items.move_to_end(key)
            while len(self._items) > self.max_conversations:
                self._items.popitem(last=False)
        return rec


class SqlConversations:
    """Conversations in the database, shared by every worker and kept across restarts.

    Parameters
    ----------
    engine :
        The runtime's database engine (SQLite or PostgreSQL), migrated.
    cipher :
        Seals message text under the customer's data key; ``None`` stores it in clear
        (tests and tools only: the gateway always passes one).
    keep_messages :
        Messages kept per conversation; older ones are deleted as new turns arrive.
    """

    def __init__(
        self,
        engine: SqlEngine,
        *,
        cipher: FieldCipher | None = None,
        keep_messages: int = KEEP_MESSAGES,
    ) -> None:
        self._engine = engine
        self._cipher = cipher
        self.keep_messages = keep_messages

    @staticmethod
    def _ref(conversation_id: str, seq: int) -> FieldRef:
        return FieldRef("assistant_messages", "content", f"{conversation_id}/{seq}")

    def _seal(self, key: SubjectKey | None, conversation_id: str, seq: int, text: str) -> bytes:
        raw = text.encode("utf-8")
        if key is None or self._cipher is None:
            return raw
        return self._cipher.encrypt_with(key, self._ref(conversation_id, seq), raw)

    def _open(self, tenant: str, customer_id: str, row: Any, *, cipher: FieldCipher | None) -> str:
        content = bytes(row.content)
        if not row.sealed:
            return content.decode("utf-8")
        if cipher is None:
            raise InvalidCiphertext()
        return cipher.decrypt(
            tenant, customer_id, self._ref(row.conversation_id, row.seq), content
        ).decode("utf-8")

    def load(self, tenant: str, customer_id: str, conversation_id: str) -> ConversationState:
        c, m = assistant_conversations.c, assistant_messages.c
        with self._engine.connect() as conn:
            head = conn.execute(
                sa.select(c.strikes, c.locked).where(
                    c.tenant == tenant,
                    c.customer_id == customer_id,
                    c.conversation_id == conversation_id,
                )
            ).first()
            if head is None:
                return ConversationState()
            rows = conn.execute(
                sa.select(m.conversation_id, m.seq, m.role, m.name, m.content, m.sealed)
                .where(
                    m.tenant == tenant,
                    m.customer_id == customer_id,
                    m.conversation_id == conversation_id,
                )
                .order_by(m.seq.desc())
                .limit(self.keep_messages)
            ).all()
        try:
            messages = tuple(
                Message(
                    cast(Any, r.role),
                    self._open(tenant, customer_id, r, cipher=self._cipher),
                    name=r.name,
                )
                for r in reversed(rows)
            )
        except InvalidCiphertext:
            # The customer's key was shredded (erasure) or rotated away: the history is
            # gone, the strikes and the lock are not.
            logger.warning("assistant conversation history unreadable; continuing without it")
            messages = ()
        return ConversationState(messages, int(head.strikes), bool(head.locked))

    def _insert_head(self, tenant: str, customer_id: str, conversation_id: str) -> Any:
        now = _now()
        values = {
            "tenant": tenant,
            "customer_id": customer_id,
            "conversation_id": conversation_id,
            "next_seq": 0,
            "strikes": 0,
            "locked": False,
            "created_at": now,
            "updated_at": now,
        }
        if self._engine.dialect.name == "postgresql":
            return (
                postgresql.insert(assistant_conversations).values(values).on_conflict_do_nothing()
            )
        if self._engine.dialect.name == "sqlite":
            return sqlite.insert(assistant_conversations).values(values).on_conflict_do_nothing()
        return assistant_conversations.insert().values(values)  # pragma: no cover

    def record(
        self,
        tenant: str,
        customer_id: str,
        conversation_id: str,
        messages: tuple[Message, ...],
        *,
        strike: bool,
    ) -> TurnRecord:
        c, m = assistant_conversations.c, assistant_messages.c
        mine = (
            (c.tenant == tenant)
            & (c.customer_id == customer_id)
            & (c.conversation_id == conversation_id)
        )
        n = len(messages)
        # The key is fetched (or created) before the transaction: creating it writes to
        # other tables, which on SQLite would wait for the write lock this transaction holds.
        key = self._cipher.active_key(tenant, customer_id) if self._cipher is not None else None
        with self._engine.begin() as conn:
            conn.execute(self._insert_head(tenant, customer_id, conversation_id))
            # The UPDATE takes the row's write lock first, then reads what it wrote: two
            # workers recording turns of one conversation queue here instead of racing.
            conn.execute(
                assistant_conversations.update()
                .where(mine)
                .values(
                    next_seq=c.next_seq + n,
                    strikes=c.strikes + int(strike),
                    updated_at=_now(),
                )
            )
            head = conn.execute(sa.select(c.next_seq, c.strikes, c.locked).where(mine)).one()
            strikes, locked_before = int(head.strikes), bool(head.locked)
            rec = _after(strikes - int(strike), strike, locked_before)
            if rec.locked_now:
                conn.execute(assistant_conversations.update().where(mine).values(locked=True))
            first = int(head.next_seq) - n
            now = _now()
            if messages:
                conn.execute(
                    assistant_messages.insert(),
                    [
                        {
                            "tenant": tenant,
                            "customer_id": customer_id,
                            "conversation_id": conversation_id,
                            "seq": first + i,
                            "role": msg.role,
                            "name": msg.name,
                            "content": self._seal(key, conversation_id, first + i, msg.content),
                            "sealed": key is not None,
                            "created_at": now,
                        }
                        for i, msg in enumerate(messages)
                    ],
                )
            conn.execute(
                assistant_messages.delete().where(
                    m.tenant == tenant,
                    m.customer_id == customer_id,
                    m.conversation_id == conversation_id,
                    m.seq < int(head.next_seq) - self.keep_messages,
                )
            )
        return rec

    # -- data-subject requests -------------------------------------------------------
    def export_customer(
        self, tenant: str, customer_id: str, *, cipher: FieldCipher | None = None
    ) -> list[dict[str, Any]]:
        """Every stored conversation of a customer with its messages (for an access request).

        ``cipher`` opens sealed messages (default: this store's); a message that cannot be
        opened (its key was shredded) is exported as ``None``.
        """
        opener = cipher or self._cipher
        c, m = assistant_conversations.c, assistant_messages.c
        with self._engine.connect() as conn:
            heads = conn.execute(
                sa.select(assistant_conversations)
                .where(c.tenant == tenant, c.customer_id == customer_id)
                .order_by(c.created_at, c.conversation_id)
            ).all()
            rows = conn.execute(
                sa.select(assistant_messages)
                .where(m.tenant == tenant, m.customer_id == customer_id)
                .order_by(m.conversation_id, m.seq)
            ).all()
        by_conv: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            try:
                text: str | None = self._open(tenant, customer_id, r, cipher=opener)
            except InvalidCiphertext:
                text = None
            by_conv.setdefault(r.conversation_id, []).append(
                {"seq": r.seq, "role": r.role, "name": r.name, "content": text, "at": r.created_at}
            )
        return [
            {
                "conversation_id": h.conversation_id,
                "created_at": h.created_at,
                "updated_at": h.updated_at,
                "blocked_turns": int(h.strikes),
                "locked": bool(h.locked),
                "messages": by_conv.get(h.conversation_id, []),
            }
            for h in heads
        ]

    def erase_customer(self, tenant: str, customer_id: str) -> int:
        """Delete every conversation and message of a customer; returns the rows removed."""
        c, m = assistant_conversations.c, assistant_messages.c
        with self._engine.begin() as conn:
            n = conn.execute(
                assistant_messages.delete().where(m.tenant == tenant, m.customer_id == customer_id)
            ).rowcount
            n += conn.execute(
                assistant_conversations.delete().where(
                    c.tenant == tenant, c.customer_id == customer_id
                )
            ).rowcount
        return int(n)
