"""What intake hands the help desk for one message, and what the help desk hands back.

Intake parses a message once, recognises whether a machine sent it, gives it its id, and hands the
help desk one :class:`Inbound`; the help desk answers with one :class:`Handled`, and intake writes
the message's row with it. Nothing is called back and nothing about the message is kept on a long-lived
object.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from mailer import ParsedMessage, Verdict
from ticketing.core.domain import MessageKind, Ticket


class Unhandleable(Exception):
    """A message that is well formed enough to store but cannot be acted on; the text says why."""


@dataclass(frozen=True)
class Inbound:
    """One stored inbound message."""

    row_id: int  # the id the message is stored under: what mail caused by it is named after
    dedupe_key: str  # its Message-ID, else a digest of its bytes (see ticketing.services.intake.dedupe_key)
    parsed: ParsedMessage
    verdict: Verdict  # whether a person or a machine sent it (mailer.recognise)
    received_at: datetime  # when it reached the mailbox
    now: datetime


@dataclass(frozen=True)
class Handled:
    """What a message turned out to be, the ticket it belongs to, and why."""

    kind: MessageKind
    ticket_id: int | None
    reasons: tuple[str, ...] = ()
    tickets_created: int = 0
    touched: frozenset[int] = field(default=frozenset())  # tickets whose event log changed
    #: The ticket as handling left it, when the handler has it at hand (for the log line: not read again).
    ticket: Ticket | None = field(default=None, compare=False)
