"""The figures ``whiteglove status`` and the worker's heartbeat report: counts, not rows."""
from __future__ import annotations

from datetime import datetime

import peewee as pw

from ticketing.core.domain import OutboxStatus


class StatusMixin:
    db: pw.Database

    def outbox_counts(self) -> dict[OutboxStatus, int]:
        """How many outgoing messages are in each state (every state, 0 for none)."""
        m = self.m
        counts = dict.fromkeys(OutboxStatus, 0)
        query = (m.OutboundMessage.select(m.OutboundMessage.status, pw.fn.COUNT(m.OutboundMessage.id))
                 .group_by(m.OutboundMessage.status).tuples())
        for status, count in query:
            counts[OutboxStatus(status)] = count
        return counts

    def last_sent_at(self) -> datetime | None:
        """When an outgoing message was last sent; None before the first."""
        m = self.m
        value = (m.OutboundMessage.select(pw.fn.MAX(m.OutboundMessage.sent_at))
                 .where(m.OutboundMessage.status == OutboxStatus.SENT.value).scalar())
        return m.OutboundMessage.sent_at.python_value(value) if value is not None else None

    def quarantine_count(self) -> int:
        """How many quarantined messages wait for someone (not released by a retry)."""
        m = self.m
        return m.Quarantine.select().where(m.Quarantine.released_at.is_null()).count()
