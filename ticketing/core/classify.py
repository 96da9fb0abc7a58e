"""What an inbound message is and what it asks for, decided from its contents alone (pure).

:func:`classify` takes the parsed message, what :func:`mailer.automated.recognise` said of it, the
thread it matched, and what the caller looked up about the sender and the ticket, and returns a
:class:`Classification` with the reasons for it. The order of the checks matters:

1. bounces: stored, never answered, no ticket;
2. a contract-closed notice from a trusted sender who passes the sender check, even when marked
   automated (CRMs send their alerts with ``Auto-Submitted: auto-generated``); the trust comes
   before the automated-mail filter, never from the automation headers; one in the trusted
   sender's name that our server did not vouch for is a ticket flagged for review;
3. other automated mail: stored, never answered, no ticket;
4. iMIP replies to our invitations (the calendar code reads them), and calendar clients'
   notifications without a calendar part ("Accepted: Kick-off", :mod:`ticketing.core.calendar_noise`):
   stored, never answered, no ticket;
5. an engineer answering a ticket (commands and relay), when the sender is who they say;
6. a contract-closed notice: an engagement when a trusted sender sent it, else a ticket for review;
7. a reply from someone on the ticket; from anyone else, a new ticket that refers to it;
8. a go-live intent (a ticket with its cut-over date, its priority from how near that is);
9. any other support request, with a priority from the keyword rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from mailer import Origin, ParsedMessage, Verdict
from ticketing.config import PrioritiesConfig
from ticketing.core.calendar_noise import CalendarNoise, calendar_noise
from ticketing.core.domain import MessageKind, TicketKind
from ticketing.core.golive import GoLiveIntent, detect_golive
from ticketing.core.notices import Notice
from ticketing.core.priority import golive_priority, support_priority
from ticketing.core.threads import ThreadMatch

_CALENDAR_ANSWERS = frozenset({"REPLY", "COUNTER", "REFRESH", "DECLINECOUNTER"})


@dataclass(frozen=True)
class Sender:
    """What the caller knows of the sender."""

    email: str | None
    is_engineer: bool = False
    is_trusted_notifier: bool = False
    #: Whether our server vouched for the sender (Authentication-Results); None when not required.
    verified: bool | None = None
    verification: str = ""


@dataclass(frozen=True)
class Context:
    """What the caller looked up for the message: its account and its ticket's members."""

    tier: str | None = None
    timezone: ZoneInfo = ZoneInfo("UTC")
    #: Addresses and domains that belong on the matched ticket (requester, contacts, account domains).
    members: frozenset[str] = frozenset()
    #: Titles of our meetings the sender is invited to (looked up for a calendar notification's subject).
    meeting_titles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Classification:
    kind: MessageKind
    reasons: tuple[str, ...]
    ticket_id: int | None = None  # the ticket it joins (replies) or belongs to
    ticket_kind: TicketKind | None = None  # for a new ticket
    priority: str | None = None  # for a new ticket
    review: bool = False  # a new ticket a person should look at
    refers_to: int | None = None  # a stranger's reply to this ticket opens a new one
    notice: Notice | None = None
    golive: GoLiveIntent | None = None
    calendar_noise: CalendarNoise | None = None  # a calendar notification without a calendar part


def classify(
    msg: ParsedMessage,
    verdict: Verdict,
    thread: ThreadMatch | None,
    new_text: str,
    sender: Sender,
    context: Context,
    notice: Notice | None,
    received_at: datetime,
    priorities: PrioritiesConfig,
) -> Classification:
    """Decide what ``msg`` is. ``new_text`` is its text without the quoted message."""
    threaded = (f"belongs to ticket {thread.ticket_id} by {thread.via}",) if thread else ()
    ticket_id = thread.ticket_id if thread else None
    if verdict.origin is Origin.BOUNCE:
        return Classification(MessageKind.BOUNCE, (f"delivery report: {verdict.reason}",) + threaded, ticket_id)
    if notice is not None and sender.is_trusted_notifier and verdict.origin is not Origin.HUMAN:
        if _trusted(sender):
            return _trusted_notice(notice, sender, priorities, f"{verdict.origin.value}: {verdict.reason}")
        return _doubted_notice(sender.verification, priorities)  # the CRM's address, our server says no
    if verdict.origin is not Origin.HUMAN:
        return Classification(MessageKind.AUTOMATED, (f"{verdict.origin.value}: {verdict.reason}",) + threaded, ticket_id)
    answers = [c.method for c in msg.calendars if c.method in _CALENDAR_ANSWERS]
    if answers:
        return Classification(MessageKind.CALENDAR, (f"iMIP {answers[0]} to an invitation",) + threaded, ticket_id)
    noise = None if msg.calendars else calendar_noise(msg.subject, new_text, msg.headers, context.meeting_titles)
    if noise is not None:
        return Classification(MessageKind.CALENDAR, (noise.reason,) + threaded, ticket_id, calendar_noise=noise)

    unverified = sender.verified is False
    if sender.is_engineer and not unverified:
        if thread:
            return Classification(MessageKind.ENGINEER_REPLY, (f"an engineer's answer ({sender.email})",) + threaded, ticket_id)
        priority, why = support_priority(msg.subject, new_text, None, priorities)
        return Classification(MessageKind.NEW, (f"written by an engineer ({sender.email}), about no ticket", why),
                              ticket_kind=TicketKind.SUPPORT, priority=priority)
    if sender.is_engineer and unverified:
        return Classification(
            MessageKind.NEW,
            (f"claims to come from engineer {sender.email} but {sender.verification}: not acted on", "flagged for review"),
            ticket_kind=TicketKind.SUPPORT, priority=priorities.default, review=True, refers_to=ticket_id,
        )

    if notice is not None:
        if _trusted(sender):
            return _trusted_notice(notice, sender, priorities)
        doubt = sender.verification if unverified else f"{sender.email or 'an unknown sender'} is not a trusted sender"
        return _doubted_notice(doubt, priorities)

    golive = detect_golive(msg.subject, new_text, received_at, context.timezone)
    if thread:
        if _is_member(sender.email, context.members):
            reasons = threaded + ((f"go-live intent: {golive.reasons[0]}",) if golive else ())
            return Classification(MessageKind.REPLY, reasons, ticket_id, golive=golive)
        reasons = (f"a reply to ticket {ticket_id} from {sender.email}, who is not part of it: a new ticket",)
        priority, why = support_priority(msg.subject, new_text, context.tier, priorities)
        return Classification(MessageKind.NEW, reasons + (why,), ticket_kind=TicketKind.SUPPORT,
                              priority=priority, refers_to=ticket_id)
    if golive is not None:
        priority, why = golive_priority(golive.golive_date, received_at.astimezone(context.timezone).date(), priorities)
        return Classification(MessageKind.NEW, ("go-live intent",) + golive.reasons + (why,),
                              ticket_kind=TicketKind.GOLIVE_INTENT, priority=priority, golive=golive)
    priority, why = support_priority(msg.subject, new_text, context.tier, priorities)
    return Classification(MessageKind.NEW, ("a support request", why), ticket_kind=TicketKind.SUPPORT, priority=priority)


def _trusted(sender: Sender) -> bool:
    """A configured notice sender whom our server did not contradict (see ``Sender.verified``)."""
    return sender.is_trusted_notifier and sender.verified is not False


def _trusted_notice(notice: Notice, sender: Sender, priorities: PrioritiesConfig, automated: str = "") -> Classification:
    why = f"contract-closed notice from trusted sender {sender.email} ({notice.source})"
    if sender.verified:
        why += f", {sender.verification}"
    reasons = (why,) + ((f"marked automated ({automated}), believed for its trusted sender",) if automated else ())
    return Classification(MessageKind.NOTICE, reasons, ticket_kind=TicketKind.CONTRACT_CLOSED,
                          priority=priorities.contract_closed, notice=notice)


def _doubted_notice(doubt: str, priorities: PrioritiesConfig) -> Classification:
    return Classification(
        MessageKind.NEW, (f"looks like a contract-closed notice, but {doubt}", "flagged for review: no engagement started"),
        ticket_kind=TicketKind.SUPPORT, priority=priorities.default, review=True,
    )


def _is_member(email: str | None, members: frozenset[str]) -> bool:
    if not email:
        return False
    email = email.lower()
    return email in members or email.rpartition("@")[2] in members
