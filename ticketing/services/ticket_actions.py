"""Changing a ticket on someone's word: an engineer's ``#command`` in a reply, or the operator's
``whiteglove ticket ID ACTION`` (the service layer).

Both go through :meth:`TicketActions.carry_out`, so a change made from the command line is the same
event, with the same mails, as one made by mail; only the actor differs.
"""
from __future__ import annotations

from datetime import datetime

from ticketing.config import Config
from ticketing.core.commands import Command
from ticketing.core.domain import EventKind, Ticket, TicketStatus
from ticketing.core.mails import Mails
from ticketing.errors import NotFound
from ticketing.services.assignment import Assigner
from ticketing.services.outbox import Outbox
from ticketing.services.sla_watch import SlaWatch
from ticketing.services.ticket_log import TicketLog
from ticketing.store import SqlStore


class TicketActions:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox, assigner: Assigner,
                 sla: SlaWatch | None = None):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.assigner = assigner
        self.sla = sla

    def by_operator(self, ticket_id: int, command: Command, actor: str, now: datetime) -> str:
        """One unit of work: carry out ``command`` on ticket ``ticket_id`` for ``actor`` (the operator),
        bring its SLA clocks up to date, and say what was done. Raises :class:`NotFound`."""
        with self.store.transaction():
            ticket = self.store.get_ticket(ticket_id)
            if ticket is None:
                raise NotFound(f"no ticket {ticket_id}")
            log = TicketLog(self.store)
            done = self.carry_out(ticket, command, actor, now, log)
            if self.sla is not None and log.touched:
                self.sla.refresh(log.touched, now)
        return done

    def carry_out(self, ticket: Ticket, cmd: Command, actor: str, now: datetime, log: TicketLog) -> str:
        """Carry out one command; return what it did, in words."""
        if cmd.name == "resolve":
            self.store.update_ticket(ticket.id, now, status=TicketStatus.RESOLVED, resolved_at=now)
            log.event(ticket.id, EventKind.RESOLVED, now, actor)
            return "resolved"
        if cmd.name == "pending":
            self.store.update_ticket(ticket.id, now, status=TicketStatus.PENDING)
            log.event(ticket.id, EventKind.PENDING, now, actor)
            return "pending: waiting on the customer"
        if cmd.name == "open":
            self.store.update_ticket(ticket.id, now, status=TicketStatus.OPEN, resolved_at=None)
            log.event(ticket.id, EventKind.REOPENED, now, actor, previous=ticket.status.value)
            return "opened"
        if cmd.name == "priority":
            self.store.update_ticket(ticket.id, now, priority=cmd.argument)
            log.event(ticket.id, EventKind.PRIORITY_CHANGED, now, actor, previous=ticket.priority,
                      priority=cmd.argument)
            return f"priority {ticket.priority} -> {cmd.argument}"
        if cmd.name == "assign":
            return self._assign(ticket, cmd, actor, now, log)
        if cmd.name == "note":
            log.event(ticket.id, EventKind.NOTE, now, actor, text=cmd.argument[:4000])  # a note, not a novel
            return "note added"
        raise AssertionError(cmd.name)  # parse_commands only returns known commands

    def _assign(self, ticket: Ticket, cmd: Command, actor: str, now: datetime, log: TicketLog) -> str:
        target = self.config.engineer(cmd.argument)
        if target is None:
            log.event(ticket.id, EventKind.COMMAND_REJECTED, now, actor, command=f"#assign {cmd.argument}",
                      reason="not a configured engineer")
            return f"#assign {cmd.argument}: not a configured engineer, nothing changed"
        self.store.update_ticket(ticket.id, now, assignee=target.email, assigned_at=now,
                                 assignment={"engineer": target.email, "reason": f"assigned by {actor}", "candidates": []})
        log.event(ticket.id, EventKind.ASSIGNED, now, actor, engineer=target.email, reason=f"#assign by {actor}")
        moved = self.store.get_ticket(ticket.id)
        self.outbox.queue(self.mails.notification(
            moved, self.assigner.address(target.email), customer=f"{ticket.requester_name} <{ticket.requester}>".strip(),
            text=f"{actor} assigned this ticket to you.", attachments=[], account=ticket.account,
            assignment=f"{target.email}: assigned by {actor}", reasons=ticket.reasons, refers_to=None,
            headline=f"{actor} handed you {moved.subject!r}",
        ), now)
        return f"assigned to {target.email}"
