"""The ticket store: every database read and write of the application, behind plain methods.

Peewee stays inside this module (and ``models``/``schema``); callers get domain objects. Writes run
inside :meth:`SqlStore.transaction` (the unit of work); :meth:`SqlStore.savepoint` nests one so that
a failing message rolls back alone.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from enum import Enum
from datetime import datetime
from typing import Iterable, Iterator, Sequence

import peewee as pw

from . import models as m
from .domain import (
    IntakeOutcome,
    MessageKind,
    MessageStatus,
    QuarantinedMessage,
    StoredMessage,
    Ticket,
    TicketKind,
    TicketStatus,
)
from .schema import ensure_schema, open_database

_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit


class _PreparedInserts:
    """Single-row INSERTs whose SQL peewee builds once per model and the store then reuses.

    Building an INSERT of a 25-column row through peewee's query compiler costs about 0.6 ms,
    running it about 0.05 ms: at hundreds of messages a second the compiler would be the
    bottleneck. Every column is always given (defaults filled in here), so one statement per
    model serves every row; the first row is checked against peewee's own parameters.
    """

    def __init__(self, db: pw.Database):
        self.db = db
        self._statements: dict[type, tuple[str, list[pw.Field], bool]] = {}

    def __call__(self, model: type[pw.Model], values: dict) -> int:
        """Insert one row of ``model`` and return its primary key."""
        fields = [f for f in model._meta.sorted_fields if not isinstance(f, pw.AutoField)]
        unknown = set(values) - {f.name for f in fields}
        if unknown:
            raise TypeError(f"{model.__name__} has no column(s) {sorted(unknown)}")
        row = {f.name: values[f.name] if f.name in values else _default(f) for f in fields}
        params = [f.db_value(row[f.name]) for f in fields]
        statement = self._statements.get(model)
        if statement is None:
            sql, _ = model.insert(**row).sql()
            columns = ", ".join(f'"{f.column_name}"' for f in fields)
            if f"({columns})" not in sql:  # pragma: no cover - guards against a peewee change
                raise AssertionError(f"peewee orders the columns of {model.__name__} differently: {sql}")
            statement = (sql, fields, " RETURNING " in sql.upper())
            self._statements[model] = statement
        sql, _fields, returning = statement
        cursor = self.db.execute_sql(sql, params)
        return cursor.fetchone()[0] if returning else cursor.lastrowid


def _default(field: pw.Field):
    default = field.default
    return default() if callable(default) else default


class SqlStore:
    """The store on SQLite or PostgreSQL."""

    def __init__(self, db: pw.Database):
        self.db = db
        self._insert = _PreparedInserts(db)

    @classmethod
    def open(cls, url: str, create: bool = True) -> "SqlStore":
        """Open the database at ``url``; check its schema (creating it when empty and ``create``)."""
        db = open_database(url)
        if create:
            ensure_schema(db)
        return cls(db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.atomic():
            yield

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside rolls back only what it did."""
        with self.db.atomic():
            yield

    def lock_mailbox(self, mailbox: str, now: datetime) -> None:
        """Inside a transaction, serialise intake of ``mailbox`` across workers."""
        m.MailboxState.insert(name=mailbox, cursor=None, updated_at=now).on_conflict_ignore().execute()
        query = m.MailboxState.select().where(m.MailboxState.name == mailbox)
        if isinstance(self.db, pw.PostgresqlDatabase):
            query = query.for_update()
        query.first()

    # -- intake state ---------------------------------------------------------------------------

    def cursor(self, mailbox: str) -> str | None:
        row = m.MailboxState.get_or_none(m.MailboxState.name == mailbox)
        return row.cursor if row else None

    def set_cursor(self, mailbox: str, cursor: str | None, now: datetime) -> None:
        (
            m.MailboxState.insert(name=mailbox, cursor=cursor, updated_at=now)
            .on_conflict(conflict_target=[m.MailboxState.name], update={m.MailboxState.cursor: cursor, m.MailboxState.updated_at: now})
            .execute()
        )

    def recorded_keys(self, mailbox: str, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that intake has already handled."""
        found: set[str] = set()
        for chunk in pw.chunked(keys, _CHUNK):
            query = m.IntakeRecord.select(m.IntakeRecord.key).where(
                (m.IntakeRecord.mailbox == mailbox) & (m.IntakeRecord.key.in_(chunk))
            )
            found.update(row.key for row in query)
        return found

    def record_intake(self, mailbox: str, outcomes: Sequence[tuple[str, IntakeOutcome]], now: datetime) -> None:
        """Record that intake handled these ``(key, outcome)`` pairs of ``mailbox`` (not yet acknowledged)."""
        rows = [dict(mailbox=mailbox, key=key, outcome=outcome.value, acked=False, created_at=now) for key, outcome in outcomes]
        for chunk in pw.chunked(rows, 100):
            m.IntakeRecord.insert_many(chunk).on_conflict_ignore().execute()

    def unacknowledged(self, mailbox: str) -> tuple[list[str], list[str]]:
        """Keys handled but not yet acknowledged to the mailbox: (processed, quarantined)."""
        processed, quarantined = [], []
        query = m.IntakeRecord.select(m.IntakeRecord.key, m.IntakeRecord.outcome).where(
            (m.IntakeRecord.mailbox == mailbox) & (m.IntakeRecord.acked == False)  # noqa: E712
        )
        for row in query.order_by(m.IntakeRecord.id):
            (quarantined if row.outcome == IntakeOutcome.QUARANTINED.value else processed).append(row.key)
        return processed, quarantined

    def mark_acknowledged(self, mailbox: str, keys: Sequence[str]) -> None:
        with self.db.atomic():
            for chunk in pw.chunked(keys, _CHUNK):
                m.IntakeRecord.update(acked=True).where((m.IntakeRecord.mailbox == mailbox) & (m.IntakeRecord.key.in_(chunk))).execute()

    # -- messages and tickets -------------------------------------------------------------------

    def existing_dedupe_keys(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that a stored message already has."""
        found: set[str] = set()
        for chunk in pw.chunked(list(dict.fromkeys(keys)), _CHUNK):
            query = m.InboundMessage.select(m.InboundMessage.dedupe_key).where(m.InboundMessage.dedupe_key.in_(chunk))
            found.update(row[0] for row in query.tuples())
        return found

    def has_message(self, dedupe_key: str, excluding: int | None = None) -> bool:
        query = m.InboundMessage.select(m.InboundMessage.id).where(m.InboundMessage.dedupe_key == dedupe_key)
        if excluding is not None:
            query = query.where(m.InboundMessage.id != excluding)
        return query.exists()

    def tickets_for_message_ids(self, message_ids: Sequence[str]) -> dict[str, int]:
        """Map those of ``message_ids`` that belong to a ticket (received or sent) to that ticket."""
        found: dict[str, int] = {}
        if not message_ids:
            return found
        for model in (m.InboundMessage, m.OutboundMessage):
            query = model.select(model.message_id, model.ticket).where(model.message_id.in_(list(message_ids)) & model.ticket.is_null(False))
            for row in query.tuples():
                found.setdefault(row[0], row[1])
        return found

    def ticket_exists(self, ticket_id: int) -> bool:
        return m.Ticket.select(m.Ticket.id).where(m.Ticket.id == ticket_id).exists()

    def create_ticket(self, *, kind: TicketKind, priority: str, subject: str, requester: str, requester_name: str, now: datetime) -> int:
        return self._insert(m.Ticket, dict(
            kind=kind.value,
            status=TicketStatus.OPEN.value,
            priority=priority,
            subject=subject,
            requester=requester,
            requester_name=requester_name,
            created_at=now,
            updated_at=now,
        ))

    def touch_ticket(self, ticket_id: int, now: datetime) -> None:
        m.Ticket.update(updated_at=now).where(m.Ticket.id == ticket_id).execute()

    def add_message(self, **fields) -> int:
        """Store an inbound message; ``fields`` are the columns of ``InboundMessage``."""
        return self._insert(m.InboundMessage, _columns(fields))

    def update_message(self, pk: int, **fields) -> None:
        m.InboundMessage.update(**_columns(fields)).where(m.InboundMessage.id == pk).execute()

    def quarantine(self, message_pk: int, reason: str, detail: str, now: datetime) -> int:
        return m.Quarantine.insert(message=message_pk, reason=reason, detail=detail, created_at=now).execute()

    def list_tickets(self, status: str | None = None, limit: int | None = None) -> list[Ticket]:
        count = (
            m.InboundMessage.select(pw.fn.COUNT(m.InboundMessage.id))
            .where(m.InboundMessage.ticket == m.Ticket.id)
        )
        query = m.Ticket.select(m.Ticket, count.alias("message_count"))
        if status == "open":
            query = query.where(m.Ticket.status != TicketStatus.RESOLVED.value)
        elif status not in (None, "all"):
            query = query.where(m.Ticket.status == status)
        query = query.order_by(m.Ticket.id)
        if limit:
            query = query.limit(limit)
        return [_ticket(row) for row in query]

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        rows = self._tickets_where(m.Ticket.id == ticket_id)
        return rows[0] if rows else None

    def _tickets_where(self, condition) -> list[Ticket]:
        count = m.InboundMessage.select(pw.fn.COUNT(m.InboundMessage.id)).where(m.InboundMessage.ticket == m.Ticket.id)
        return [_ticket(row) for row in m.Ticket.select(m.Ticket, count.alias("message_count")).where(condition)]

    def thread(self, ticket_id: int) -> list[StoredMessage]:
        query = m.InboundMessage.select().where(m.InboundMessage.ticket == ticket_id).order_by(m.InboundMessage.received_at, m.InboundMessage.id)
        return [_message(row) for row in query]

    def messages(self, kinds: Iterable[MessageKind] | None = None) -> list[StoredMessage]:
        query = m.InboundMessage.select().order_by(m.InboundMessage.id)
        if kinds is not None:
            query = query.where(m.InboundMessage.kind.in_([k.value for k in kinds]))
        return [_message(row) for row in query]

    def count_messages(self) -> int:
        return m.InboundMessage.select().count()

    # -- quarantine -----------------------------------------------------------------------------

    def list_quarantine(self, include_released: bool = False) -> list[QuarantinedMessage]:
        query = m.Quarantine.select(m.Quarantine, m.InboundMessage).join(m.InboundMessage).order_by(m.Quarantine.id)
        if not include_released:
            query = query.where(m.Quarantine.released_at.is_null())
        return [_quarantined(row) for row in query]

    def quarantined(self, quarantine_id: int) -> tuple[QuarantinedMessage, bytes, datetime] | None:
        """One quarantine entry with the raw bytes and arrival time of its message."""
        row = m.Quarantine.select(m.Quarantine, m.InboundMessage).join(m.InboundMessage).where(m.Quarantine.id == quarantine_id).first()
        if row is None:
            return None
        return _quarantined(row), bytes(row.message.raw), row.message.received_at

    def release_quarantine(self, quarantine_id: int, now: datetime) -> None:
        """Mark a quarantine entry as dealt with (its message was handled on a retry)."""
        m.Quarantine.update(released_at=now).where(m.Quarantine.id == quarantine_id).execute()

    def update_quarantine(self, quarantine_id: int, reason: str, detail: str) -> None:
        m.Quarantine.update(reason=reason, detail=detail).where(m.Quarantine.id == quarantine_id).execute()


def _columns(fields: dict) -> dict:
    if "attachments" in fields and not isinstance(fields["attachments"], str):
        fields["attachments"] = json.dumps(fields["attachments"])
    for name in ("kind", "status"):
        if isinstance(fields.get(name), Enum):
            fields[name] = fields[name].value
    return fields


def _ticket(row) -> Ticket:
    return Ticket(
        id=row.id,
        kind=TicketKind(row.kind),
        status=TicketStatus(row.status),
        priority=row.priority,
        subject=row.subject,
        requester=row.requester,
        requester_name=row.requester_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        message_count=getattr(row, "message_count", 0) or 0,
    )


def _message(row) -> StoredMessage:
    return StoredMessage(
        id=row.id,
        ticket_id=row.ticket_id,
        kind=MessageKind(row.kind) if row.kind else None,
        status=MessageStatus(row.status),
        message_id=row.message_id,
        subject=row.subject,
        from_addr=row.from_addr,
        from_name=row.from_name,
        received_at=row.received_at,
        body_text=row.body_text,
        attachments=json.loads(row.attachments or "[]"),
    )


def _quarantined(row) -> QuarantinedMessage:
    msg = row.message
    return QuarantinedMessage(
        id=row.id,
        message_pk=msg.id,
        mailbox=msg.mailbox,
        source_key=msg.source_key,
        reason=row.reason,
        detail=row.detail,
        created_at=row.created_at,
        subject=msg.subject,
        from_addr=msg.from_addr,
        size=msg.size,
        released_at=row.released_at,
    )
