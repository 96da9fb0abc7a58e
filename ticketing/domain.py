"""Domain objects: what the rest of the application knows of tickets and messages.

Plain dataclasses, free of any storage library; the store returns these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


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
    REPLY = "reply"  # joined an existing ticket
    AUTOMATED = "automated"  # auto-reply, bulk or report: stored, no ticket, never answered
    BOUNCE = "bounce"  # delivery report: stored, no ticket, never answered


class MessageStatus(str, Enum):
    PROCESSED = "processed"
    QUARANTINED = "quarantined"


class IntakeOutcome(str, Enum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


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
        }
