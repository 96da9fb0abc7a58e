"""A go-live intent's priority follows its day (the service layer): as the cut-over nears, the
sweep raises it (:func:`~ticketing.core.priority.golive_priority` decides), and when the customer
moves the day, :meth:`GoLiveUrgency.reprioritise` sets it anew. Each change is an event in the
ticket's log by ``whiteglove``, and the SLA clocks are re-targeted in the same unit of work."""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from ticketing.config import Config
from ticketing.core.domain import EventKind, Ticket, TicketKind
from ticketing.core.priority import golive_priority
from ticketing.services.sla_watch import SlaWatch
from ticketing.services.ticket_log import TicketLog
from ticketing.store import SqlStore

log = logging.getLogger(__name__)

ACTOR = "whiteglove"


class GoLiveUrgency:
    def __init__(self, store: SqlStore, config: Config, sla: SlaWatch | None):
        self.store = store
        self.config = config
        self.sla = sla

    def sweep(self, now: datetime) -> int:
        """Raise the priority of every open go-live intent whose day came near; return how many."""
        raised = 0
        with self.store.transaction():
            ticket_log = TicketLog(self.store)
            for ticket in self.store.list_tickets(status="open", kind=TicketKind.GOLIVE_INTENT.value):
                if self.reprioritise(ticket, now, ticket_log, only_up=True):
                    raised += 1
            if self.sla is not None and ticket_log.touched:
                self.sla.refresh(ticket_log.touched, now)
        return raised

    def reprioritise(self, ticket: Ticket, now: datetime, ticket_log: TicketLog, only_up: bool = False) -> bool:
        """Set ``ticket``'s priority from its go-live day as seen today in the account's zone
        (``only_up``: never lower it, for the sweep: an engineer's #priority stands)."""
        if ticket.golive_date is None:
            return False
        priority, why = golive_priority(ticket.golive_date, now.astimezone(self._zone(ticket)).date(),
                                        self.config.priorities)
        if priority == ticket.priority or (only_up and priority > ticket.priority):
            return False
        self.store.update_ticket(ticket.id, now, priority=priority)
        ticket_log.event(ticket.id, EventKind.PRIORITY_CHANGED, now, ACTOR, previous=ticket.priority,
                         priority=priority, reason=why)
        log.info("WG-%s: priority %s -> %s (%s)", ticket.id, ticket.priority, priority, why)
        return True

    def _zone(self, ticket: Ticket) -> ZoneInfo:
        account_id = self.store.ticket_account_id(ticket.id)
        account = self.store.get_account(account_id) if account_id else None
        try:
            return ZoneInfo(account.timezone if account else "UTC")
        except (ValueError, KeyError):
            return ZoneInfo("UTC")
