"""Domain objects: what the rest of the application knows of tickets and messages.

Plain dataclasses, free of any storage library; the store returns these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import NamedTuple


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class TicketKind(str, Enum):
    SUPPORT = "support"
    CONTRACT_CLOSED = "contract_closed"
    GOLIVE_INTENT = "golive_intent"


class TicketStatus(str, Enum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"


class MessageKind(str, Enum):
    """What an inbound message turned out to be."""

    NEW = "new"  # opened a ticket
    REPLY = "reply"  # joined an existing ticket (a customer's, or a copy of an engineer's answer)
    ENGINEER_REPLY = "engineer_reply"  # an engineer answering through support: relayed, commands run
    NOTICE = "notice"  # a contract-closed notice from a trusted sender: an engagement
    CALENDAR = "calendar"  # an iMIP reply to an invitation
    AUTOMATED = "automated"  # auto-reply, bulk or report: stored, no ticket, never answered
    BOUNCE = "bounce"  # delivery report: stored, no ticket, never answered


class EventKind(str, Enum):
    """What can happen to a ticket; the SLA clocks are computed from these."""

    CREATED = "created"
    ASSIGNED = "assigned"
    CUSTOMER_REPLIED = "customer_replied"
    ENGINEER_REPLIED = "engineer_replied"  # an answer the customer received: stops first response
    PENDING = "pending"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    PRIORITY_CHANGED = "priority_changed"
    GOLIVE_CHANGED = "golive_changed"
    NOTE = "note"
    COMMAND_IGNORED = "command_ignored"
    COMMAND_REJECTED = "command_rejected"
    BOUNCED = "bounced"
    REFERRED = "referred"  # a stranger's reply to this ticket opened another
    ENGAGEMENT_CHANGED = "engagement_changed"  # an engineer's #golive, #move, #cancel … changed the engagement
    MILESTONE = "milestone"  # an engagement went live, was signed off or closed: detail {"milestone", "on"}
    SURVEY_ANSWERED = "survey_answered"  # a contact's 0-10 answer: detail {"engagement", "score", "comment"}
    LOOP_BROKEN = "loop_broken"  # a reply limit tripped: detail {"limit", "count", "correspondent", "purpose"}
    UNVERIFIED = "unverified"  # mail from an engineer's or the CRM's address our server did not vouch for: not acted on


class MessageStatus(str, Enum):
    PROCESSED = "processed"
    QUARANTINED = "quarantined"


class MeetingStatus(StrEnum):
    PLANNED = "planned"  # placed, and invited to
    UNPLACED = "unplaced"  # no time could be found (or the go-live date is not known yet)
    CANCELLED = "cancelled"  # was planned and invited to, then cancelled


class EngagementStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"  # ended by an engineer's #close: no more reminders, check-points or steering


class OutboxStatus(StrEnum):
    QUEUED = "queued"  # waiting for its next attempt
    HELD = "held"  # caused by history (mail from before the start mark, a quiet backfill): never sent
    SENDING = "sending"  # claimed by a sender until its lease ends (next_attempt_at), renewed while it sends
    SENT = "sent"
    FAILED = "failed"  # refused for good, or given up on; ``whiteglove outbox --retry`` queues it again
    SUPPRESSED = "suppressed"  # an answer past a loop limit: never sent; ``last_error`` says which limit


class IntakeOutcome(str, Enum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


class TicketHead(NamedTuple):
    """The few fields of a ticket a report counts by: read by the thousand, so a tuple, not a
    :class:`Ticket` (whose dozen timestamps and JSON columns cost as much again to read)."""

    id: int
    kind: TicketKind
    status: TicketStatus
    priority: str
    subject: str
    requester: str
    account: str | None  # the account's name
    assignee: str | None
    created_at: datetime


@dataclass(frozen=True)
class Ticket:
    id: int
    kind: TicketKind
    status: TicketStatus
    priority: str
    subject: str
    requester: str
    requester_name: str
    created_at: datetime
    updated_at: datetime
    message_count: int = 0
    account: str | None = None  # the account's name
    assignee: str | None = None
    assigned_at: datetime | None = None
    review: bool = False
    reasons: tuple[str, ...] = ()
    assignment: dict = field(default_factory=dict)
    golive_date: date | None = None
    golive_text: str = ""
    refers_to: int | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    sla_policy: str | None = None
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    first_response_state: str = ""  # running | paused | met | breached ("" without a target)
    resolution_state: str = ""
    seen_at: datetime | None = None  # when whiteglove first saw it: nothing before is warned about

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "status": self.status.value,
            "priority": self.priority,
            "subject": self.subject,
            "requester": self.requester,
            "requester_name": self.requester_name,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "message_count": self.message_count,
            "assignee": self.assignee,
            "account": self.account,
            "golive_date": self.golive_date.isoformat() if self.golive_date else None,
            "review": self.review,
            "refers_to": self.refers_to,
            "sla_policy": self.sla_policy,
            "first_response_due": _iso(self.first_response_due),
            "first_response_at": _iso(self.first_response_at),
            "first_response": self.first_response_state or None,
            "resolution_due": _iso(self.resolution_due),
            "resolved_at": _iso(self.resolved_at),
            "resolution": self.resolution_state or None,
        }


@dataclass(frozen=True)
class Contact:
    email: str
    name: str = ""
    role: str = ""
    failing_since: datetime | None = None


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    domains: tuple[str, ...] = ()
    engineer: str | None = None
    tier: str | None = None
    timezone: str = "UTC"
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class Engagement:
    id: int
    account: str
    engineer: str | None
    tier: str | None
    contract_id: str
    close_date: date | None
    sales_rep: str
    golive_date: date | None
    ticket_id: int | None
    created_at: datetime
    playbook: str | None = None
    account_id: int | None = None
    status: EngagementStatus = EngagementStatus.ACTIVE
    #: Milestones, recorded when they happen: the day it went live, the sign-off and who gave it, the end.
    live_on: date | None = None
    signed_off_on: date | None = None
    signed_off_by: str = ""
    closed_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status is EngagementStatus.ACTIVE

    def as_json(self) -> dict:
        return {
            "id": self.id, "account": self.account, "engineer": self.engineer, "tier": self.tier,
            "playbook": self.playbook, "contract_id": self.contract_id,
            "close_date": self.close_date.isoformat() if self.close_date else None, "sales_rep": self.sales_rep,
            "golive_date": self.golive_date.isoformat() if self.golive_date else None, "ticket_id": self.ticket_id,
            "created_at": self.created_at.isoformat(), "status": str(self.status),
            "milestones": {
                "live_on": self.live_on.isoformat() if self.live_on else None,
                "signed_off_on": self.signed_off_on.isoformat() if self.signed_off_on else None,
                "signed_off_by": self.signed_off_by or None,
                "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            },
        }


@dataclass(frozen=True)
class MeetingAttendee:
    email: str
    name: str = ""
    role: str = ""
    required: bool = True
    partstat: str = "NEEDS-ACTION"
    answered_at: datetime | None = None
    comment: str = ""
    proposed_start: datetime | None = None  # the time they proposed last (COUNTER), until it is taken or moot
    proposed_end: datetime | None = None
    proposed_at: datetime | None = None  # when that proposal arrived


@dataclass(frozen=True)
class Meeting:
    id: int
    engagement_id: int
    key: str
    title: str
    description: str
    uid: str
    sequence: int
    start: datetime | None
    end: datetime | None
    status: MeetingStatus
    note: str
    attendees: tuple[MeetingAttendee, ...] = ()
    location: str = ""  # a room, an address or a join link; "" when none is known
    #: The UID of the weekly series this occurrence is sent in, and its RECURRENCE-ID (aware, UTC).
    series_uid: str | None = None
    recurrence_id: datetime | None = None

    def as_json(self) -> dict:
        return {
            "id": self.id, "key": self.key, "title": self.title, "uid": self.uid, "sequence": self.sequence,
            "start": self.start.isoformat() if self.start else None, "end": self.end.isoformat() if self.end else None,
            "status": self.status.value, "note": self.note, "location": self.location, "series_uid": self.series_uid,
            "recurrence_id": self.recurrence_id.isoformat() if self.recurrence_id else None,
            "attendees": [{"email": a.email, "name": a.name, "role": a.role, "required": a.required,
                           "partstat": a.partstat, "answered_at": a.answered_at.isoformat() if a.answered_at else None,
                           "comment": a.comment} for a in self.attendees],
        }


@dataclass(frozen=True)
class TicketEvent:
    at: datetime
    kind: EventKind
    actor: str = ""
    detail: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"at": self.at.isoformat(), "kind": self.kind.value, "actor": self.actor, "detail": self.detail}


@dataclass(frozen=True)
class OutgoingMail:
    id: int
    message_id: str
    ticket_id: int | None
    purpose: str
    recipients: tuple[str, ...]
    subject: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None

    def as_json(self) -> dict:
        return {
            "id": self.id, "message_id": self.message_id, "ticket_id": self.ticket_id, "purpose": self.purpose,
            "recipients": list(self.recipients), "subject": self.subject, "status": self.status.value,
            "attempts": self.attempts, "next_attempt_at": self.next_attempt_at.isoformat(),
            "last_error": self.last_error, "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
        }


@dataclass(frozen=True)
class StoredMessage:
    id: int
    ticket_id: int | None
    kind: MessageKind | None
    status: MessageStatus
    message_id: str | None
    subject: str
    from_addr: str
    from_name: str
    received_at: datetime
    body_text: str
    attachments: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "ticket_id": self.ticket_id,
            "kind": self.kind.value if self.kind else None,
            "status": self.status.value,
            "message_id": self.message_id,
            "subject": self.subject,
            "from": self.from_addr,
            "from_name": self.from_name,
            "received_at": self.received_at.isoformat(),
            "body_text": self.body_text,
            "attachments": self.attachments,
        }


@dataclass(frozen=True)
class QuarantinedMessage:
    id: int
    message_pk: int
    mailbox: str
    source_key: str
    reason: str
    detail: str
    created_at: datetime
    subject: str
    from_addr: str
    size: int
    released_at: datetime | None = None
    discarded_by: str = ""  # released without being handled, by this operator

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "mailbox": self.mailbox,
            "source_key": self.source_key,
            "reason": self.reason,
            "detail": self.detail,
            "created_at": self.created_at.isoformat(),
            "subject": self.subject,
            "from": self.from_addr,
            "size": self.size,
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "discarded_by": self.discarded_by or None,
        }


@dataclass(frozen=True)
class Refusal:
    """Recipients our SMTP server refused for good when it was given mail ``mail_id``."""

    id: int
    mail_id: int
    ticket_id: int | None
    recipients: tuple[str, ...]
    said: str


@dataclass(frozen=True)
class ComponentState:
    """Whether one of the worker's connections (``mailbox``, ``outgoing``) works."""

    name: str
    failing_since: datetime | None
    last_error: str
    alerted_at: datetime | None
    updated_at: datetime
