"""Breaking mail loops (the service layer): counts what went out in answer, stops what is past a limit.

:class:`LoopGuard` is asked by :class:`~ticketing.services.outbox.Outbox` about every mail of
:data:`~ticketing.core.loops.REPLIES` queued while inbound mail is handled. It counts, in the
outbox, the answers on the mail's ticket and to each outside recipient in the last hour
(:func:`~ticketing.core.loops.tripped` decides). Past a limit the outbox records the mail as
``suppressed`` with the reason; the guard then logs a ``loop_broken`` event on the ticket (once
per ticket and clock hour) and queues the note to the engineer, else the managers, whose token
makes it go once per hour whatever restarts happen. Everything runs in the caller's unit of work.
"""
from __future__ import annotations

import logging
from datetime import datetime

from mailer import Address
from ticketing.config import Config
from ticketing.core.domain import EventKind
from ticketing.core.loops import (
    REPLIES,
    WINDOW,
    Limits,
    Trip,
    loop_alert,
    tripped,
    window_start,
)
from ticketing.core.mails import Draft, Mails
from ticketing.store import SqlStore

log = logging.getLogger(__name__)


class LoopGuard:
    def __init__(self, store: SqlStore, config: Config, mails: Mails):
        self.store = store
        self.config = config
        self.mails = mails
        self.limits = Limits(config.support.max_replies_per_thread_per_hour, config.support.max_mails_per_sender_per_hour)
        self.internal = ({e.email.lower() for e in config.engineers} | {m.email.lower() for m in config.managers}
                         | {config.support.address.lower()})

    def check(self, draft: Draft, now: datetime, message_id: str) -> Trip | None:
        """The limit ``draft`` would pass, or None when it may go (and for mail that answers nothing,
        or that was queued before under ``message_id``: queueing it again changes nothing)."""
        if draft.purpose not in REPLIES or self.store.outbox_has(message_id):
            return None
        since = now - WINDOW
        purposes = sorted(REPLIES)
        thread = self.store.answers_to_thread(draft.ticket_id, purposes, since) if draft.ticket_id else None
        outside = {a.email for a in (*draft.to, *draft.cc) if a.email.lower() not in self.internal}
        counts = {email: self.store.answers_to(email, purposes, since) for email in outside} \
            if self.limits.per_correspondent else {}
        return tripped(self.limits, thread, counts)

    def broken(self, draft: Draft, trip: Trip, now: datetime, outbox) -> None:
        """``draft`` was stopped by ``trip``: record it on the ticket and tell its engineer (once)."""
        log.warning("mail loop: %s %s not sent (%s)", draft.purpose, draft.token, trip.reason)
        ticket = self.store.get_ticket(draft.ticket_id) if draft.ticket_id else None
        if ticket is not None:
            start = window_start(now)
            if not any(e.kind is EventKind.LOOP_BROKEN and e.at >= start for e in self.store.events(ticket.id)):
                self.store.add_event(ticket.id, EventKind.LOOP_BROKEN, now, "", limit=trip.limit, count=trip.count,
                                     correspondent=trip.correspondent, purpose=draft.purpose,
                                     to=[a.email for a in draft.to])
        for reader in self._readers(ticket.assignee if ticket else None):
            outbox.queue(loop_alert(self.mails, reader, trip=trip, stopped=draft, ticket=ticket, now=now), now)

    def _readers(self, assignee: str | None) -> list[Address]:
        engineer = self.config.engineer(assignee) if assignee else None
        if engineer is not None:
            return [Address(engineer.name, engineer.email)]
        return [Address(m.name, m.email) for m in self.config.managers]
