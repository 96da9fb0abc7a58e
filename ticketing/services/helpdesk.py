"""The help desk: what an inbound message causes (the service layer).

:meth:`HelpDesk.receive` runs inside intake's savepoint for one message: it looks up what the pure
core needs (the thread, the sender's account, the ticket's members), asks
:func:`ticketing.core.classify.classify` what the message is, and carries that out: tickets, accounts,
engagements, events, and the mail to queue. Everything it does commits with the message or not at
all, so a crash can neither lose the mail nor send it twice.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from mailer import (
    Address,
    ParsedMessage,
    Verdict,
    file_attachments,
    new_text,
    read_answers,
    recognise,
    safe_address,
    sender_verified,
    text_attachments,
)
from ticketing.config import Config
from ticketing.core.calendars import BusinessCalendar, zone
from ticketing.core.classify import Classification, Context, Sender, classify
from ticketing.core.commands import parse_commands
from ticketing.core.domain import (
    EventKind,
    MessageKind,
    OutgoingMail,
    Ticket,
    TicketKind,
    TicketStatus,
)
from ticketing.core.mails import MARKER_PREFIX, Mails, slug
from ticketing.core.notices import looks_like_notice, read_notice
from ticketing.core.routing import Assignment, Candidate, choose_engineer
from ticketing.core.threads import (
    clean_subject,
    match_thread,
    tagged_ticket,
    thread_ids,
)
from ticketing.services.onboarding import Onboarding
from ticketing.services.outbox import Outbox
from ticketing.services.sla_watch import SlaWatch
from ticketing.store import SqlStore

log = logging.getLogger(__name__)

#: Stores the inbound message once its kind and ticket are known; returns its primary key.
SaveMessage = Callable[[MessageKind, "int | None", tuple, Verdict], int]


class Unhandleable(Exception):
    """A message that is well formed enough to store but cannot be acted on; the text says why."""


@dataclass(frozen=True)
class Received:
    """What :meth:`HelpDesk.receive` made of a message."""

    kind: MessageKind
    ticket_id: int | None
    tickets_created: int


class HelpDesk:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox,
                 calendars: dict[str, BusinessCalendar], onboarding: Onboarding | None = None,
                 sla: SlaWatch | None = None):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.calendars = calendars
        #: Plans engagements' meetings; None for a desk without playbooks (backfills, tests of intake).
        self.onboarding = onboarding
        #: Keeps tickets' SLA clocks; None for a desk without SLA policies.
        self.sla = sla
        self._touched: set[int] = set()
        self.own = (config.support.address.lower(),)
        self.trusted = {a.lower() for a in config.security.trusted_notice_senders}
        self.internal = {e.email.lower() for e in config.engineers} | {m.email.lower() for m in config.managers}

    # -- the entry point ---------------------------------------------------------------------------

    def receive(self, parsed: ParsedMessage, raw: bytes, received_at: datetime, now: datetime, save: SaveMessage) -> Received:
        """Handle one message (see the module docstring); then bring the SLA clocks of every ticket
        whose events changed up to date, in the same unit of work."""
        self._touched = set()
        received = self._receive(parsed, raw, received_at, now, save)
        if self.sla is not None and self._touched:
            self.sla.refresh(self._touched, now)
        return received

    def _event(self, ticket_id: int, kind: EventKind, at: datetime, actor: str = "", **detail) -> None:
        self.store.add_event(ticket_id, kind, at, actor, **detail)
        self._touched.add(ticket_id)

    def _receive(self, parsed: ParsedMessage, raw: bytes, received_at: datetime, now: datetime, save: SaveMessage) -> Received:
        verdict = recognise(parsed, own_addresses=self.own)
        ids = thread_ids(parsed)
        known = self.store.tickets_for_message_ids(ids) if ids else {}
        tag = tagged_ticket(parsed.subject)
        thread = match_thread(parsed, known, tag is not None and self.store.ticket_exists(tag))
        sender = self._sender(parsed)
        account = None
        if sender.email and not sender.is_engineer and sender.email.lower() not in self.trusted:
            account = self.store.account_for_address(sender.email)
        text = new_text(parsed.text, MARKER_PREFIX)
        notice = None
        if verdict.origin.value == "human" and looks_like_notice(parsed.subject, parsed.text):
            attachments = text_attachments(raw) if any(_is_data(a.filename) for a in parsed.attachments) else []
            notice = read_notice(parsed.subject, parsed.text, parsed.html, attachments)
        context = Context(
            tier=account.tier if account else None,
            timezone=ZoneInfo(account.timezone if account else "UTC"),
            members=self.store.ticket_members(thread.ticket_id) if thread else frozenset(),
        )
        c = classify(parsed, verdict, thread, text, sender, context, notice, received_at, self.config.priorities)
        if c.kind is MessageKind.BOUNCE:
            return self._bounce(parsed, verdict, c, now, save)
        if c.kind is MessageKind.CALENDAR:
            return self._calendar_answer(parsed, raw, verdict, c, now, save)
        if c.kind is MessageKind.AUTOMATED:
            save(c.kind, c.ticket_id, c.reasons, verdict)
            return Received(c.kind, c.ticket_id, 0)
        if c.kind is MessageKind.NOTICE:
            return self._notice(parsed, verdict, c, received_at, now, save)
        if c.kind is MessageKind.ENGINEER_REPLY:
            return self._engineer_reply(parsed, raw, verdict, c, text, now, save)
        if c.kind is MessageKind.REPLY:
            return self._customer_reply(parsed, raw, verdict, c, text, received_at, now, save)
        return self._new_ticket(parsed, raw, verdict, c, text, account, received_at, now, save)

    def _sender(self, parsed: ParsedMessage) -> Sender:
        email = parsed.from_.email if parsed.from_ else None
        if email is None:
            return Sender(None)
        lower = email.lower()
        is_engineer = self.config.engineer(lower) is not None
        trusted = lower in self.trusted
        verified, why = None, ""
        security = self.config.security
        if security.require_authentication and (is_engineer or trusted):
            headers = [v for k, v in parsed.headers if k == "authentication-results"]
            verified, why = sender_verified(headers, security.authserv_id or "", lower.rpartition("@")[2])
        return Sender(email, is_engineer, trusted, verified, why)

    # -- new tickets -------------------------------------------------------------------------------

    def _new_ticket(self, parsed, raw: bytes, verdict, c: Classification, text: str, account, received_at, now, save) -> Received:
        if parsed.from_ is None:
            raise Unhandleable("no sender address: nobody to open a ticket for")
        requester = parsed.from_
        assignment = self.assign(c.priority or self.config.priorities.default, account.engineer if account else None, now)
        golive = c.golive
        ticket_id = self.store.create_ticket(
            kind=c.ticket_kind or TicketKind.SUPPORT, priority=c.priority or self.config.priorities.default,
            subject=clean_subject(parsed.subject) or "(no subject)", requester=requester.email,
            requester_name=requester.name, now=received_at, account=account.id if account else None,
            assignee=assignment.engineer, assigned_at=now if assignment.engineer else None, review=c.review,
            reasons=list(c.reasons), assignment=assignment.as_json(), refers_to=c.refers_to,
            cutover_date=golive.cutover_date if golive else None, cutover_text=(golive.date_text or "") if golive else "",
        )
        self._event(ticket_id, EventKind.CREATED, received_at, requester.email, message=c.kind.value)
        if assignment.engineer:
            self._event(ticket_id, EventKind.ASSIGNED, now, "", engineer=assignment.engineer, reason=assignment.reason)
        pk = save(MessageKind.NEW, ticket_id, c.reasons, verdict)
        if c.refers_to:
            self._event(c.refers_to, EventKind.REFERRED, now, requester.email, ticket=ticket_id)
        if golive and account:
            self._record_golive(account.id, ticket_id, golive, now)
        if self.sla is not None:
            self.sla.refresh([ticket_id], now)  # so that the notification carries the due times
            self._touched.discard(ticket_id)  # up to date: nothing below adds an event to it
        ticket = self.store.get_ticket(ticket_id)
        self._notify_new(ticket, parsed, text, assignment, now, files=_files(parsed, raw))
        if self._may_acknowledge(ticket, c, now):
            engineer = self.config.engineer(assignment.engineer) if assignment.engineer else None
            thread = [parsed.message_id] if parsed.message_id else []
            self.outbox.queue(self.mails.acknowledgement(ticket, requester, engineer_name=engineer.name if engineer else None,
                                                         thread=thread), now)
        log.debug("ticket %s opened by message %s", ticket_id, pk)
        return Received(MessageKind.NEW, ticket_id, 1)

    def _notify_new(self, ticket: Ticket, parsed: ParsedMessage, text: str, assignment: Assignment, now: datetime,
                    headline: str | None = None, files: Sequence[tuple[str, str, bytes]] = ()) -> None:
        recipients = [assignment.engineer] if assignment.engineer else [m.email for m in self.config.managers]
        customer = _who(parsed.from_)
        for email in recipients:
            self.outbox.queue(self.mails.notification(
                ticket, self._person(email), customer=customer, text=text or "(no text)",
                attachments=[vars(a) for a in parsed.attachments], account=ticket.account,
                assignment=f"{assignment.engineer or 'nobody'}: {assignment.reason}", reasons=ticket.reasons,
                refers_to=f"ticket {ticket.refers_to}" if ticket.refers_to else None, headline=headline, files=files,
            ), now)

    def _may_acknowledge(self, ticket: Ticket, c: Classification, now: datetime) -> bool:
        support = self.config.support
        requester = ticket.requester.lower()
        if not support.acknowledge or c.review or requester in self.internal or requester in self.trusted:
            return False
        if not deliverable(ticket.requester):
            log.info("ticket %s: no acknowledgement, %r is not an address we can send to", ticket.id, ticket.requester)
            return False
        contact = self.store.contact(requester)
        if contact is not None and contact.failing_since is not None:
            return False
        recent = self.store.sent_count("acknowledgement", ticket.requester, now - timedelta(hours=1))
        return recent < support.acknowledgements_per_hour

    # -- routing -----------------------------------------------------------------------------------

    def assign(self, priority: str, account_engineer: str | None, now: datetime) -> Assignment:
        """Choose the engineer for a new ticket (see :mod:`ticketing.core.routing`)."""
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
            ))
        return choose_engineer(priority, account_engineer, tuple(candidates))

    # -- replies -----------------------------------------------------------------------------------

    def _customer_reply(self, parsed, raw: bytes, verdict, c: Classification, text: str, received_at, now, save) -> Received:
        ticket = self.store.get_ticket(c.ticket_id)
        pk = save(MessageKind.REPLY, ticket.id, c.reasons, verdict)
        sender = parsed.from_.email if parsed.from_ else ""
        self._event(ticket.id, EventKind.CUSTOMER_REPLIED, received_at, sender)
        if ticket.status is not TicketStatus.OPEN:
            self.store.update_ticket(ticket.id, now, status=TicketStatus.OPEN, resolved_at=None)
            self._event(ticket.id, EventKind.REOPENED, received_at, sender, previous=ticket.status.value)
        else:
            self.store.touch_ticket(ticket.id, now)
        commands = parse_commands(text)
        if commands.commands or commands.problems:
            self._event(ticket.id, EventKind.COMMAND_IGNORED, now, sender,
                                 commands=[f"#{cmd.name} {cmd.argument}".strip() for cmd in commands.commands],
                                 reason="commands are honoured only from engineers")
        cutover = None
        if c.golive and c.golive.cutover_date and c.golive.cutover_date != ticket.cutover_date:
            cutover = f"{c.golive.cutover_date.isoformat()} (\u201c{c.golive.date_text}\u201d)"
            self.store.update_ticket(ticket.id, now, cutover_date=c.golive.cutover_date, cutover_text=c.golive.date_text or "")
            self._event(ticket.id, EventKind.CUTOVER_CHANGED, now, sender,
                                 cutover_date=c.golive.cutover_date.isoformat(), previous=str(ticket.cutover_date))
            account = self.store.account_for_address(sender) if sender else None
            if account:
                self._record_golive(account.id, ticket.id, c.golive, now)
        ticket = self.store.get_ticket(ticket.id)
        recipients = [ticket.assignee] if ticket.assignee else [m.email for m in self.config.managers]
        for email in recipients:
            self.outbox.queue(self.mails.update(
                ticket, self._person(email), inbound_pk=pk, customer=_who(parsed.from_), text=text or "(no text)",
                attachments=[vars(a) for a in parsed.attachments], thread=self.store.engineer_thread(ticket.id),
                cutover=cutover, files=_files(parsed, raw),
            ), now)
        return Received(MessageKind.REPLY, ticket.id, 0)

    def _engineer_reply(self, parsed, raw: bytes, verdict, c: Classification, text: str, now, save) -> Received:
        ticket = self.store.get_ticket(c.ticket_id)
        engineer = parsed.from_.email
        pk = save(MessageKind.ENGINEER_REPLY, ticket.id, c.reasons, verdict)
        commands = parse_commands(text)
        problems = commands.problems
        results = [self._run(ticket, cmd, engineer, now) for cmd in commands.commands]
        copy = self._is_copy_to_customer(parsed)
        relayed = False
        customer_facing = ticket.kind is not TicketKind.CONTRACT_CLOSED
        if copy:
            self._answered(ticket, engineer, now, copy=True)
        elif commands.relay and customer_facing and not deliverable(ticket.requester):
            self._event(ticket.id, EventKind.COMMAND_REJECTED, now, engineer,
                                 reason=f"the answer was not sent: {ticket.requester!r} is not an address we can send to")
        elif commands.relay and customer_facing:
            customers = [Address(ticket.requester_name, ticket.requester)]
            files, left_out = file_attachments(raw) if parsed.attachments else ([], [])
            draft = self.mails.relay(ticket, self._person(engineer), customers, inbound_pk=pk, text=commands.body,
                                     thread=self.store.customer_thread(ticket.id),
                                     answers=self.store.last_customer_message(ticket.id), attachments=files)
            relayed = self.outbox.queue(draft, now) is not None
            self._answered(ticket, engineer, now, copy=False)
            if left_out:
                problems = (*problems, f"not sent, too large: {', '.join(left_out)}")
        if problems:
            self.outbox.queue(self.mails.command_results(
                ticket, self._person(engineer), inbound_pk=pk, results=[r for r in results if r],
                problems=problems, relayed=relayed, thread=self.store.engineer_thread(ticket.id),
            ), now)
        self.store.touch_ticket(ticket.id, now)
        return Received(MessageKind.ENGINEER_REPLY, ticket.id, 0)

    def _is_copy_to_customer(self, parsed: ParsedMessage) -> bool:
        """The customer got this straight from the engineer (To or Cc), support only a copy: do not relay it."""
        recipients = {a.email.lower() for a in (*parsed.to, *parsed.cc)}
        return any(a not in self.internal and a not in self.own for a in recipients)

    def _answered(self, ticket: Ticket, engineer: str, now: datetime, copy: bool) -> None:
        self._event(ticket.id, EventKind.ENGINEER_REPLIED, now, engineer, copy=copy)
        if ticket.first_response_at is None:
            self.store.update_ticket(ticket.id, now, first_response_at=now)

    def _run(self, ticket: Ticket, cmd, engineer: str, now: datetime) -> str:
        """Carry out one command; return what it did, in words."""
        if cmd.name == "resolve":
            self.store.update_ticket(ticket.id, now, status=TicketStatus.RESOLVED, resolved_at=now)
            self._event(ticket.id, EventKind.RESOLVED, now, engineer)
            return "resolved"
        if cmd.name == "pending":
            self.store.update_ticket(ticket.id, now, status=TicketStatus.PENDING)
            self._event(ticket.id, EventKind.PENDING, now, engineer)
            return "pending: waiting on the customer"
        if cmd.name == "open":
            self.store.update_ticket(ticket.id, now, status=TicketStatus.OPEN, resolved_at=None)
            self._event(ticket.id, EventKind.REOPENED, now, engineer, previous=ticket.status.value)
            return "opened"
        if cmd.name == "priority":
            self.store.update_ticket(ticket.id, now, priority=cmd.argument)
            self._event(ticket.id, EventKind.PRIORITY_CHANGED, now, engineer, previous=ticket.priority,
                                 priority=cmd.argument)
            return f"priority {ticket.priority} -> {cmd.argument}"
        if cmd.name == "assign":
            target = self.config.engineer(cmd.argument)
            if target is None:
                self._event(ticket.id, EventKind.COMMAND_REJECTED, now, engineer, command=f"#assign {cmd.argument}",
                                     reason="not a configured engineer")
                return f"#assign {cmd.argument}: not a configured engineer, nothing changed"
            self.store.update_ticket(ticket.id, now, assignee=target.email, assigned_at=now,
                                     assignment={"engineer": target.email, "reason": f"assigned by {engineer}", "candidates": []})
            self._event(ticket.id, EventKind.ASSIGNED, now, engineer, engineer=target.email, reason=f"#assign by {engineer}")
            moved = self.store.get_ticket(ticket.id)
            self.outbox.queue(self.mails.notification(
                moved, self._person(target.email), customer=f"{ticket.requester_name} <{ticket.requester}>".strip(),
                text=f"{engineer} assigned this ticket to you.", attachments=[], account=ticket.account,
                assignment=f"{target.email}: assigned by {engineer}", reasons=ticket.reasons, refers_to=None,
                headline=f"{engineer} handed you {moved.subject!r}",
            ), now)
            return f"assigned to {target.email}"
        if cmd.name == "note":
            self._event(ticket.id, EventKind.NOTE, now, engineer, text=cmd.argument)
            return "note added"
        raise AssertionError(cmd.name)  # parse_commands only returns known commands

    # -- notices and bounces ------------------------------------------------------------------------

    def _notice(self, parsed, verdict, c: Classification, received_at, now, save) -> Received:
        notice = c.notice
        configured = notice.engineer if notice.engineer and self.config.engineer(notice.engineer) else None
        account_id = self.store.save_account(name=notice.account, tier=notice.tier, engineer=None,
                                             timezone=notice.timezone if zone(notice.timezone) else None,
                                             origin="notice", now=now)
        self.store.add_domains(account_id, notice.domains)
        for contact in notice.contacts:
            self.store.save_contact(account_id, contact.email, contact.name, contact.role)
        if notice.sales_rep and notice.sales_rep.name and notice.sales_rep.email.lower() not in self.internal:
            self.store.save_contact(None, notice.sales_rep.email, notice.sales_rep.name, "sales rep")
        account = self.store.get_account(account_id)
        existing = self.store.find_engagement(account_id, notice.reference) if notice.reference else None
        if existing is not None:  # the CRM sent the same deal again: nothing new to start
            save(MessageKind.NOTICE, existing.ticket_id, c.reasons + (f"engagement {existing.id} exists already",), verdict)
            return Received(MessageKind.NOTICE, existing.ticket_id, 0)
        engineer = configured or account.engineer
        assignment = self.assign(c.priority, engineer, now)
        if notice.engineer and not configured:
            assignment = Assignment(assignment.engineer, f"the notice names {notice.engineer}, who is not a configured "
                                    f"engineer; {assignment.reason}", assignment.candidates)
        elif configured:
            assignment = Assignment(configured, "named by the notice", assignment.candidates)
        if assignment.engineer and not account.engineer:
            self.store.save_account(name=account.name, tier=None, engineer=assignment.engineer, timezone=None,
                                    origin="notice", now=now)
        subject = f"Onboarding {notice.account}" + (f" ({notice.tier})" if notice.tier else "")
        ticket_id = self.store.create_ticket(
            kind=TicketKind.CONTRACT_CLOSED, priority=c.priority, subject=subject, requester=parsed.from_.email,
            requester_name=parsed.from_.name, now=received_at, account=account_id, assignee=assignment.engineer,
            assigned_at=now if assignment.engineer else None, reasons=list(c.reasons), assignment=assignment.as_json(),
        )
        self._event(ticket_id, EventKind.CREATED, received_at, parsed.from_.email, message="notice")
        if assignment.engineer:
            self._event(ticket_id, EventKind.ASSIGNED, now, "", engineer=assignment.engineer, reason=assignment.reason)
        save(MessageKind.NOTICE, ticket_id, c.reasons, verdict)
        engagement_id = self.store.create_engagement(
            account_id=account_id, engineer=assignment.engineer, tier=notice.tier, contract_id=notice.reference,
            close_date=notice.close_date, sales_rep=notice.sales_rep.email if notice.sales_rep else "",
            golive_date=notice.golive_date, ticket_id=ticket_id, details=notice.as_json(), now=now,
        )
        ticket = self.store.get_ticket(ticket_id)
        self._notify_new(ticket, parsed, _notice_text(notice), assignment, now,
                         headline=f"New onboarding engagement {engagement_id}: {notice.account}")
        if self.onboarding is not None:
            self.onboarding.start(engagement_id, now)
        return Received(MessageKind.NOTICE, ticket_id, 1)

    def _record_golive(self, account_id: int, ticket_id: int, golive, now: datetime) -> None:
        """A go-live intent of an account with an engagement: re-plan its go-live meetings, or
        ask the engineer for the date when none was given."""
        engagement = self.store.active_engagement(account_id)
        if engagement is None:
            return
        if golive.cutover_date is None:
            if engagement.golive_date is None and self.onboarding is not None:
                self.onboarding.ask_for_golive(engagement.id, now)
            return
        if engagement.golive_date != golive.cutover_date:
            self.store.set_golive(engagement.id, golive.cutover_date)
            if self.onboarding is not None:
                self.onboarding.golive_changed(engagement.id, now)

    def _calendar_answer(self, parsed, raw: bytes, verdict, c: Classification, now, save) -> Received:
        """An answer to an invitation: applied to the meeting's attendee (never a ticket of its own)."""
        notes: list[str] = []
        if self.onboarding is not None and parsed.from_ is not None:
            answers = [a for part in parsed.calendars for a in read_answers(part.text, part.method)]
            # The answer's own id names what it causes (hash() differs between processes: not that).
            token = slug(parsed.message_id or hashlib.sha256(raw).hexdigest()[:32])
            notes = self.onboarding.answer(answers, parsed.from_.email, now, token=token)
        save(MessageKind.CALENDAR, c.ticket_id, c.reasons + tuple(notes), verdict)
        return Received(MessageKind.CALENDAR, c.ticket_id, 0)

    def _bounce(self, parsed, verdict: Verdict, c: Classification, now, save) -> Received:
        pk = save(MessageKind.BOUNCE, c.ticket_id, c.reasons, verdict)
        self._failed_recipients(verdict.failed_recipients, verdict.diagnostic or verdict.reason, verdict.permanent,
                                token=f"bounce.{pk}", ticket_id=c.ticket_id, now=now)
        return Received(MessageKind.BOUNCE, c.ticket_id, 0)

    def recipients_refused(self, mail: OutgoingMail, refused: dict[str, tuple[int, str]], now: datetime) -> None:
        """Our SMTP server refused these recipients for good: the same as a bounce, told at once."""
        said = "; ".join(f"{code} {reply}" for code, reply in refused.values())
        with self.store.transaction():
            self._failed_recipients(list(refused), said, True, token=f"refused.{mail.id}", ticket_id=mail.ticket_id, now=now)

    def _failed_recipients(self, recipients, said: str, permanent: bool, *, token: str, ticket_id: int | None,
                           now: datetime) -> None:
        """Mail to customers failed: mark them failing (if for good) and tell their engineers."""
        customers = [r for r in recipients if r.lower() not in self.internal and r.lower() not in self.own]
        if not customers:
            return
        if permanent:
            self.store.mark_failing(customers, said, now)
        tickets = {t.id: t for t in self.store.open_tickets_of(customers)}
        if ticket_id and ticket_id not in tickets:
            tickets[ticket_id] = self.store.get_ticket(ticket_id)
        for ticket in tickets.values():
            self._event(ticket.id, EventKind.BOUNCED, now, "", recipients=customers, permanent=permanent)
        by_engineer: dict[str, list[Ticket]] = {}
        for ticket in tickets.values():
            if ticket.assignee:
                by_engineer.setdefault(ticket.assignee, []).append(ticket)
        for account_engineer in self._account_engineers(customers):
            by_engineer.setdefault(account_engineer, [])
        for email, its_tickets in by_engineer.items():
            self.outbox.queue(self.mails.bounce_alert(
                self._person(email), token=token, recipients=customers, tickets=its_tickets,
                reason=said, permanent=permanent,
            ), now)

    def _account_engineers(self, emails) -> set[str]:
        found = set()
        for email in emails:
            account = self.store.account_for_address(email)
            if account and account.engineer:
                found.add(account.engineer)
        return found

    def _person(self, email: str) -> Address:
        person = self.config.engineer(email) or self.config.manager(email)
        return Address(person.name if person else "", email)


def deliverable(email: str) -> bool:
    """Whether mail can be sent to ``email`` (an ASCII addr-spec without tricks)."""
    try:
        safe_address(email)
    except ValueError:
        return False
    return True


def _who(address: Address | None) -> str:
    if address is None:
        return "(unknown sender)"
    return f"{address.name} <{address.email}>" if address.name else address.email


def _files(parsed: ParsedMessage, raw: bytes) -> list[tuple[str, str, bytes]]:
    """The files a customer attached, passed on to the engineer (within the size limit)."""
    return file_attachments(raw)[0] if parsed.attachments else []


def _is_data(filename: str) -> bool:
    return filename.lower().endswith((".csv", ".json"))



def _notice_text(notice) -> str:
    lines = [f"Account:     {notice.account}"]
    if notice.tier:
        lines.append(f"Package:     {notice.tier}")
    if notice.reference:
        lines.append(f"Contract:    {notice.reference}" + (f" (opportunity {notice.opportunity_id})" if notice.contract_id and notice.opportunity_id else ""))
    if notice.close_date:
        lines.append(f"Closed:      {notice.close_date.isoformat()}")
    if notice.sales_rep:
        lines.append(f"Sales rep:   {notice.sales_rep.name} <{notice.sales_rep.email}>".replace("  <", " <"))
    if notice.domains:
        lines.append(f"Domains:     {', '.join(notice.domains)}")
    if notice.golive_date:
        lines.append(f"Go-live:     {notice.golive_date.isoformat()}")
    for contact in notice.contacts:
        role = f" ({contact.role})" if contact.role else ""
        lines.append(f"Contact:     {contact.name} <{contact.email}>{role}")
    if notice.notes:
        lines.append("")
        lines.append(f"Notes: {notice.notes}")
    if notice.problems:
        lines.append("")
        lines.append("Could not read: " + "; ".join(notice.problems))
    return "\n".join(lines)
