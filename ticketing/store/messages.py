"""Intake state, inbound messages and the quarantine."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

import peewee as pw

from ticketing.core.domain import (
    IntakeOutcome,
    MessageKind,
    QuarantinedMessage,
    StoredMessage,
)
from ticketing.store.base import CHUNK as _CHUNK
from ticketing.store.rows import columns as _columns
from ticketing.store.rows import message as _message
from ticketing.store.rows import quarantined as _quarantined


class MessagesMixin:
    db: pw.Database

    def lock_mailbox(self, mailbox: str, now: datetime) -> None:
        """Inside a transaction, serialise intake of ``mailbox`` across workers."""
        m = self.m
        m.MailboxState.insert(name=mailbox, cursor=None, updated_at=now).on_conflict_ignore().execute()
        query = m.MailboxState.select().where(m.MailboxState.name == mailbox)
        if isinstance(self.db, pw.PostgresqlDatabase):
            query = query.for_update()
        query.first()

    def start_mark(self, mailbox: str, now: datetime, start_at: datetime | None = None) -> datetime:
        """When intake of ``mailbox`` began: what arrived before is history. Set at the first call
        (to ``start_at``, else ``now``) and never changed after."""
        m = self.m
        row = m.MailboxState.get_or_none(m.MailboxState.name == mailbox)
        if row is not None and row.started_at is not None:
            return row.started_at
        mark = start_at or now
        (m.MailboxState.insert(name=mailbox, cursor=None, updated_at=now, started_at=mark)
         .on_conflict(conflict_target=[m.MailboxState.name], update={m.MailboxState.started_at: mark})
         .execute())
        return mark

    def cursor(self, mailbox: str) -> str | None:
        m = self.m
        row = m.MailboxState.get_or_none(m.MailboxState.name == mailbox)
        return row.cursor if row else None

    def set_cursor(self, mailbox: str, cursor: str | None, now: datetime) -> None:
        m = self.m
        (
            m.MailboxState.insert(name=mailbox, cursor=cursor, updated_at=now)
            .on_conflict(conflict_target=[m.MailboxState.name], update={m.MailboxState.cursor: cursor, m.MailboxState.updated_at: now})
            .execute()
        )

    def recorded_keys(self, mailbox: str, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that intake has already handled."""
        m = self.m
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
        self._insert.many_ignoring_conflicts(self.m.IntakeRecord, rows)

    def unacknowledged(self, mailbox: str) -> tuple[list[str], list[str]]:
        """Keys handled but not yet acknowledged to the mailbox: (processed, quarantined)."""
        m = self.m
        processed, quarantined = [], []
        query = m.IntakeRecord.select(m.IntakeRecord.key, m.IntakeRecord.outcome).where(
            (m.IntakeRecord.mailbox == mailbox) & (m.IntakeRecord.acked == False)  # noqa: E712
        )
        for row in query.order_by(m.IntakeRecord.id):
            (quarantined if row.outcome == IntakeOutcome.QUARANTINED.value else processed).append(row.key)
        return processed, quarantined

    def mark_acknowledged(self, mailbox: str, keys: Sequence[str]) -> None:
        """Record that the mailbox was told about ``keys``."""
        m = self.m
        with self.db.atomic():
            if isinstance(self.db, pw.SqliteDatabase):  # in-process: one prepared statement, run per key
                sql = self._statements.get("acknowledge intake")
                if sql is None:
                    sql = self._statements["acknowledge intake"] = m.IntakeRecord.update(acked=True).where(
                        (m.IntakeRecord.mailbox == "") & (m.IntakeRecord.key == "")).sql()[0]
                acked = m.IntakeRecord.acked.db_value(True)
                self.db.cursor().executemany(sql, [(acked, mailbox, key) for key in keys])
                return
            for chunk in pw.chunked(keys, _CHUNK):  # over the network: a round trip per chunk, not per key
                m.IntakeRecord.update(acked=True).where(
                    (m.IntakeRecord.mailbox == mailbox) & (m.IntakeRecord.key.in_(chunk))).execute()

    def existing_dedupe_keys(self, keys: Sequence[str], excluding: int | None = None) -> set[str]:
        """Those of ``keys`` that a stored message already has (not counting message ``excluding``)."""
        m = self.m
        found: set[str] = set()
        for chunk in pw.chunked(list(dict.fromkeys(keys)), _CHUNK):
            query = m.InboundMessage.select(m.InboundMessage.dedupe_key).where(m.InboundMessage.dedupe_key.in_(chunk))
            if excluding is not None:
                query = query.where(m.InboundMessage.id != excluding)
            found.update(row[0] for row in query.tuples())
        return found

    def reserve_message_ids(self, count: int) -> list[int]:
        """``count`` ids for messages about to be stored, inside the caller's transaction: the help
        desk names what a message causes after its id before the message's row is written."""
        if count <= 0:
            return []
        m = self.m
        if isinstance(self.db, pw.PostgresqlDatabase):
            cursor = self.db.execute_sql(
                "SELECT nextval(pg_get_serial_sequence('inbound_message', 'id')) FROM generate_series(1, %s)", (count,))
            return [row[0] for row in cursor.fetchall()]
        if not self.db.in_transaction():  # SQLite: only the write lock a transaction holds keeps the ids ours
            raise RuntimeError("message ids are reserved inside a transaction")
        (last,) = self.rows("last message id", lambda: m.InboundMessage.select(
            pw.fn.COALESCE(pw.fn.MAX(m.InboundMessage.id), pw.SQL("0"))))[0]
        return list(range(last + 1, last + 1 + count))

    def add_message(self, **fields) -> int:
        """Store an inbound message; ``fields`` are the columns of ``InboundMessage``."""
        m = self.m
        return self._insert(m.InboundMessage, _columns(fields))

    def update_message(self, pk: int, **fields) -> None:
        m = self.m
        m.InboundMessage.update(**_columns(fields)).where(m.InboundMessage.id == pk).execute()

    def thread(self, ticket_id: int) -> list[StoredMessage]:
        m = self.m
        query = m.InboundMessage.select().where(m.InboundMessage.ticket == ticket_id).order_by(m.InboundMessage.received_at, m.InboundMessage.id)
        return [_message(row) for row in query]

    def messages(self, kinds: Iterable[MessageKind] | None = None) -> list[StoredMessage]:
        m = self.m
        query = m.InboundMessage.select().order_by(m.InboundMessage.id)
        if kinds is not None:
            query = query.where(m.InboundMessage.kind.in_([k.value for k in kinds]))
        return [_message(row) for row in query]

    def count_messages(self) -> int:
        m = self.m
        return m.InboundMessage.select().count()

    def quarantine(self, message_pk: int, reason: str, detail: str, now: datetime) -> int:
        m = self.m
        return m.Quarantine.insert(message=message_pk, reason=reason, detail=detail, created_at=now).execute()

    def list_quarantine(self, include_released: bool = False) -> list[QuarantinedMessage]:
        m = self.m
        query = m.Quarantine.select(m.Quarantine, m.InboundMessage).join(m.InboundMessage).order_by(m.Quarantine.id)
        if not include_released:
            query = query.where(m.Quarantine.released_at.is_null())
        return [_quarantined(row) for row in query]

    def quarantined(self, quarantine_id: int) -> tuple[QuarantinedMessage, bytes, datetime] | None:
        """One quarantine entry with the raw bytes and arrival time of its message."""
        m = self.m
        row = m.Quarantine.select(m.Quarantine, m.InboundMessage).join(m.InboundMessage).where(m.Quarantine.id == quarantine_id).first()
        if row is None:
            return None
        return _quarantined(row), bytes(row.message.raw), row.message.received_at

    def release_quarantine(self, quarantine_id: int, now: datetime) -> None:
        """Mark a quarantine entry as dealt with (its message was handled on a retry)."""
        m = self.m
        m.Quarantine.update(released_at=now).where(m.Quarantine.id == quarantine_id).execute()

    def discard_quarantine(self, quarantine_id: int, by: str, now: datetime) -> bool:
        """Release a quarantine entry without handling its message (which stays stored, raw bytes
        and all). False when there is no such entry waiting."""
        m = self.m
        return bool(m.Quarantine.update(released_at=now, discarded_by=by)
                    .where((m.Quarantine.id == quarantine_id) & m.Quarantine.released_at.is_null()).execute())

    def update_quarantine(self, quarantine_id: int, reason: str, detail: str) -> None:
        m = self.m
        m.Quarantine.update(reason=reason, detail=detail).where(m.Quarantine.id == quarantine_id).execute()
