"""Tickets, their threads and their event log."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Callable, Iterable, Sequence

import peewee as pw

from ticketing.core.domain import (
    EventKind,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketStatus,
)
from ticketing.store.base import CHUNK as _CHUNK
from ticketing.store.rows import ticket as _ticket

_OPEN = (TicketStatus.OPEN.value, TicketStatus.PENDING.value)


class _Row:
    """Attribute access to a dict, so a prepared query's row reads like a model instance."""

    def __init__(self, values: dict):
        self.__dict__.update(values)


class TicketsMixin:
    db: pw.Database

    def tickets_for_message_ids(self, message_ids: Sequence[str]) -> dict[str, int]:
        """Map those of ``message_ids`` that belong to a ticket (received or sent) to that ticket."""
        m = self.m
        found: dict[str, int] = {}
        ids = list(dict.fromkeys(message_ids))[:_CHUNK]
        if not ids:
            return found
        for model in (m.InboundMessage, m.OutboundMessage):
            def build(model=model):
                return (model.select(model.message_id, model.ticket)
                        .where(model.message_id.in_([""] * len(ids)) & model.ticket.is_null(False)))
            for message_id, ticket_id in self.rows(f"tickets of {model.__name__} ids/{len(ids)}", build, *ids):
                found.setdefault(message_id, ticket_id)
        return found

    def ticket_exists(self, ticket_id: int) -> bool:
        m = self.m
        return m.Ticket.select(m.Ticket.id).where(m.Ticket.id == ticket_id).exists()

    def create_ticket(self, *, kind: TicketKind, priority: str, subject: str, requester: str, requester_name: str,
                      now: datetime, **extra) -> int:
        """Open a ticket; ``extra`` sets the other columns (account, assignee, reasons ...)."""
        m = self.m
        for key in ("reasons", "assignment"):
            if key in extra and not isinstance(extra[key], str):
                extra[key] = json.dumps(extra[key])
        ticket_id = self._insert(m.Ticket, dict(
            kind=kind.value, status=TicketStatus.OPEN.value, priority=priority, subject=subject,
            requester=requester, requester_name=requester_name, created_at=now, updated_at=now, **extra,
        ))
        assignee = extra.get("assignee")
        loads = self.kept("open loads")
        if loads is not None and assignee in loads:
            loads[assignee] += 1
        last = self.kept("last assignments")
        if last is not None and assignee in last and extra.get("assigned_at") is not None:
            at = m.Ticket.assigned_at.python_value(m.Ticket.assigned_at.db_value(extra["assigned_at"]))  # as stored
            last[assignee] = at if last[assignee] is None else max(last[assignee], at)
        return ticket_id

    def update_ticket(self, ticket_id: int, now: datetime, **changes) -> None:
        """Change columns of a ticket (enums and JSON values are converted) and its ``updated_at``."""
        m = self.m
        for key, value in list(changes.items()):
            if hasattr(value, "value"):
                changes[key] = value.value
            elif key in ("reasons", "assignment") and not isinstance(value, str):
                changes[key] = json.dumps(value)
        m.Ticket.update(updated_at=now, **changes).where(m.Ticket.id == ticket_id).execute()
        if {"status", "assignee", "assigned_at"} & changes.keys():
            self.forget_kept("open loads", "last assignments")  # rare: read again

    def touch_ticket(self, ticket_id: int, now: datetime) -> None:
        m = self.m
        m.Ticket.update(updated_at=now).where(m.Ticket.id == ticket_id).execute()

    def list_tickets(self, status: str | None = None, limit: int | None = None, *, assignee: str | None = None,
                     kind: str | None = None, priority: str | None = None, search: str | None = None,
                     account: str | None = None, requester: str | None = None, since: datetime | None = None,
                     overdue_at: datetime | None = None, after: int | None = None) -> list[Ticket]:
        """Tickets by id matching every filter given. ``search``: in the subject, the requester or any
        message of the thread (any case); ``requester``: a part of the address (``@acme.com``);
        ``overdue_at``: an SLA clock breached, or running past its due time at that moment;
        ``limit``: the newest that many; ``after``: only those numbered above it."""
        conditions = self._ticket_filters(status=status, assignee=assignee, kind=kind, priority=priority,
                                          search=search, account=account, requester=requester, since=since,
                                          overdue_at=overdue_at, after=after)
        return self._tickets_where(*conditions, limit=limit)

    def _ticket_filters(self, *, status, assignee, kind, priority, search, account, requester, since, overdue_at,
                        after) -> list:
        """The conditions of :meth:`list_tickets`' filters."""
        m = self.m
        conditions = [] if after is None else [m.Ticket.id > after]
        if status == "open":
            conditions.append(m.Ticket.status.in_(_OPEN))
        elif status not in (None, "all"):
            conditions.append(m.Ticket.status == status)
        if assignee:
            conditions.append(pw.fn.LOWER(m.Ticket.assignee) == assignee.lower())
        if kind:
            conditions.append(m.Ticket.kind == kind)
        if priority:
            conditions.append(m.Ticket.priority == priority.upper())
        if account:
            conditions.append(pw.fn.LOWER(m.Account.name) == account.lower())
        if requester:
            conditions.append(pw.fn.LOWER(m.Ticket.requester).contains(requester.lower()))
        if since:
            conditions.append(m.Ticket.created_at >= since)
        if search:
            text = search.lower()
            in_thread = m.InboundMessage.select(m.InboundMessage.id).where(
                (m.InboundMessage.ticket == m.Ticket.id)
                & (pw.fn.LOWER(m.InboundMessage.body_text).contains(text)
                   | pw.fn.LOWER(m.InboundMessage.subject).contains(text)))
            conditions.append(pw.fn.LOWER(m.Ticket.subject).contains(text)
                              | pw.fn.LOWER(m.Ticket.requester).contains(text)
                              | pw.fn.LOWER(m.Ticket.requester_name).contains(text)
                              | pw.fn.EXISTS(in_thread))
        if overdue_at:
            breached, running = "breached", "running"  # the states sla_watch stores
            conditions.append(
                (m.Ticket.first_response_state == breached) | (m.Ticket.resolution_state == breached)
                | ((m.Ticket.first_response_state == running) & (m.Ticket.first_response_due < overdue_at))
                | ((m.Ticket.resolution_state == running) & (m.Ticket.resolution_due < overdue_at)))
        return conditions

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        m = self.m
        fields = m.Ticket._meta.sorted_fields

        def build():
            count = m.InboundMessage.select(pw.fn.COUNT(m.InboundMessage.id)).where(m.InboundMessage.ticket == m.Ticket.id)
            return (m.Ticket.select(*fields, m.Account.name, count)
                    .join(m.Account, pw.JOIN.LEFT_OUTER, on=(m.Ticket.account == m.Account.id))
                    .where(m.Ticket.id == 0))

        found = self.rows("ticket by id", build, ticket_id)
        if not found:
            return None
        row = found[0]
        values = {name: value if convert is None or value is None else convert(value)
                  for (name, convert), value in zip(self._ticket_columns(), row)}
        values["account_name"], values["message_count"] = row[len(fields)], row[len(fields) + 1]
        values["account_id"] = values.pop("account")
        return _ticket(_Row(values))

    def _ticket_columns(self) -> list[tuple[str, Callable | None]]:
        """Each ticket column's name and what turns its database value into Python (None: text as is)."""
        columns = self._statements.get("ticket columns")
        if columns is None:
            columns = self._statements["ticket columns"] = [
                (f.name, None if isinstance(f, (pw.CharField, pw.TextField)) else f.python_value)
                for f in self.m.Ticket._meta.sorted_fields]
        return columns

    def _tickets_where(self, *conditions, limit: int | None = None, ascending: bool = False) -> list[Ticket]:
        """Tickets matching ``conditions`` by id; ``limit``: the newest that many (``ascending``: the
        first that many). Rows are read raw and converted here: a model instance per row costs as
        much again."""
        m = self.m
        fields = m.Ticket._meta.sorted_fields
        count = m.InboundMessage.select(pw.fn.COUNT(m.InboundMessage.id)).where(m.InboundMessage.ticket == m.Ticket.id)
        query = (m.Ticket.select(*fields, m.Account.name, count)
                 .join(m.Account, pw.JOIN.LEFT_OUTER, on=(m.Ticket.account == m.Account.id)))
        if conditions:
            query = query.where(*conditions)
        if limit and not ascending:  # the newest ``limit``, in order
            rows = self.db.execute(query.order_by(m.Ticket.id.desc()).limit(limit))
            return sorted((self._ticket_of_row(row) for row in rows), key=lambda t: t.id)
        query = query.order_by(m.Ticket.id)
        return [self._ticket_of_row(row) for row in self.db.execute(query.limit(limit) if limit else query)]

    def _ticket_of_row(self, row: tuple) -> Ticket:
        """A ticket from a row of its columns (in model order), its account's name and its message count."""
        columns = self._ticket_columns()
        values = {name: value if convert is None or value is None else convert(value)
                  for (name, convert), value in zip(columns, row)}
        values["account_name"], values["message_count"] = row[len(columns)], row[len(columns) + 1]
        values["account_id"] = values.pop("account")
        return _ticket(_Row(values))

    def open_tickets_of(self, emails: Iterable[str]) -> list[Ticket]:
        """Open or pending tickets whose requester is one of ``emails``."""
        m = self.m
        emails = [e.lower() for e in emails]
        if not emails:
            return []
        return self._tickets_where(pw.fn.LOWER(m.Ticket.requester).in_(emails), m.Ticket.status.in_(_OPEN))

    # -- routing figures ---------------------------------------------------------------------------

    def open_loads(self, engineers: Sequence[str]) -> dict[str, int]:
        """Open and pending tickets of each of ``engineers`` (as configured), by lower-case address.

        One indexed count each (``ticket(assignee, status)``), which grows with the engineer's open
        tickets: inside a :meth:`transaction` it is counted once and then kept, new tickets added
        (:meth:`create_ticket`) and a change of status or assignee dropping it (:meth:`update_ticket`),
        so a batch of new tickets costs one count per engineer, not one per ticket. Nothing else
        changes the counts meanwhile: on SQLite the unit of work holds the write lock; on
        PostgreSQL another worker's ticket committed meanwhile is counted from the next batch on.
        """
        m = self.m
        kept = self.kept("open loads")
        loads = {}
        for email in engineers:
            if kept is not None and email in kept:
                count = kept[email]
            else:
                [(count,)] = self.rows("open load", lambda: m.Ticket.select(pw.fn.COUNT(m.Ticket.id)).where(
                    (m.Ticket.assignee == "") & m.Ticket.status.in_(["", ""])), email, *_OPEN)
                if kept is not None:
                    kept[email] = count
            loads[email.lower()] = count
        return loads

    def last_assignments(self, engineers: Sequence[str]) -> dict[str, datetime]:
        """When each of ``engineers`` (as configured) was last given a ticket, by lower-case address.

        One indexed look-up each (the newest entry of ``(assignee, assigned_at)``), so the cost does
        not grow with the number of tickets.
        """
        m = self.m
        kept = self.kept("last assignments")  # kept like open_loads' counts
        found: dict[str, datetime] = {}
        for email in engineers:
            if kept is not None and email in kept:
                at = kept[email]
            else:
                [(at,)] = self.rows("last assignment", lambda: m.Ticket.select(pw.fn.MAX(m.Ticket.assigned_at)).where(
                    m.Ticket.assignee == ""), email)
                at = m.Ticket.assigned_at.python_value(at) if at is not None else None
                if kept is not None:
                    kept[email] = at
            if at is not None:
                found[email.lower()] = at
        return found

    # -- threads -----------------------------------------------------------------------------------

    def ticket_members(self, ticket_id: int, _depth: int = 0) -> frozenset[str]:
        """Who belongs on a ticket: its requester, the people on its customer messages, its
        account's contacts and domains (lower-case addresses and bare domains), and those of the
        ticket it refers to (the conversation a stranger's reply split off from)."""
        m = self.m
        found = self.rows("ticket members: ticket", lambda: m.Ticket.select(
            m.Ticket.requester, m.Ticket.account, m.Ticket.refers_to).where(m.Ticket.id == 0), ticket_id)
        if not found:
            return frozenset()
        requester, account_id, refers_to = found[0]
        members = {requester.lower()}
        for sender, cc, to in self.rows("ticket members: messages", lambda: m.InboundMessage.select(
                m.InboundMessage.from_addr, m.InboundMessage.cc_addrs, m.InboundMessage.to_addrs).where(
                (m.InboundMessage.ticket == 0) & (m.InboundMessage.kind.in_(["new", "reply"]))), ticket_id, "new", "reply"):
            members.add(sender.lower())
            members.update(a.lower() for a in f"{cc} {to}".split())
        if account_id:
            members.update(e.lower() for (e,) in self.rows("ticket members: contacts", lambda: m.Contact.select(
                m.Contact.email).where(m.Contact.account == 0), account_id))
            members.update(d for (d,) in self.rows("ticket members: domains", lambda: m.AccountDomain.select(
                m.AccountDomain.domain).where(m.AccountDomain.account == 0), account_id))
        if refers_to and _depth == 0:
            members |= self.ticket_members(refers_to, 1)
        return frozenset(members)

    def customer_thread(self, ticket_id: int) -> list[str]:
        """Message ids of the customer-side thread, oldest first: customer mail and what we sent them."""
        m = self.m
        inbound = (m.InboundMessage.select(m.InboundMessage.message_id, m.InboundMessage.received_at)
                   .where((m.InboundMessage.ticket == ticket_id) & (m.InboundMessage.kind.in_(["new", "reply"]))
                          & m.InboundMessage.message_id.is_null(False)))
        outbound = (m.OutboundMessage.select(m.OutboundMessage.message_id, m.OutboundMessage.created_at)
                    .where((m.OutboundMessage.ticket == ticket_id) & m.OutboundMessage.purpose.in_(["acknowledgement", "relay"])))
        stamp = m.InboundMessage.received_at.python_value
        # At the same moment, what the customer wrote comes before our answer to it.
        entries = [(stamp(at), 0, mid) for mid, at in inbound.tuples()] + [(stamp(at), 1, mid) for mid, at in outbound.tuples()]
        return [mid for _, _, mid in sorted(entries)]

    def last_customer_message(self, ticket_id: int) -> str | None:
        """The Message-ID of the customer's latest message on a ticket (what an answer replies to)."""
        m = self.m
        row = (m.InboundMessage.select(m.InboundMessage.message_id)
               .where((m.InboundMessage.ticket == ticket_id) & (m.InboundMessage.kind.in_(["new", "reply"]))
                      & m.InboundMessage.message_id.is_null(False))
               .order_by(m.InboundMessage.received_at.desc(), m.InboundMessage.id.desc()).first())
        return row.message_id if row else None

    def engineer_thread(self, ticket_id: int) -> list[str]:
        """Message ids of what we sent engineers about a ticket, oldest first."""
        m = self.m
        query = (m.OutboundMessage.select(m.OutboundMessage.message_id)
                 .where((m.OutboundMessage.ticket == ticket_id) & m.OutboundMessage.purpose.in_(["notification", "update", "commands"]))
                 .order_by(m.OutboundMessage.created_at, m.OutboundMessage.id))
        return [mid for (mid,) in query.tuples()]

    # -- events ------------------------------------------------------------------------------------

    def add_event(self, ticket_id: int, kind: EventKind, at: datetime, actor: str = "", **detail) -> None:
        m = self.m
        self._insert(m.TicketEvent, dict(ticket=ticket_id, at=at, kind=kind.value, actor=actor,
                                         detail=json.dumps(detail, default=str)))

    def events(self, ticket_id: int) -> list[TicketEvent]:
        m = self.m
        at = m.TicketEvent.at.python_value
        rows = self.rows("events", lambda: m.TicketEvent.select(
            m.TicketEvent.at, m.TicketEvent.kind, m.TicketEvent.actor, m.TicketEvent.detail).where(
            m.TicketEvent.ticket == 0).order_by(m.TicketEvent.at, m.TicketEvent.id), ticket_id)
        return [TicketEvent(at(when), EventKind(kind), actor, json.loads(detail or "{}")) for when, kind, actor, detail in rows]

    # -- SLA ---------------------------------------------------------------------------------------

    def ticket_account_id(self, ticket_id: int) -> int | None:
        m = self.m
        found = self.rows("ticket account", lambda: m.Ticket.select(m.Ticket.account).where(m.Ticket.id == 0), ticket_id)
        return found[0][0] if found else None

    def set_sla(self, ticket_id: int, *, policy: str | None, first_response_due: datetime | None,
                resolution_due: datetime | None, first_response_state: str, resolution_state: str,
                next_check: datetime | None) -> None:
        """Store a ticket's derived SLA figures (they change only when its events do)."""
        m = self.m
        value = m.Ticket.first_response_due.db_value
        sample = datetime(2000, 1, 1, tzinfo=timezone.utc)
        self.rows("set sla", lambda: m.Ticket.update(
            sla_policy="", first_response_due=sample, resolution_due=sample, first_response_state="",
            resolution_state="", next_sla_check=sample).where(m.Ticket.id == 0),
            policy, value(first_response_due), value(resolution_due), first_response_state, resolution_state,
            value(next_check), ticket_id)

    def tickets_to_check(self, now: datetime, limit: int = 1000) -> list[int]:
        """Tickets whose next SLA notice may have fallen due (by the ``next_sla_check`` index)."""
        m = self.m
        query = (m.Ticket.select(m.Ticket.id).where(m.Ticket.next_sla_check.is_null(False) & (m.Ticket.next_sla_check <= now))
                 .order_by(m.Ticket.next_sla_check).limit(limit))
        return [ticket_id for (ticket_id,) in query.tuples()]

    def sla_notices_sent(self, ticket_id: int) -> set[tuple[str, str]]:
        m = self.m
        return {(clock, kind) for clock, kind in self.rows("sla notices sent", lambda: m.SlaNotice.select(
            m.SlaNotice.clock, m.SlaNotice.kind).where(m.SlaNotice.ticket == 0), ticket_id)}

    def record_sla_notice(self, ticket_id: int, clock: str, kind: str, recipient: str, due_at: datetime,
                          now: datetime) -> None:
        m = self.m
        m.SlaNotice.insert(ticket=ticket_id, clock=clock, kind=kind, recipient=recipient, due_at=due_at,
                           sent_at=now).on_conflict_ignore().execute()

    def sla_notices(self, ticket_id: int) -> list[dict]:
        m = self.m
        return [{"clock": n.clock, "kind": n.kind, "recipient": n.recipient, "sent_at": n.sent_at.isoformat()}
                for n in m.SlaNotice.select().where(m.SlaNotice.ticket == ticket_id).order_by(m.SlaNotice.id)]
