"""Parsing raw RFC 5322 / MIME bytes into a :class:`ParsedMessage` (pure: no I/O).

The MIME tree comes from the standard library :mod:`email` parser with a ``compat32``-based
policy; headers, parameters and bodies are decoded by whiteglove. The modern ``email.policy.default``
parses each header with a full RFC 5322 grammar, which costs about 2 ms for a typical 3 KB
message on a small server against 0.3 ms for ``compat32``, raises on some broken headers, and
gives up on charsets Python does not know. Decoding ourselves keeps parsing well under a
millisecond and lets every step fall back instead of failing.

This module holds the message: the parser, its policy, the repair of a damaged header block, and
the header list. The fields naming people and messages are read by :mod:`mailer.header_fields`,
the body (text, attachments, calendar parts, delivery status) by :mod:`mailer.body`, charsets and
encoded-words by :mod:`mailer.charsets`. Parsing never raises: whatever had to be repaired or
guessed is listed in :attr:`ParsedMessage.defects`. Standards followed: RFC 5322 (message
format), RFC 2045-2047 (MIME, encoded-words), RFC 2231 (parameter values), RFC 6532 (raw UTF-8
headers).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesParser
from email.policy import Compat32
from functools import cached_property

from mailer.body import (
    Attachment,
    Body,
    CalendarPart,
    clean_type,
    read_body,
    returned_ids,
)
from mailer.charsets import decode_header_value
from mailer.charsets import text_of_raw as _text_of_raw
from mailer.header_fields import (
    Address,
    read_addresses,
    read_date,
    read_message_ids,
    read_return_path,
)

logger = logging.getLogger(__name__)

MAX_HEADERS = 500  # kept in ParsedMessage.headers
MAX_HEADER_CHARS = 4000  # per decoded header value
_MAX_RAW_HEADER = 16_000  # raw characters decoded per header; the rest cannot fit anyway


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
    #: The Message-IDs of a message this one returns or encloses (without angle brackets): a
    #: message/rfc822 part's, a text/rfc822-headers part's (RFC 3462), else the ``Message-ID:``
    #: lines a free-text bounce quotes. What a bounce is about; read by whoever needs it.
    returned_message_ids: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()  # every header, names lower-case, values decoded
    defects: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or ``None``."""
        return self._first_values.get(name.lower())

    @cached_property
    def _first_values(self) -> dict[str, str]:
        # Recognising automated mail asks for a score of headers: index them once.
        first: dict[str, str] = {}
        for key, value in self.headers:
            first.setdefault(key, value)
        return first


_PARAM_HEADERS = frozenset({"content-type", "content-disposition"})
# An RFC 2231 parameter as email.utils.decode_params reads it, with or without a value: whole
# ("name*") or a section ("name*0", "name*1*"); group 2 is the section number, empty if whole.
_EXTENDED_PARAM = re.compile(r";\s*(\w+)\*(?:(\d+)\*?)?\s*(?=[=;]|$)", re.ASCII)
_PARAM_SECTION = re.compile(r';\s*(\w+)\*\d+\*?\s*(?:=\s*(?:"(?:[^"\\]|\\.)*"?|[^;]*))?(?=;|$)', re.ASCII)


def _without_clashing_sections(value: str) -> str:
    """Drop the numbered RFC 2231 sections of a parameter that is also given whole (``name*=``).

    ``decode_params`` sorts a parameter's sections by number and raises TypeError comparing the
    whole form's ``None`` with an int, from the parser itself (``get_boundary``) and from every
    ``get_param`` on that header: one odd parameter would lose the whole message.
    """
    whole, numbered = set(), set()
    for name, number in _EXTENDED_PARAM.findall(value):
        (numbered if number else whole).add(name.lower())
    clashing = whole & numbered
    if not clashing:
        return value
    return _PARAM_SECTION.sub(lambda m: "" if m.group(1).lower() in clashing else m.group(0), value)


class _Policy(Compat32):
    """``compat32``, except that header values holding raw 8-bit bytes come back as text.

    Stock ``compat32`` wraps them in :class:`email.header.Header` objects, on which
    ``get_param``/``get_filename`` fail; UTF-8 filenames (RFC 6532) are common enough to matter.
    Values that would make the stdlib raise are mended: NULs dropped, and RFC 2231 parameters
    given both whole and in sections reduced to the whole form.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        if not isinstance(value, str):
            return value
        if not value.isascii():
            value = _text_of_raw(value, None, [])
        if "\x00" in value:
            # A NUL means nothing in a header, and the stdlib's charset lookups raise ValueError
            # ("embedded null character") on a charset parameter holding one.
            value = value.replace("\x00", "")
        if "*" in value and name.lower() in _PARAM_HEADERS:
            return _without_clashing_sections(value)
        return value


_POLICY = _Policy()


# -- the message ----------------------------------------------------------------------------

_PARSER = BytesParser(policy=_POLICY)
_MBOX_LINE = re.compile(rb"From [^\s:]")
_FIRST_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n|$)")
_BLANK_LINE = re.compile(rb"(?:\r?\n){2}|\r\r")
_HEADER_LINE = re.compile(rb"([!-9;-~]+)[ \t]*:")
_INDENT = re.compile(rb"[ \t]+")
_HEADER_DAMAGE = frozenset({"MissingHeaderBodySeparatorDefect", "FirstHeaderLineIsContinuationDefect"})
_WANTED = ("message-id", "in-reply-to", "references", "subject", "from", "reply-to", "to", "cc",
           "date", "return-path")


def _strip_mbox_line(raw: bytes, defects: list[str]) -> bytes:
    # "From sender date" starts an mbox entry; "From  : name" is an obsolete-syntax header.
    if _MBOX_LINE.match(raw):
        defects.append("mbox From_ line removed")
        return raw[_FIRST_LINE.match(raw).end() :]
    return raw


_MESSAGE_ID_LINE = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


def find_message_id(raw: bytes) -> str | None:
    """The ``<Message-ID>`` in the header block of ``raw``, found without parsing the message."""
    head = bytes(raw).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    match = _MESSAGE_ID_LINE.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse ``raw`` (an RFC 5322 message, MIME or not) into a :class:`ParsedMessage`.

    Never raises: an unreadable header becomes ``None``/empty, an unknown charset a guess, and
    each repair a short note in ``defects``. A leading mbox ``From `` line is dropped.
    """
    defects: list[str] = []
    try:
        return _parse(bytes(raw), defects)
    except RecursionError:
        # The email package parses nested parts recursively: MIME nested some hundreds deep
        # exhausts the stack. The headers alone are read without recursion, so the sender,
        # subject and thread are still known and the message can be answered.
        logger.warning("MIME of a message of %s bytes is nested too deep to read; reading its headers only", len(raw))
        defects = ["MIME nested too deep to read: body not read"]
        try:
            return _parse(bytes(raw), defects, headers_only=True)
        except Exception as exc:  # noqa: BLE001 - as below
            return _empty([*defects, f"parse failed: {type(exc).__name__}"])
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises", whatever the input
        # Nothing above is expected to raise; if a stdlib corner case does, a message with
        # no content is still better for the caller than a crash in the intake loop.
        logger.warning("could not parse a message of %s bytes: %r", len(raw or b""), exc)
        return _empty([*defects, f"parse failed: {type(exc).__name__}"])


def parse_headers(raw: bytes) -> ParsedMessage:
    """Parse only the header block of ``raw``: who sent it, to whom, its subject and thread, and no
    body (``text`` is empty). For a message too large to read whole. Never raises."""
    defects = ["body not read"]
    try:
        return _parse(bytes(raw), defects, headers_only=True)
    except Exception as exc:  # noqa: BLE001 - never raises, as parse_message
        return _empty([*defects, f"parse failed: {type(exc).__name__}"])


def _empty(defects: list[str]) -> ParsedMessage:
    return ParsedMessage(
        message_id=None, in_reply_to=(), references=(), subject="", from_=None, reply_to=(),
        to=(), cc=(), date=None, return_path=None, content_type="text/plain", text="", html=None,
        defects=tuple(defects),
    )


def _repair_headers(raw: bytes) -> bytes | None:
    """Return ``raw`` with a damaged header block mended, or None if it cannot be mended.

    Handles a header block indented as a whole, ``Name :`` (obsolete syntax, RFC 5322 4.5)
    and continuation lines that lost their folding whitespace. A line that is no header is
    only taken for a continuation when more headers follow it; otherwise the body simply
    starts without the blank line, and a message whose first line is no header has none.
    """
    indent = _INDENT.match(raw)
    if indent:
        prefix = indent.group(0)
        raw = b"".join(
            line[len(prefix) :] if line.startswith(prefix) else line
            for line in raw.splitlines(keepends=True)
        )
    end = _BLANK_LINE.search(raw)
    cut = end.start() if end else len(raw)
    lines = raw[:cut].splitlines(keepends=True)
    matches = [_HEADER_LINE.match(line) for line in lines]
    if not matches or not matches[0]:
        return None
    last = max(i for i, match in enumerate(matches) if match)
    for i, match in enumerate(matches[: last + 1]):
        if match:
            lines[i] = match.group(1) + b":" + lines[i][match.end() :]
        elif lines[i][:1] not in b" \t":
            lines[i] = b" " + lines[i]
    return b"".join(lines) + raw[cut:]


def _without_nul(value, defects: list[str]):
    if isinstance(value, str) and "\x00" in value:
        defects.append("NUL characters dropped")
        return value.replace("\x00", "")
    return value


def _parse(raw: bytes, defects: list[str], headers_only: bool = False) -> ParsedMessage:
    raw = _strip_mbox_line(raw, defects)
    msg = _PARSER.parsebytes(raw, headers_only)
    if any(type(d).__name__ in _HEADER_DAMAGE for d in msg.defects):
        repaired = _repair_headers(raw)
        if repaired is not None and repaired != raw:
            msg = _PARSER.parsebytes(repaired, headers_only)
            defects.append("damaged header block mended")
    body = Body(text="") if headers_only else read_body(msg, defects)
    hint = body.charset
    # A NUL means nothing in a header, and no database stores one in text: dropped, and said so.
    items = [(name.strip().lower(), _without_nul(value, defects)) for name, value in msg.raw_items()]
    first: dict[str, str] = {}
    for key, value in items:
        if key in _WANTED:
            first.setdefault(key, value)
    if len(items) > MAX_HEADERS:
        defects.append(f"more than {MAX_HEADERS} headers: rest not listed")
    headers = tuple(
        (key, decode_header_value(value[:_MAX_RAW_HEADER], hint, defects)[:MAX_HEADER_CHARS])
        for key, value in items[:MAX_HEADERS]
    )
    subject = first.get("subject")
    message_ids = read_message_ids(first.get("message-id"), lenient=True)
    from_ = read_addresses(first.get("from"), hint, defects)
    return ParsedMessage(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=read_message_ids(first.get("in-reply-to")),
        references=read_message_ids(first.get("references")),
        subject=decode_header_value(subject[:_MAX_RAW_HEADER], hint, defects).strip() if subject else "",
        from_=from_[0] if from_ else None,
        reply_to=read_addresses(first.get("reply-to"), hint, defects),
        to=read_addresses(first.get("to"), hint, defects),
        cc=read_addresses(first.get("cc"), hint, defects),
        date=read_date(first.get("date"), defects),
        return_path=read_return_path(first.get("return-path")),
        content_type=clean_type(msg.get_content_type()),
        text=_without_nul(body.text, defects),
        html=_without_nul(body.html, defects) if body.html is not None else None,
        attachments=tuple(body.attachments),
        calendars=tuple(body.calendars),
        delivery_status=tuple(body.delivery_status),
        returned_message_ids=returned_ids(body, message_ids[0] if message_ids else None),
        headers=headers,
        defects=tuple(dict.fromkeys(defects)),
    )
