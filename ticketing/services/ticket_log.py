"""The event log of the tickets one message touches (the service layer).

Every change to a ticket is an event in its log, and the SLA clocks are computed from that log. A
:class:`TicketLog` is made for one unit of work (one inbound message, one pass over refused
recipients): it writes the events and remembers which tickets they touched, so that the clocks of
exactly those are brought up to date before the unit of work commits. No state outlives it.
"""
from __future__ import annotations

from datetime import datetime

from ticketing.core.domain import EventKind
from ticketing.store import SqlStore


class TicketLog:
    def __init__(self, store: SqlStore):
        self.store = store
        self.touched: set[int] = set()

    def event(self, ticket_id: int, kind: EventKind, at: datetime, actor: str = "", **detail) -> None:
        """Add an event to ticket ``ticket_id``'s log."""
        self.store.add_event(ticket_id, kind, at, actor, **detail)
        self.touched.add(ticket_id)

    def settled(self, ticket_id: int) -> None:
        """The clocks of ``ticket_id`` were brought up to date after its last event."""
        self.touched.discard(ticket_id)
