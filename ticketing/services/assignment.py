"""Who gets a new ticket, and telling them (the service layer).

:meth:`Assigner.choose` gathers what the pure routing rule needs (each engineer's open load, last
assignment, calendar and days away) and asks :func:`ticketing.core.routing.choose_engineer`;
:meth:`Assigner.notify` queues the notification that hands the ticket over (to the managers when
nobody could be chosen); :meth:`Assigner.page_oncall` also sends a customer's P0/P1 that arrived
outside working hours to the on-call address.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Sequence
from zoneinfo import ZoneInfo

from mailer import Address, Attachment
from ticketing.config import Config
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Ticket
from ticketing.core.mails import Mails
from ticketing.core.meeting_calendars import covers
from ticketing.core.routing import Assignment, Candidate, choose_engineer, oncall_reason
from ticketing.services.outbox import Outbox
from ticketing.store import SqlStore


class Assigner:
    def __init__(self, store: SqlStore, config: Config, calendars: dict[str, BusinessCalendar], mails: Mails,
                 outbox: Outbox):
        self.store = store
        self.config = config
        self.calendars = calendars
        self.mails = mails
        self.outbox = outbox

    def choose(self, priority: str, account_engineer: str | None, now: datetime,
               binding: BusinessCalendar | None = None) -> Assignment:
        """Choose the engineer for a new ticket (see :mod:`ticketing.core.routing`); ``binding``, a
        playbook's calendar, is served by the engineers whose hours cover at least half of it."""
        if not self.config.engineers:
            return choose_engineer(priority, account_engineer, ())
        emails = [e.email for e in self.config.engineers]
        loads = self.store.open_loads(emails)
        last = self.store.last_assignments(emails)
        candidates = []
        for engineer in self.config.engineers:
            calendar = self.calendars[engineer.calendar or self.config.calendar(None).name]
            today = now.astimezone(calendar.tz).date()
            away = today in engineer.out_of_office
            candidates.append(Candidate(
                email=engineer.email, open_load=loads.get(engineer.email.lower(), 0),
                last_assigned_at=last.get(engineer.email.lower()), out_of_office=away,
                working_now=not away and calendar.is_open(now),
                serves=binding is None or covers(calendar, binding, today),
            ))
        return choose_engineer(priority, account_engineer, tuple(candidates))

    def notify(self, ticket: Ticket, sender: Address | None, text: str, assignment: Assignment, now: datetime,
               headline: str | None = None, attachments: Sequence[Attachment] = (),
               files: Sequence[tuple[str, str, bytes]] = (), plan: dict | None = None,
               left_out: Sequence[str] = ()) -> None:
        """Hand ``ticket`` to the chosen engineer, or to every manager when nobody was chosen;
        ``plan`` is an engagement's meetings (see :meth:`Mails.notification`). Times read in each
        recipient's zone."""
        recipients = [assignment.engineer] if assignment.engineer else [m.email for m in self.config.managers]
        for email in recipients:
            self.outbox.queue(self.mails.notification(
                ticket, self.address(email), customer=who(sender), text=text or "(no text)",
                attachments=[a.listing() for a in attachments], account=ticket.account,
                assignment=f"{assignment.engineer or 'nobody'}: {assignment.reason}", reasons=ticket.reasons,
                refers_to=f"ticket {ticket.refers_to}" if ticket.refers_to else None, headline=headline, files=files,
                plan=plan, tz=ZoneInfo(self.config.timezone_of(email) or "UTC"), left_out=left_out,
            ), now)

    def page_oncall(self, ticket: Ticket, sender: Address | None, text: str, assignment: Assignment,
                    now: datetime, files: Sequence[tuple[str, str, bytes]] = ()) -> bool:
        """Send a customer's urgent ticket that arrived outside working hours to ``[support] oncall``
        as well (see :func:`ticketing.core.routing.oncall_reason`); True when it was sent."""
        oncall = self.config.support.oncall
        why = oncall_reason(ticket.priority, assignment) if oncall else None
        if why is None:
            return False
        draft = self.mails.notification(
            ticket, Address("On-call", oncall), customer=who(sender), text=text or "(no text)", attachments=[],
            account=ticket.account, assignment=f"{assignment.engineer or 'nobody'}: {assignment.reason}",
            reasons=(*ticket.reasons, f"on-call paged: {why}"), refers_to=None,
            headline=f"On-call: {why}", files=files)
        self.outbox.queue(replace(draft, purpose="oncall", token=f"oncall.{ticket.id}"), now)
        return True

    def address(self, email: str) -> Address:
        """``email`` with the name of the configured engineer or manager it belongs to."""
        person = self.config.person(email)
        return Address(person.name if person else "", email)


def who(address: Address | None) -> str:
    """A sender as a notification names them."""
    if address is None:
        return "(unknown sender)"
    return f"{address.name} <{address.email}>" if address.name else address.email
