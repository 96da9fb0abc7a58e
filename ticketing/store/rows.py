"""Turning database rows into domain objects (and domain values into column values)."""
from __future__ import annotations

import json
from enum import Enum

from ticketing.core.domain import (
    MessageKind,
    MessageStatus,
    QuarantinedMessage,
    StoredMessage,
    Ticket,
    TicketKind,
    TicketStatus,
)


def columns(fields: dict) -> dict:
    if "attachments" in fields and not isinstance(fields["attachments"], str):
        fields["attachments"] = json.dumps(fields["attachments"])
    for name in ("kind", "status"):
        if isinstance(fields.get(name), Enum):
            fields[name] = fields[name].value
    return fields


def ticket(row) -> Ticket:
    return Ticket(
        id=row.id,
        kind=TicketKind(row.kind),
        status=TicketStatus(row.status),
        priority=row.priority,
        subject=row.subject,
        requester=row.requester,
        requester_name=row.requester_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        message_count=getattr(row, "message_count", 0) or 0,
        account=getattr(row, "account_name", None),
        assignee=row.assignee,
        assigned_at=row.assigned_at,
        review=bool(row.review),
        reasons=tuple(json.loads(row.reasons or "[]")),
        assignment=json.loads(row.assignment or "{}"),
        golive_date=row.golive_date,
        golive_text=row.golive_text,
        refers_to=row.refers_to,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        sla_policy=row.sla_policy,
        first_response_due=row.first_response_due,
        resolution_due=row.resolution_due,
        first_response_state=row.first_response_state,
        resolution_state=row.resolution_state,
        seen_at=getattr(row, "seen_at", None),
    )


def message(row) -> StoredMessage:
    return StoredMessage(
        id=row.id,
        ticket_id=row.ticket_id,
        kind=MessageKind(row.kind) if row.kind else None,
        status=MessageStatus(row.status),
        message_id=row.message_id,
        subject=row.subject,
        from_addr=row.from_addr,
        from_name=row.from_name,
        received_at=row.received_at,
        body_text=row.body_text,
        attachments=json.loads(row.attachments or "[]"),
    )


def quarantined(row) -> QuarantinedMessage:
    msg = row.message
    return QuarantinedMessage(
        id=row.id,
        message_pk=msg.id,
        mailbox=msg.mailbox,
        source_key=msg.source_key,
        reason=row.reason,
        detail=row.detail,
        created_at=row.created_at,
        subject=msg.subject,
        from_addr=msg.from_addr,
        size=msg.size,
        released_at=row.released_at,
        discarded_by=row.discarded_by,
    )
