"""Composing outgoing messages (pure: no I/O): :func:`compose` and the checks it applies.

Standards: RFC 5322 (message format, threading headers), RFC 2045-2047 and RFC 2231 (MIME,
encoded-words and parameters, written by the standard library :mod:`email` package), RFC 3834
(``Auto-Submitted``), RFC 5546 and RFC 6047 (iMIP: calendar invitations by mail).

Values that may come from inbound mail are untrusted. Every subject, display name and extra
header value goes through :func:`safe_header`, every address through :func:`safe_address`, and the
finished header block is checked to hold exactly the headers written here. That last check is
defence in depth: the ``email`` package decodes RFC 2047 encoded-words found in ``str`` values,
and some Python releases write the CR LF such a word decodes to verbatim, a header injection
(CPython gh-121650 and gh-144125).

Message ids are passed and returned without angle brackets, as :class:`mailer.message.ParsedMessage`
holds them. Bad arguments raise :class:`ValueError`.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Mapping, Sequence

from mailer.filenames import sanitise_filename
from mailer.header_fields import Address
from mailer.text_mime import header_lines_fit, text_message

#: CR LF line endings, and 7-bit bodies (quoted-printable or base64 where needed) so that any
#: SMTP server takes the message without the 8BITMIME extension.
POLICY = SMTP.clone(cte_type="7bit")

#: Longest References header value kept, in characters (ids are dropped from the middle).
MAX_REFERENCES_CHARS = 1000
#: iTIP methods (RFC 5546 section 1.4) a calendar part may carry.
CALENDAR_METHODS = frozenset({"PUBLISH", "REQUEST", "REPLY", "ADD", "CANCEL", "REFRESH", "COUNTER",
                              "DECLINECOUNTER"})
#: Headers compose writes itself; ``headers=`` may not set them.
RESERVED_HEADERS = frozenset({
    "date", "from", "sender", "reply-to", "to", "cc", "bcc", "subject", "message-id", "in-reply-to",
    "references", "auto-submitted", "mime-version", "return-path", "received",
})
_RESERVED_PREFIXES = ("content-", "resent-")

_SEPARATORS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Bidi embeddings, overrides and isolates can make a subject read backwards ("Trojan Source").
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL_PART = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_TOKEN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_+=-]|\.(?![.]|$))*")
_STRICT_ID = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*@{_ATEXT}+(?:\.{_ATEXT}+)*")
# An id taken from inbound mail is echoed back as sent, as long as it cannot break the header:
# printable ASCII without angle brackets or whitespace.
_LOOSE_ID = re.compile(r"[!-;=?-~]{1,250}")
_HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,75}")
# Display names the email package writes as they are (no quoting, no encoded-words).
_PLAIN_NAME = re.compile(r"(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)?")
_KEYWORD = re.compile(r"[a-z][a-z0-9-]{0,40}")
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_HEADER_LINE = re.compile(rb"([!-9;-~]+):")
_METHOD_PROPERTY = re.compile(r"^METHOD[;:](?:.*:)?\s*([A-Za-z-]+)\s*$", re.MULTILINE)
# What ends a line of an iCalendar object. str.splitlines also cuts at U+2028, U+2029 and some
# control characters, and would break a content line holding one in two.
_LINE_END = re.compile(r"\r\n|\r|\n")


def safe_header(value: str, limit: int = 200) -> str:
    """Return ``value`` (often taken from inbound mail) made safe for an outgoing header.

    Runs of whitespace and control characters (CR, LF, TAB, C0/C1 controls, the Unicode line and
    paragraph separators) become one space; bidi overrides are removed; lone surrogates become
    U+FFFD; the result is stripped and cut to ``limit`` characters, ending in "…" when cut (never
    between a character and its combining marks). ``=?`` gets a zero-width space after the ``=``
    so that text never reads as an RFC 2047 encoded-word to be decoded a second time.
    Raises :class:`ValueError` if ``limit`` is below 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    value = _SURROGATES.sub("\ufffd", _BIDI_CONTROLS.sub("", str(value)))
    value = _SEPARATORS.sub(" ", value).strip().replace("=?", "=\u200b?")
    if len(value) <= limit:
        return value
    cut = limit - 1
    while cut > 0 and unicodedata.combining(value[cut]):
        cut -= 1
    return value[:cut].rstrip() + "…"


def safe_address(email: str) -> str:
    """Return the addr-spec ``email`` (``local@domain``) with its domain lower-cased, if it is safe.

    Safe means usable as is in a header and in an SMTP envelope (RFC 5321 4.1.2, RFC 5322 3.4.1):
    ASCII, exactly one ``@``, a dot-atom local part of at most 64 characters (no quoted local
    parts, so no whitespace, controls, ``<>()[],;:"`` or backslash), a host name of letters,
    digits, ``-`` and ``_`` as the domain (no address literals; IDNs in A-label form), at most 254
    characters in all. Raises :class:`ValueError` otherwise.
    """
    if not isinstance(email, str) or not email.isascii() or len(email) > 254 or email.count("@") != 1:
        raise ValueError(f"not a usable email address: {email!r:.300}")
    local, _, domain = email.partition("@")
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local) or not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a usable email address: {email!r:.300}")
    return f"{local}@{domain.lower()}"


def make_message_id(token: str, domain: str) -> str:
    """Return the Message-ID ``token@domain`` (without angle brackets), the same for the same inputs.

    The caller chooses ``token`` so that a message has the same id however often it is built
    (e.g. ``"wg.ack.42"``), stores it and threads replies with it. ``token`` is 1 to 128 letters,
    digits and ``.``, ``_``, ``+``, ``=``, ``-``, starting with a letter or digit, without empty
    dot-separated parts; ``domain`` a host name (lower-cased). Raises :class:`ValueError` otherwise.
    """
    if not isinstance(token, str) or len(token) > 128 or not _TOKEN.fullmatch(token):
        raise ValueError(f"unsafe Message-ID token: {token!r:.200}")
    if not isinstance(domain, str) or len(domain) > 200 or not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a host name for a Message-ID: {domain!r:.200}")
    return f"{token}@{domain.lower()}"


def compose(
    *,
    sender: Address,
    to: Sequence[Address],
    subject: str,
    text: str,
    message_id: str,
    date: datetime,
    cc: Sequence[Address] = (),
    reply_to: Address | None = None,
    html: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto_submitted: str | None = None,
    headers: Mapping[str, str] | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    calendar: tuple[str, str] | None = None,
    sent_by: Address | None = None,
) -> bytes:
    """Return an RFC 5322 message as bytes with CR LF line endings and 7-bit content.

    ``text`` is the plain body. With ``html`` or ``calendar`` the body is multipart/alternative
    (text, then HTML, then calendar: the last is the richest). ``calendar`` is ``(method,
    ics_text)``: an iMIP message (RFC 6047) gets a ``text/calendar; method=...`` alternative and the
    same object as an ``invite.ics`` attachment (``application/ics``), which is what common
    clients send and read. ``attachments`` are ``(filename, content_type, data)``; with any, the
    whole is multipart/mixed.

    ``message_id`` is written exactly (see :func:`make_message_id`); ``in_reply_to`` and
    ``references`` (oldest first) are ids as read from inbound mail: ids that could break the
    header are left out rather than failing the reply, and References is cut to
    :data:`MAX_REFERENCES_CHARS` by dropping ids from the middle, keeping the first and the most
    recent ones (RFC 5322 3.6.4). ``sent_by`` is the mailbox that sends for the author in
    ``sender`` (the ``Sender:`` header, RFC 5322 3.6.2); left out when it is the author. ``date`` must be aware. ``auto_submitted`` is an RFC 3834 keyword
    (``"auto-replied"``, ``"auto-generated"``). ``headers`` adds headers whose names are tokens not
    in :data:`RESERVED_HEADERS` and start neither ``Content-`` nor ``Resent-``; their values go
    through :func:`safe_header`.

    The same arguments always give the same bytes (MIME boundaries are derived from the content),
    so a message rebuilt for a retry is identical. Raises :class:`ValueError` on a bad argument.
    """
    if not to:
        raise ValueError("a message needs at least one To address")
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("date must be an aware datetime")
    if not attachments and calendar is None and not headers and sent_by is None:
        raw = _text_message(sender, to, cc, reply_to, subject, text, html, message_id, date, in_reply_to, references,
                            auto_submitted)
        if raw is not None:
            return raw
    msg = EmailMessage(policy=POLICY)
    expected = ["date", "from", "to", "subject", "message-id"]
    msg["Date"] = format_datetime(date)
    msg["From"] = [_header_address(sender)]
    if sent_by is not None and safe_address(sent_by.email) != safe_address(sender.email):
        msg["Sender"] = [_header_address(sent_by)]
        expected.append("sender")
    if reply_to is not None:
        msg["Reply-To"] = [_header_address(reply_to)]
        expected.append("reply-to")
    msg["To"] = [_header_address(a) for a in to]
    if cc:
        msg["Cc"] = [_header_address(a) for a in cc]
        expected.append("cc")
    msg["Subject"] = safe_header(subject)
    msg["Message-ID"] = _IdHeader("Message-ID", [_strict_id(message_id)])
    parent = _loose_id(in_reply_to) if in_reply_to else None
    if parent:
        msg["In-Reply-To"] = _IdHeader("In-Reply-To", [parent])
        expected.append("in-reply-to")
    kept = trim_references(references)
    if kept:
        msg["References"] = _IdHeader("References", kept)
        expected.append("references")
    if auto_submitted is not None:
        if not _KEYWORD.fullmatch(auto_submitted):
            raise ValueError(f"not an Auto-Submitted keyword: {auto_submitted!r:.100}")
        msg["Auto-Submitted"] = auto_submitted
        expected.append("auto-submitted")
    for name, value in (headers or {}).items():
        lower = name.lower()
        if not _HEADER_NAME.fullmatch(name) or lower in RESERVED_HEADERS or lower.startswith(_RESERVED_PREFIXES):
            raise ValueError(f"header name not allowed: {name!r:.100}")
        msg[name] = safe_header(value, limit=900)
        expected.append(name.lower())
    _add_body(msg, message_id, text, html, calendar, attachments)
    raw = msg.as_bytes(policy=POLICY)
    _check_header_block(raw, expected)
    return raw


def _text_message(sender: Address, to: Sequence[Address], cc: Sequence[Address], reply_to: Address | None,
                  subject: str, text: str, html: str | None, message_id: str, date: datetime, in_reply_to: str | None,
                  references: Sequence[str], auto_submitted: str | None) -> bytes | None:
    """The message :func:`compose` makes, written by :mod:`mailer.text_mime`; None when a header
    needs encoding or folding (the ``email`` package does that)."""
    names = [safe_header(a.name or "") for a in (sender, *to, *cc, *([reply_to] if reply_to else []))]
    if not all(_PLAIN_NAME.fullmatch(name) for name in names):
        return None
    lines = [f"Date: {format_datetime(date)}", f"From: {_plain_address(sender)}"]
    if reply_to is not None:
        lines.append(f"Reply-To: {_plain_address(reply_to)}")
    lines.append("To: " + ", ".join(_plain_address(a) for a in to))
    if cc:
        lines.append("Cc: " + ", ".join(_plain_address(a) for a in cc))
    lines += [f"Subject: {safe_header(subject)}", f"Message-ID: <{_strict_id(message_id)}>"]
    parent = _loose_id(in_reply_to) if in_reply_to else None
    kept = trim_references(references)
    if auto_submitted is not None and not _KEYWORD.fullmatch(auto_submitted):
        raise ValueError(f"not an Auto-Submitted keyword: {auto_submitted!r:.100}")
    if not header_lines_fit(lines):
        return None
    for name, ids in (("In-Reply-To", [parent] if parent else []), ("References", kept)):
        if ids:
            lines.append(_IdHeader(name, ids).fold(policy=POLICY).removesuffix("\r\n"))
    if auto_submitted is not None:
        lines.append(f"Auto-Submitted: {auto_submitted}")
    seed = hashlib.sha256(message_id.encode("ascii") + b"\0" + _body_text(text).encode())
    if html is not None:
        seed.update(_body_text(html).encode())
    raw = text_message(lines, _body_text(text), None if html is None else _body_text(html),
                       f"=_wg0_{seed.hexdigest()[:32]}", POLICY)
    _check_header_block(raw, [line.split(":", 1)[0].lower() for line in lines if line[:1] not in (" ", "\t")])
    return raw


def _plain_address(address: Address) -> str:
    email, name = safe_address(address.email), safe_header(address.name or "")
    return f"{name} <{email}>" if name else email


def trim_references(ids: Sequence[str], limit: int = MAX_REFERENCES_CHARS) -> list[str]:
    """Return the usable ids of a References list, cut to fit ``limit`` characters.

    Unsafe ids and repeats are left out; when the rest is too long, ids are dropped from the
    middle: the first (the thread's root) and as many of the most recent as fit are kept
    (RFC 5322 3.6.4). Ids are without angle brackets.
    """
    usable = list(dict.fromkeys(i for i in map(_loose_id, ids) if i))
    if not usable:
        return []
    first, recent = usable[0], []
    budget = limit - len(first) - 2  # "<" and ">"
    for ident in reversed(usable[1:]):
        budget -= len(ident) + 3  # a space, "<" and ">"
        if budget < 0:
            break
        recent.append(ident)
    return [first, *reversed(recent)]


# -- headers ------------------------------------------------------------------------------------

class _IdHeader:
    """A header of message ids, folded between ids and never encoded.

    The ``email`` package reads In-Reply-To and References as unstructured text and would turn a
    long id into RFC 2047 encoded-words, which no client matches. A value with a ``name`` is taken
    as a ready header object and folded by its own ``fold`` (``EmailPolicy.header_store_parse``).
    """

    def __init__(self, name: str, ids: Sequence[str]) -> None:
        self.name = name
        self._tokens = [f"<{i}>" for i in ids]

    def __str__(self) -> str:
        return " ".join(self._tokens)

    def fold(self, *, policy) -> str:
        width = policy.max_line_length or 998
        lines = [f"{self.name}:"]
        for n, token in enumerate(self._tokens):
            if n and len(lines[-1]) + 1 + len(token) > width:
                lines.append("")  # a continuation line starts with the space added below
            lines[-1] += " " + token
        return policy.linesep.join(lines) + policy.linesep


def _header_address(address: Address) -> HeaderAddress:
    return HeaderAddress(display_name=safe_header(address.name or ""), addr_spec=safe_address(address.email))


def _strict_id(value: str) -> str:
    ident = value[1:-1] if value.startswith("<") and value.endswith(">") else value
    if len(ident) > 250 or not _STRICT_ID.fullmatch(ident):
        raise ValueError(f"not a Message-ID to send: {value!r:.300}")
    return ident


def _loose_id(value: str) -> str | None:
    ident = value.strip()
    ident = ident[1:-1] if ident.startswith("<") and ident.endswith(">") else ident
    return ident if _LOOSE_ID.fullmatch(ident) else None


def _check_header_block(raw: bytes, expected: list[str]) -> None:
    """Fail unless the top-level header block holds exactly the headers compose wrote."""
    block = raw.split(b"\r\n\r\n", 1)[0]
    if b"\r" in block.replace(b"\r\n", b"") or b"\n" in block.replace(b"\r\n", b""):
        raise ValueError("refusing to write a header with a bare CR or LF")
    names = []
    for line in block.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            continue
        match = _HEADER_LINE.match(line)
        if not match:
            raise ValueError(f"refusing to write a malformed header line: {line[:80]!r}")
        names.append(match.group(1).decode("ascii").lower())
    # Content-Transfer-Encoding is there for a single-part body only.
    found = sorted(n for n in names if n != "content-transfer-encoding")
    wanted = sorted([*expected, "mime-version", "content-type"])
    if found != wanted or names.count("content-transfer-encoding") > 1:
        raise ValueError(f"refusing to write headers {sorted(names)}: expected {sorted(expected)}")


# -- body ---------------------------------------------------------------------------------------

def _add_body(msg: EmailMessage, message_id: str, text: str, html: str | None,
              calendar: tuple[str, str] | None, attachments: Sequence[tuple[str, str, bytes]]) -> None:
    msg.set_content(_body_text(text))
    # The boundaries depend on everything in the body, so no body can hold one by design.
    seed = hashlib.sha256(message_id.encode("ascii") + b"\0" + _body_text(text).encode())
    if html is not None:
        msg.add_alternative(_body_text(html), subtype="html")
        seed.update(_body_text(html).encode())
    if calendar is not None:
        method, ics = _calendar(calendar)
        msg.add_alternative(ics, subtype="calendar", params={"method": method})
        msg.add_attachment(ics.encode("utf-8"), maintype="application", subtype="ics", filename="invite.ics")
        seed.update(ics.encode())
    for filename, content_type, data in attachments:
        maintype, subtype = _attachment_type(content_type)
        name = sanitise_filename(safe_header(filename))
        msg.add_attachment(bytes(data), maintype=maintype, subtype=subtype, filename=name)
        seed.update(hashlib.sha256(bytes(data)).digest())
    for n, part in enumerate(msg.walk()):
        if part is not msg:
            # Parts made by add_alternative/add_attachment are whole messages and say so.
            del part["MIME-Version"]
        if part.is_multipart():
            part.set_boundary(f"=_wg{n}_{seed.hexdigest()[:32]}")


def _body_text(text: str) -> str:
    return _SURROGATES.sub("\ufffd", text)


def _calendar(calendar: tuple[str, str]) -> tuple[str, str]:
    method, ics = calendar
    method = method.strip().upper()
    if method not in CALENDAR_METHODS:
        raise ValueError(f"not an iTIP method: {method!r:.40}")
    found = _METHOD_PROPERTY.search(ics)
    if found and found.group(1).upper() != method:
        # RFC 6047 2.4: the method parameter must match the METHOD property of the object.
        raise ValueError(f"method {method} does not match the object's METHOD:{found.group(1)}")
    # iCalendar lines end in CR LF (RFC 5545 3.1), in the attachment as in the body part.
    ics = _LINE_END.sub("\r\n", _body_text(ics))
    return method, ics if ics.endswith("\r\n") else ics + "\r\n"


def _attachment_type(content_type: str) -> tuple[str, str]:
    content_type = content_type.strip().lower()
    if not _MIME_TYPE.fullmatch(content_type):
        raise ValueError(f"not a MIME type: {content_type!r:.100}")
    maintype, subtype = content_type.split("/")
    if maintype in ("multipart", "message"):
        # These would need their own structure or transfer encoding (RFC 2046 5.2.1).
        raise ValueError(f"cannot attach {content_type} as bytes")
    return maintype, subtype
