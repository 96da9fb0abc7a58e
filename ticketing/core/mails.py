"""The mail whiteglove writes: what each one says, to whom, and how it threads (pure but for templates).

Each function returns a :class:`Draft`; :class:`ticketing.services.outbox.Outbox` composes and queues it.
A draft's ``token`` names its cause (``notify.12``, ``relay.345``): the Message-ID is made from it,
so the same cause can never queue the same mail twice, and a resend carries the same id.

What came from inbound mail (names, subjects, text) reaches templates as values (autoescaped in
HTML) and headers only through :func:`mailer.compose.safe_header`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, Sequence
from zoneinfo import ZoneInfo

from mailer import Address
from ticketing.core.commands import HELP
from ticketing.core.domain import Ticket, TicketKind
from ticketing.core.threads import ticket_tag
from ticketing.core.words import moment_label

UTC = ZoneInfo("UTC")

#: Put at the top of mail to engineers; what they write above it is their answer. Replies are cut
#: at :data:`MARKER_PREFIX`, which every marker starts with.
MARKER_PREFIX = "-- Reply above this line"
MARKER = f"{MARKER_PREFIX} to answer; your reply goes to the customer --"
INTERNAL_MARKER = f"{MARKER_PREFIX} for commands and notes; nothing goes to the customer --"
#: What the worker's connections are called in mail to managers.
WHAT = {"mailbox": "support mailbox", "outgoing": "outgoing mail server"}
KIND_LABELS = {
    TicketKind.SUPPORT: "support request",
    TicketKind.GOLIVE_INTENT: "go-live intent",
    TicketKind.CONTRACT_CLOSED: "contract closed: onboarding hand-off",
}


class Templates(Protocol):
    """What the core needs of the templates (:class:`ticketing.files.templates.Renderer` reads them)."""

    def render(self, name: str, **context) -> tuple[str, str]:
        """``(text, html)`` of template pair ``name``."""

    def missing(self, names: list[str]) -> list[str]:
        """The template files of ``names`` that do not exist."""

    def render_text(self, template: str, **context) -> str:
        """A one-off template (a playbook's meeting title or description) rendered as plain text."""


@dataclass(frozen=True)
class Rendering:
    """A template pair to render and the values for it (rendered when the mail is first sent)."""

    template: str
    context: dict


@dataclass(frozen=True)
class Draft:
    purpose: str  # notification, update, acknowledgement, relay, commands, bounce_alert
    token: str
    to: tuple[Address, ...]
    subject: str
    body: Rendering | tuple[str, str | None]  # a template to render, or (text, html) as they are
    ticket_id: int | None = None
    from_name: str | None = None  # None: the support mailbox's own name
    reply_to: Address | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_submitted: str | None = None
    cc: tuple[Address, ...] = field(default=())
    attachments: tuple[tuple[str, str, bytes], ...] = field(default=())  # (filename, content type, data)
    calendar: tuple[str, str] | None = None  # (iTIP method, iCalendar text) for an invitation
    #: The author when not the support mailbox (an engineer organizing a meeting): From is them,
    #: and support, which sends it, is the Sender (RFC 5322 3.6.2).
    from_address: Address | None = None


@dataclass(frozen=True)
class Support:
    address: str
    name: str

    @property
    def mailbox(self) -> Address:
        return Address(self.name, self.address)


def ticket_view(ticket: Ticket, tz: ZoneInfo | None = None) -> dict:
    """What the templates know of a ticket; its due times in ``tz`` (UTC when None)."""
    return {
        "id": ticket.id, "tag": ticket_tag(ticket.id), "subject": ticket.subject, "priority": ticket.priority,
        "status": ticket.status.value, "kind_label": KIND_LABELS[ticket.kind], "review": ticket.review,
        "golive_date": ticket.golive_date.isoformat() if ticket.golive_date else None,
        "golive_text": ticket.golive_text,
        "sla": _sla_line(ticket, tz or UTC),
    }


def _sla_line(ticket: Ticket, tz: ZoneInfo) -> str | None:
    """e.g. "first response due Wed 18 Nov 2026, 19:00 CET, resolution due … (enterprise)", in ``tz``."""
    parts = []
    for label, due in (("first response", ticket.first_response_due), ("resolution", ticket.resolution_due)):
        if due is not None:
            parts.append(f"{label} due {moment_label(due, tz)}")
    if not parts:
        return None
    return ", ".join(parts) + (f" ({ticket.sla_policy})" if ticket.sla_policy else "")


def _thread(ids: Sequence[str], limit: int = 20) -> tuple[str, ...]:
    ids = list(dict.fromkeys(i for i in ids if i))
    return tuple(ids if len(ids) <= limit else ids[:1] + ids[-(limit - 1):])


class Mails:
    def __init__(self, renderer: Templates, support: Support):
        self.renderer = renderer
        self.support = support
        self._known: set[str] = set()

    def render(self, name: str, **context) -> Rendering:
        """The body ``name`` renders with ``context``: checked now (a missing template is a bug
        found at once), rendered when sent, so intake does not pay for it per message."""
        if name not in self._known:
            missing = self.renderer.missing([name])
            if missing:
                raise FileNotFoundError(f"templates missing: {', '.join(missing)}")
            self._known.add(name)
        return Rendering(name, {"support": {"name": self.support.name, "address": self.support.address}, **context})

    def notification(self, ticket: Ticket, engineer: Address, *, customer: str, text: str, attachments: Sequence[dict],
                     account: str | None, assignment: str, reasons: Sequence[str], refers_to: str | None,
                     headline: str | None = None, files: Sequence[tuple[str, str, bytes]] = (),
                     plan: dict | None = None, tz: ZoneInfo | None = None, left_out: Sequence[str] = ()) -> Draft:
        """A new ticket, to its engineer; their reply comes back to support and threads to the ticket.

        ``plan`` (an onboarding hand-off): ``{"planned": [...], "unplaced": [...], "zone": ...}``, the
        meetings in the engineer's words; ``tz`` is where the engineer reads times."""
        view = ticket_view(ticket, tz)
        headline = headline or f"New {view['kind_label']} from {customer}"
        marker = INTERNAL_MARKER if ticket.kind is TicketKind.CONTRACT_CLOSED else MARKER
        body = self.render(
            "notification", marker=marker, internal=marker == INTERNAL_MARKER, headline=headline, ticket=view, customer=customer, text=text,
            attachments=attachments, account=account, assignment=assignment, reasons=list(reasons), refers_to=refers_to,
            plan=plan, left_out=list(left_out),
        )
        subject = f"{view['tag']} {ticket.priority} {view['kind_label']}: {ticket.subject}"
        return Draft("notification", f"notify.{ticket.id}.{slug(engineer.email)}", (engineer,), subject, body,
                     ticket.id, reply_to=self.support.mailbox, attachments=tuple(files))

    def update(self, ticket: Ticket, engineer: Address, *, inbound_pk: int, customer: str, text: str,
               attachments: Sequence[dict], thread: Sequence[str], golive: str | None = None,
               files: Sequence[tuple[str, str, bytes]] = (), left_out: Sequence[str] = ()) -> Draft:
        """A customer's new message on a ticket, to its engineer."""
        view = ticket_view(ticket)
        body = self.render(
            "update", marker=MARKER, headline=f"{customer} wrote on {view['tag']}", ticket=view, customer=customer,
            text=text, attachments=attachments, golive=golive, left_out=list(left_out),
        )
        ids = _thread(thread)
        return Draft("update", f"update.{inbound_pk}.{slug(engineer.email)}", (engineer,),
                     f"{view['tag']} Re: {ticket.subject}", body, ticket.id, reply_to=self.support.mailbox,
                     in_reply_to=ids[-1] if ids else None, references=ids, attachments=tuple(files))

    def acknowledgement(self, ticket: Ticket, customer: Address, *, engineer_name: str | None, thread: Sequence[str],
                        oncall: bool = False) -> Draft:
        """The customer's receipt for a new ticket: once per ticket, marked as an automatic reply;
        ``oncall`` says the on-call engineer was paged as well."""
        view = ticket_view(ticket)
        body = self.render("acknowledgement", ticket=view, customer_name=customer.name, engineer=engineer_name,
                           oncall=oncall)
        ids = _thread(thread)
        return Draft("acknowledgement", f"ack.{ticket.id}", (customer,), f"Re: {ticket.subject} {view['tag']}", body,
                     ticket.id, in_reply_to=ids[-1] if ids else None, references=ids, auto_submitted="auto-replied")

    def relay(self, ticket: Ticket, engineer: Address, customers: Sequence[Address], *, inbound_pk: int, text: str,
              thread: Sequence[str], answers: str | None, attachments: Sequence[tuple[str, str, bytes]] = ()) -> Draft:
        """An engineer's answer, to the customer, from the support address "Name via Support".

        It replies to ``answers`` (the customer's latest message) and carries the whole thread in
        References, so the customer's client shows it in the conversation.
        """
        view = ticket_view(ticket)
        name = engineer.name or engineer.email
        body = self.render("relay", ticket=view, text=text, html=None, engineer=name)
        ids = _thread(thread)
        return Draft("relay", f"relay.{inbound_pk}", tuple(customers), f"Re: {ticket.subject} {view['tag']}", body,
                     ticket.id, from_name=f"{name} via {self.support.name}",
                     in_reply_to=answers or (ids[-1] if ids else None), references=ids, attachments=tuple(attachments))

    def command_results(self, ticket: Ticket, engineer: Address, *, inbound_pk: int, results: Sequence[str],
                        problems: Sequence[str], relayed: bool, thread: Sequence[str]) -> Draft:
        """What an engineer's commands did, and help for those not understood."""
        view = ticket_view(ticket)
        misread = any(p.startswith(("unknown command", "#")) for p in problems)
        headline = f"Your reply on {view['tag']}" + (": some commands were not understood" if misread else "")
        body = self.render("commands", ticket=view, headline=headline, results=list(results),
                                  problems=list(problems), help=list(HELP.values()) if misread else [],
                                  relayed=relayed)
        ids = _thread(thread)
        return Draft("commands", f"commands.{inbound_pk}", (engineer,), f"{view['tag']} {headline}", body,
                     ticket.id, in_reply_to=ids[-1] if ids else None, references=ids, auto_submitted="auto-replied")

    def bounce_alert(self, engineer: Address, *, token: str, recipients: Sequence[str], tickets: Sequence[Ticket],
                     reason: str, permanent: bool) -> Draft:
        """Mail to a customer bounced: tell the engineer who works with them."""
        headline = f"Mail to {', '.join(recipients)} bounced"
        body = self.render("bounce", headline=headline, recipients=list(recipients), reason=reason,
                                  permanent=permanent, tickets=[ticket_view(t) for t in tickets])
        first = tickets[0].id if tickets else None
        return Draft("bounce_alert", f"{token}.{slug(engineer.email)}", (engineer,), headline, body,
                     first, auto_submitted="auto-generated")

    def unverified(self, reader: Address, *, token: str, sender: str, subject: str, why: str, notice: bool,
                   commands: Sequence[str], review: Ticket | None, refers_to: Ticket | None) -> Draft:
        """Mail from an engineer's or the CRM's address that our server did not vouch for was not
        acted on: tell the engineer (for a notice, a manager). Only configured addresses reach the
        headers; the message's own subject is in the body."""
        headline = (f"A contract-closed notice from {sender} was not acted on" if notice
                    else "A message from your address was not acted on")
        body = self.render("unverified", headline=headline, sender=sender, subject=subject, why=why, notice=notice,
                           commands=list(commands), domain=sender.rpartition("@")[2],
                           review=ticket_view(review) if review else None,
                           refers_to=ticket_view(refers_to) if refers_to else None)
        return Draft("unverified", f"{token}.{slug(reader.email)}", (reader,), headline, body,
                     review.id if review else None, auto_submitted="auto-generated")

    def connection(self, manager: Address, *, component: str, failing_since: datetime, now: datetime,
                   error: str, recovered: bool, tz: ZoneInfo | None = None) -> Draft:
        """A connection of the worker has failed for a while (or works again): tell a manager, with
        the times in ``tz``, their zone (UTC when None)."""
        what = WHAT.get(component, component)
        minutes = int((now - failing_since).total_seconds() // 60)
        duration = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
        headline = f"whiteglove reaches the {what} again" if recovered else f"whiteglove cannot use the {what}"
        body = self.render("connection", headline=headline, component=component, what=what, error=error,
                           failing_since=moment_label(failing_since, tz or UTC), since=moment_label(now, tz or UTC),
                           duration=duration, recovered=recovered)
        stamp = f"{failing_since:%Y%m%dT%H%M%S}"
        token = f"connection.{component}.{stamp}.{'recovered' if recovered else 'failing'}.{slug(manager.email)}"
        return Draft("connection", token, (manager,), headline, body, None, auto_submitted="auto-generated")



def slug(email: str) -> str:
    """An address as it may stand in a Message-ID's token: lower-case letters, digits and hyphens."""
    return "".join(c if c.isalnum() else "-" for c in email.lower())[:60]


def cause(*parts: object) -> str:
    """A short digest of what caused a mail (its facts in words), for a Message-ID token that is the
    same for the same cause and never depends on the clock: two changes in one second are two mails,
    the same change told twice is one."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]
