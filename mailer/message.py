"""Parsing raw RFC 5322 / MIME bytes into a :class:`ParsedMessage` (pure: no I/O).

Uses the standard library :mod:`email` package with the modern policy. Parsing never raises:
whatever had to be repaired or guessed is listed in :attr:`ParsedMessage.defects`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Address:
    """A mailbox address; ``email`` has its domain lower-cased, ``name`` may be empty."""

    name: str
    email: str


@dataclass(frozen=True)
class Attachment:
    """An attachment's metadata; ``filename`` is sanitised (no path separators, no ``..``)."""

    filename: str
    content_type: str
    size: int
    inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True)
class CalendarPart:
    """A ``text/calendar`` part (inline or attached), kept for the calendar code to read."""

    method: str | None  # the ``method=`` parameter, upper-cased, if any
    text: str


@dataclass(frozen=True)
class ParsedMessage:
    """What whiteglove needs of one message. All strings are decoded ``str``."""

    message_id: str | None  # without angle brackets; None when missing or blank
    in_reply_to: tuple[str, ...]  # message ids, without angle brackets
    references: tuple[str, ...]  # oldest first, without angle brackets
    subject: str
    from_: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None  # the Date: header, aware; None when missing or unreadable
    return_path: str | None  # the envelope sender; "" for the null sender <>
    content_type: str  # of the top-level part, lower-case, e.g. "multipart/report"
    text: str  # the text body (from the HTML when there is no text part)
    html: str | None  # the HTML body as sent (unsanitised: never pass it on as is)
    attachments: tuple[Attachment, ...] = ()
    calendars: tuple[CalendarPart, ...] = ()
    delivery_status: tuple[str, ...] = ()  # the text of each message/delivery-status part
    headers: tuple[tuple[str, str], ...] = ()  # every header, names lower-case, values decoded
    defects: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or ``None``."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse ``raw`` into a :class:`ParsedMessage`. Never raises."""
    raise NotImplementedError
