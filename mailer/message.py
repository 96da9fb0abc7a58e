"""Parsing raw RFC 5322 / MIME bytes into a :class:`ParsedMessage` (pure: no I/O).

The MIME tree comes from the standard library :mod:`email` parser with a ``compat32``-based
policy; headers, parameters and bodies are decoded here. The modern ``email.policy.default``
parses each header with a full RFC 5322 grammar, which costs about 2 ms for a typical 3 KB
message on a small server against 0.3 ms for ``compat32``, raises on some broken headers, and
gives up on charsets Python does not know. Decoding ourselves keeps parsing well under a
millisecond and lets every step fall back instead of failing.

Charsets and encoded-words are decoded by :mod:`mailer.charsets`. Parsing never raises: whatever
had to be repaired or guessed is listed in
:attr:`ParsedMessage.defects`. Standards followed: RFC 5322 (message format), RFC 2045-2047
(MIME, encoded-words), RFC 2231 (parameter values), RFC 6532 (raw UTF-8 headers),
RFC 3464 (delivery status), RFC 5545/6047 (iCalendar parts).
"""
from __future__ import annotations

import binascii
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from email.parser import BytesParser
from email.policy import Compat32
from email.utils import getaddresses, parsedate_to_datetime
from functools import cached_property

from mailer.charsets import b64decode as _b64decode
from mailer.charsets import codec as _codec
from mailer.charsets import decode_bytes as _decode_bytes
from mailer.charsets import decode_header_value
from mailer.charsets import text_of_raw as _text_of_raw
from mailer.charsets import unfold as _unfold
from mailer.html import html_to_text

logger = logging.getLogger(__name__)

MAX_HEADERS = 500  # kept in ParsedMessage.headers
MAX_HEADER_CHARS = 4000  # per decoded header value
_MAX_RAW_HEADER = 16_000  # raw characters decoded per header; the rest cannot fit anyway
_MAX_ADDRESS_CHARS = 32_000  # of an address header handed to getaddresses
_MAX_PARTS = 2000
_MAX_DEPTH = 40
_EXACT_SIZE_LIMIT = 256 * 1024  # quoted-printable/uuencoded parts up to this are decoded to size them


@dataclass(frozen=True)
class Address:
    """A mailbox address; ``email`` has its domain lower-cased, ``name`` may be empty."""

    name: str
    email: str


@dataclass(frozen=True)
class Attachment:
    """An attachment's metadata, and its content on demand (:meth:`content`).

    ``filename`` is sanitised (no path separators, no ``..``); ``named`` is False when the sender
    gave no name and ``filename`` is made up from the type (``attachment.pdf``, ``forwarded.eml``).
    ``disposition`` is the Content-Disposition as sent (``attachment``, ``inline`` or None).
    """

    filename: str
    content_type: str
    size: int
    inline: bool = False
    content_id: str | None = None
    named: bool = True
    disposition: str | None = None
    charset: str | None = None  # the charset parameter, for a text file
    # The MIME part, so that the content is decoded only when asked for, from the one parse of the
    # message: a large file costs no memory until a caller needs its bytes.
    _part: Message | None = field(default=None, repr=False, compare=False)

    def content(self) -> bytes | None:
        """The decoded bytes; None when there are none to give (an enclosed message, an uuencoded
        file cut from the text, a transfer encoding that cannot be decoded). Never raises."""
        if self._part is None or self._part.is_multipart():
            return None
        try:
            data = self._part.get_payload(decode=True)
            return _finish_decoding(self._part, data) if isinstance(data, bytes) else None
        except Exception:  # noqa: BLE001 - a broken transfer encoding: no content
            return None

    def listing(self) -> dict:
        """What a listing shows of it: ``filename``, ``content_type``, ``size``, ``inline``."""
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size, "inline": self.inline}


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


# -- addresses, ids, dates ------------------------------------------------------------------

_MSG_ID = re.compile(r"<([^<>]*)>")
_BARE_ADDRESS = re.compile(r"[^\s<>,;:\"()\[\]]+@[^\s<>,;:\"()\[\]]+")
_ID_SEPARATORS = re.compile(r"[\s,]+")


def _normalise_email(addr: str) -> str | None:
    """Return ``local@domain`` with the domain lower-cased, or None if it is no address."""
    addr = addr.strip().strip("<>").strip()
    local, at, domain = addr.rpartition("@")
    domain = domain.strip().rstrip(".")
    if not at or not local or not domain or any(c.isspace() for c in addr):
        return None
    return f"{local}@{domain.lower()}"


def _addresses(raw: str | None, hint: str | None, defects: list[str]) -> tuple[Address, ...]:
    """Return the addresses of an address header, skipping entries without ``@``.

    The raw value is split first (an encoded display name may hide a comma) and each name is
    decoded afterwards; if that finds nothing, the decoded value is split instead, for senders
    who encode a whole "Name <address>" into one encoded-word.
    """
    if not raw:
        return ()
    value = _unfold(raw[:_MAX_ADDRESS_CHARS])
    found = _address_list(_split_addresses(value, defects), hint, defects)
    if not found and ("=?" in value or not value.isascii()):
        decoded = decode_header_value(value, hint, defects)
        found = _address_list(_split_addresses(decoded, defects), hint, defects)
    if not found and "@" in value:
        # Beyond getaddresses: two addresses without a comma, "name@" <junk address>, ...
        found = _address_list([("", a) for a in _BARE_ADDRESS.findall(value)], hint, defects)
        defects.append("address picked out of a malformed header")
    return tuple(found)


def _split_addresses(value: str, defects: list[str]) -> list[tuple[str, str]]:
    try:
        return getaddresses([value])
    except RecursionError:
        # getaddresses recurses once per ':' (group syntax); a header full of them exhausts
        # the stack. Pick out anything shaped like an address instead.
        defects.append("address header too convoluted: addresses picked by pattern")
        return [("", addr) for addr in _BARE_ADDRESS.findall(value)]


def _address_list(pairs: list[tuple[str, str]], hint: str | None, defects: list[str]) -> list[Address]:
    result: list[Address] = []
    for name, addr in pairs:
        email = _normalise_email(_text_of_raw(addr, hint, defects))
        if email:
            name = decode_header_value(name, hint, defects).strip().strip('"').strip()
            result.append(Address(name=name, email=email))
    return result


def _message_ids(raw: str | None, lenient: bool = False) -> tuple[str, ...]:
    """Return the message ids in ``raw`` without angle brackets, in order, without repeats.

    Bracketed ids win; without any, whitespace/comma separated tokens holding ``@`` are taken
    (any token at all when ``lenient``, for the Message-ID header itself).
    """
    if not raw:
        return ()
    value = _text_of_raw(_unfold(raw), None, [])
    found = ["".join(f.split()) for f in _MSG_ID.findall(value)]
    if not any(found) and "=?" in value:
        # Python's email package writes an id longer than a line as an encoded word
        # (``=?utf-8?q?=3Cwg...?=``); some mailers built on it send that as it is.
        value = decode_header_value(value, None, [])
        found = ["".join(f.split()) for f in _MSG_ID.findall(value)]
    if not any(found):
        tokens = [t.strip("<>") for t in _ID_SEPARATORS.split(value)]
        found = [t for t in tokens if t and (lenient or "@" in t)]
    return tuple(dict.fromkeys(f for f in found if f))


def _date(raw: str | None, defects: list[str]) -> datetime | None:
    if raw is None or not raw.strip():
        return None
    try:
        when = parsedate_to_datetime(_unfold(raw).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("unreadable Date")
        return None
    if when.tzinfo is None:
        defects.append("Date without time zone: assumed UTC")
        when = when.replace(tzinfo=timezone.utc)
    try:
        when.astimezone(timezone.utc)  # 31 Dec 9999 -0800 is past the end of datetime's range in UTC
    except OverflowError:
        defects.append("Date out of range")
        return None
    return when


def _return_path(raw: str | None) -> str | None:
    """Return the envelope sender of a Return-Path header: "" for ``<>``, None if absent."""
    if raw is None:
        return None
    value = _text_of_raw(_unfold(raw), None, []).strip()
    match = _MSG_ID.search(value)
    inner = (match.group(1) if match else value).strip()
    return _normalise_email(inner) or inner


# -- filenames ------------------------------------------------------------------------------

_RESERVED = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
_DOTS = re.compile(r"\.{2,}")
# Bidirectional overrides let "evil\u202excod.exe" display as "evilexe.docx".
_BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
MAX_FILENAME = 200


def sanitise_filename(name: str) -> str:
    """Return ``name`` made safe to show and to store as a file name.

    Keeps the last path component (``/`` or ``\\``), removes control and bidi-override
    characters, the reserved characters ``<>:"|?*``, runs of dots and leading dots, and trims
    to 200 characters keeping the extension. Returns ``"attachment"`` when nothing is left.
    """
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name.translate(_BIDI) if unicodedata.category(c) != "Cc")
    name = _DOTS.sub(".", _RESERVED.sub("", name))
    name = name.strip().lstrip(".").strip().rstrip(". ")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) <= 16:
            name = stem[: MAX_FILENAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name or "attachment"


# -- MIME parts -----------------------------------------------------------------------------

_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
_STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
# The returned message's headers alone (RFC 3462, RFC 6533).
_HEADER_TYPES = frozenset({"text/rfc822-headers", "message/rfc822-headers", "text/global-headers",
                           "message/global-headers"})
# Whole messages (or pointers to them) carried as a part: always listed as attachments.
_ENCLOSED_TYPES = frozenset(
    {"message/rfc822", "message/global", "message/news", "message/partial", "message/external-body"}
)
# Unnamed parts that are not files for a reader: signatures and encryption control parts.
_NOT_FILES = frozenset(
    {"application/pgp-signature", "application/pgp-encrypted", "application/pkcs7-signature",
     "application/x-pkcs7-signature"} | _CALENDAR_TYPES
)
_METHOD_LINE = re.compile(r"^METHOD:[ \t]*([A-Za-z-]+)", re.MULTILINE | re.IGNORECASE)
_UUENCODED = re.compile(r"^begin [0-7]{3,4} ([^\n]+)\n(.*?)^end[ \t]*$", re.MULTILINE | re.DOTALL)
_NEWLINES = re.compile(r"\r\n?")
_DECODED_BY_EMAIL = frozenset({"base64", "quoted-printable", "x-uuencode", "uuencode", "uue", "x-uue"})
_MIME_TYPE = re.compile(r"[a-z0-9!#$&^_.+*-]+/[a-z0-9!#$&^_.+*-]+")


def _walk(msg: Message, defects: list[str]) -> list[Message]:
    """Return the leaf parts of ``msg`` in document order, not looking inside message/* parts."""
    leaves: list[Message] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > _MAX_PARTS:
            defects.append(f"more than {_MAX_PARTS} MIME parts: rest ignored")
            break
        for defect in part.defects:
            defects.append(type(defect).__name__)
        if part.is_multipart() and part.get_content_maintype() != "message":
            if depth >= _MAX_DEPTH:
                defects.append(f"MIME nesting deeper than {_MAX_DEPTH}: rest ignored")
                continue
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            stack.extend((child, depth + 1) for child in reversed(children))
        else:
            leaves.append(part)
    return leaves


def _content_type(part: Message, defects: list[str]) -> str:
    raw = part.get("content-type")
    if raw is not None and "/" not in raw and raw.split(";", 1)[0].strip():
        # compat32 would read "application-x-gzip" as text/plain and show binary as the body.
        defects.append(f"Content-Type without subtype: {raw[:40]!r}")
        return "application/octet-stream"
    if part.is_multipart() is False and part.get_content_maintype() == "multipart":
        # A multipart without a usable boundary: its text is all we have.
        defects.append("multipart without parts read as text")
        return "text/plain"
    return _clean_type(part.get_content_type())


def _clean_type(content_type: str) -> str:
    """Return the ``type/subtype`` at the start of ``content_type`` (a missing ";" glues on more)."""
    match = _MIME_TYPE.match(content_type)
    return match.group(0) if match else "application/octet-stream"


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    """Return parameter ``name`` of ``header``, RFC 2231 decoded, or None."""
    value = part.get_param(name, header=header)
    if value is None or value == "":
        return None if value is None else ""
    if isinstance(value, tuple):
        charset, _language, text = value
        try:
            # get_param leaves RFC 2231 %-escaped bytes as code points 0-255.
            return _decode_bytes(text.encode("latin-1"), charset or "utf-8", [])
        except UnicodeEncodeError:  # raw 8-bit text the policy already decoded
            return text
    return value.strip().strip('"')


def _filename(part: Message, hint: str | None, defects: list[str]) -> str | None:
    name = _param(part, "filename", "content-disposition")
    if not name:
        name = _param(part, "name")
    if not name:
        return None
    # Outlook and Gmail put RFC 2047 encoded-words in parameters, against RFC 2047 5.
    return decode_header_value(name, hint, defects) if "=?" in name else name


def _payload_bytes(part: Message) -> bytes:
    """Return the decoded body of a leaf part (base64, quoted-printable, uuencode)."""
    data = part.get_payload(decode=True)
    return _finish_decoding(part, data) if isinstance(data, bytes) else b""


def _finish_decoding(part: Message, data: bytes) -> bytes:
    """What ``get_payload(decode=True)`` gave, decoded where it did not recognise the encoding."""
    if str(part.get("content-transfer-encoding", "")).lower() in _DECODED_BY_EMAIL:
        return data
    # email hands back the raw bytes for an encoding it did not recognise as written.
    cte = _transfer_encoding(part)
    if cte == "base64":
        return _b64decode(data)
    if cte == "quoted-printable":
        return binascii.a2b_qp(data)
    return data


def _transfer_encoding(part: Message) -> str:
    # "quoted-printable;" and "Base64 " are seen in the wild.
    return str(part.get("content-transfer-encoding", "")).split(";", 1)[0].strip().lower()


def _part_text(part: Message, defects: list[str]) -> str:
    text = _decode_bytes(_payload_bytes(part), part.get_content_charset(), defects)
    return _NEWLINES.sub("\n", text)


def _payload(part: Message) -> list[Message] | str:
    """Return the payload as parsed: the sub-parts, or the body text still transfer-encoded.

    For a body holding raw 8-bit bytes, ``get_payload()`` decodes them again with the charset
    parameter and catches only LookupError: a charset with a NUL in it raises ValueError, an
    RFC 2231 ``charset*=`` (a tuple) TypeError. The text as parsed is what the callers want.
    """
    try:
        return part.get_payload()
    except (ValueError, TypeError):
        return part._payload  # noqa: SLF001 - the only way past that decoding


def _payload_size(part: Message) -> int:
    """Return the decoded size of a part, computed without decoding where that is costly."""
    payload = _payload(part)
    if isinstance(payload, list):
        return sum(_message_size(m) for m in payload if isinstance(m, Message))
    if not isinstance(payload, str):
        return 0
    if _transfer_encoding(part) == "base64":
        stripped = payload.rstrip()
        chars = len(stripped) - sum(stripped.count(c) for c in "\r\n\t ")
        return max(0, chars * 3 // 4 - (len(stripped) - len(stripped.rstrip("="))))
    if len(payload) <= _EXACT_SIZE_LIMIT:
        return len(_payload_bytes(part))
    return len(payload)  # near enough for a large quoted-printable or uuencoded part


def _message_size(msg: Message) -> int:
    """Estimate the size of an enclosed message from its headers and raw payloads."""
    size = sum(len(k) + len(v) + 4 for k, v in msg.raw_items()) + 2
    payload = _payload(msg)
    if isinstance(payload, list):
        return size + sum(_message_size(m) for m in payload if isinstance(m, Message))
    return size + (len(payload) if isinstance(payload, str) else 0)


def _calendar(part: Message, defects: list[str]) -> CalendarPart:
    text = _part_text(part, defects)
    method = _param(part, "method")
    if not method:
        match = _METHOD_LINE.search(text)
        method = match.group(1) if match else None
    return CalendarPart(method=method.strip().upper() if method else None, text=text)


def _status_text(part: Message, defects: list[str]) -> str:
    """Return a delivery-status part as text: its field blocks, separated by blank lines."""
    payload = _payload(part)
    if isinstance(payload, str):
        return _part_text(part, defects)
    blocks = []
    encoded = False
    for block in payload:
        if not isinstance(block, Message):
            continue
        items = list(block.raw_items())
        lines = [f"{k}: {_text_of_raw(_unfold(v), None, defects)}" for k, v in items]
        rest = _part_text(block, defects).strip() if isinstance(_payload(block), str) else ""
        if encoded and not lines and rest:
            # A mail gateway was seen base64-encoding the per-recipient fields and announcing
            # it with a Content-Transfer-Encoding field in the block before.
            rest = _decode_bytes(_b64decode(rest.encode("ascii", "replace")), None, defects).strip()
            defects.append("base64-encoded delivery-status fields decoded")
        encoded = any(k.lower() == "content-transfer-encoding" and v.strip().lower() == "base64"
                      for k, v in items)
        if rest:
            lines.append(_NEWLINES.sub("\n", rest))
        blocks.append("\n".join(lines))
    return "\n\n".join(b for b in blocks if b)


def _is_unnamed_file(content_type: str) -> bool:
    """Whether a part without a name is still a file a reader should see (an inline image)."""
    maintype = content_type.split("/", 1)[0]
    return maintype not in ("text", "multipart", "message") and content_type not in _NOT_FILES


def _default_filename(content_type: str) -> str:
    if content_type in ("message/rfc822", "message/global", "message/news"):
        return "forwarded.eml"
    if content_type == "application/ms-tnef":
        return "winmail.dat"
    subtype = content_type.partition("/")[2]
    return f"attachment.{subtype}" if subtype.isalnum() and len(subtype) <= 4 else "attachment"


def _attachment(part: Message, content_type: str, filename: str | None, disposition: str | None) -> Attachment:
    named = filename is not None
    if filename is None:
        filename = _default_filename(content_type)
    content_id = part.get("content-id")
    content_id = content_id.strip().strip("<>").strip() or None if content_id else None
    return Attachment(
        filename=sanitise_filename(filename),
        content_type=content_type,
        size=_payload_size(part),
        inline=disposition == "inline" or (disposition is None and content_id is not None),
        content_id=content_id,
        named=named,
        disposition=disposition,
        charset=_charset(part) if content_type.startswith(("text/", "application/json", "application/csv")) else None,
        _part=part,
    )


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # noqa: BLE001 - an unreadable parameter: the decoder guesses
        return None


def _uuencoded(text: str) -> tuple[str, list[Attachment]]:
    """Cut uuencoded files (Lotus Notes, Eudora) out of a text body and list them."""
    if "begin " not in text:
        return text, []
    found = []
    for match in _UUENCODED.finditer(text):
        size = sum((ord(line[0]) - 32) & 63 for line in match.group(2).splitlines() if line)
        found.append(Attachment(sanitise_filename(match.group(1).strip()), "application/octet-stream", size))
    return (_UUENCODED.sub("", text), found) if found else (text, [])


@dataclass
class _Body:
    """What the walk over the leaf parts collects."""

    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    calendars: list[CalendarPart] = field(default_factory=list)
    delivery_status: list[str] = field(default_factory=list)
    returned_ids: list[str] = field(default_factory=list)  # of enclosed messages and returned headers
    charset: str | None = None  # of the first text part: the best guess for raw 8-bit headers


def _read_body(msg: Message, defects: list[str]) -> _Body:
    body = _Body()
    first_blank_text: str | None = None
    for part in _walk(msg, defects):
        content_type = _content_type(part, defects)
        disposition = part.get_content_disposition()
        filename = _filename(part, None, defects)
        if content_type in _CALENDAR_TYPES or (filename or "").lower().endswith(".ics"):
            body.calendars.append(_calendar(part, defects))
        if content_type in _STATUS_TYPES:
            body.delivery_status.append(_status_text(part, defects))
            continue
        if content_type in _HEADER_TYPES:
            body.returned_ids.extend(_quoted_message_ids(_part_text(part, defects)))
            continue
        if content_type in _ENCLOSED_TYPES:
            body.returned_ids.extend(_enclosed_message_ids(part))
        if content_type.startswith("text/") and body.charset is None:
            body.charset = _codec(part.get_content_charset())
        named = disposition == "attachment" or filename is not None
        if not named and content_type == "text/plain" and body.text is None:
            text = _part_text(part, defects)
            if text.strip():
                body.text = text
            elif first_blank_text is None:
                first_blank_text = text
        elif not named and content_type == "text/html" and body.html is None:
            body.html = _part_text(part, defects)
        elif named or content_type in _ENCLOSED_TYPES or _is_unnamed_file(content_type):
            body.attachments.append(_attachment(part, content_type, filename, disposition))
    if body.text is None:
        body.text = html_to_text(body.html) if body.html else first_blank_text or ""
    body.text, uuencoded = _uuencoded(body.text)
    body.attachments.extend(uuencoded)
    return body


# -- what a bounce returns ------------------------------------------------------------------

# A "Message-ID:" header line as a bounce quotes it: at a line's start, maybe indented or quoted
# with ">", its value maybe folded onto the next line.
_QUOTED_MESSAGE_ID = re.compile(r"^[ \t>]*Message-ID:[ \t]*([^\n]*)((?:\n[ \t>]+[^\n]*)?)", re.IGNORECASE | re.MULTILINE)
_MAX_RETURNED_IDS = 10


def _quoted_message_ids(text: str) -> list[str]:
    """The Message-IDs of the header lines quoted in ``text`` (returned headers, a bounce's text)."""
    found: list[str] = []
    for match in _QUOTED_MESSAGE_ID.finditer(text):
        value = match.group(1) if match.group(1).strip() else match.group(2)  # folded onto the next line
        found.extend(_message_ids(value.replace(">", " ") if "<" not in value else value))
        if len(found) >= _MAX_RETURNED_IDS:
            break
    return found


def _enclosed_message_ids(part: Message) -> list[str]:
    """The Message-ID of a message/rfc822 part's message, if it has one."""
    payload = _payload(part)
    inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
    if inner is None:  # an enclosed message the parser kept as text: its header lines
        return _quoted_message_ids(_NEWLINES.sub("\n", payload)) if isinstance(payload, str) else []
    return list(_message_ids(inner.get("message-id")))


def _returned_ids(body: _Body, own_id: str | None) -> tuple[str, ...]:
    """The returned message's ids: from its parts when there are any, else the bounce's text."""
    found = body.returned_ids or _quoted_message_ids(body.text or "")
    return tuple(dict.fromkeys(i for i in found[:_MAX_RETURNED_IDS] if i != own_id))


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
    body = _Body(text="") if headers_only else _read_body(msg, defects)
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
    message_ids = _message_ids(first.get("message-id"), lenient=True)
    from_ = _addresses(first.get("from"), hint, defects)
    return ParsedMessage(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=_message_ids(first.get("in-reply-to")),
        references=_message_ids(first.get("references")),
        subject=decode_header_value(subject[:_MAX_RAW_HEADER], hint, defects).strip() if subject else "",
        from_=from_[0] if from_ else None,
        reply_to=_addresses(first.get("reply-to"), hint, defects),
        to=_addresses(first.get("to"), hint, defects),
        cc=_addresses(first.get("cc"), hint, defects),
        date=_date(first.get("date"), defects),
        return_path=_return_path(first.get("return-path")),
        content_type=_clean_type(msg.get_content_type()),
        text=_without_nul(body.text, defects),
        html=_without_nul(body.html, defects) if body.html is not None else None,
        attachments=tuple(body.attachments),
        calendars=tuple(body.calendars),
        delivery_status=tuple(body.delivery_status),
        returned_message_ids=_returned_ids(body, message_ids[0] if message_ids else None),
        headers=headers,
        defects=tuple(dict.fromkeys(defects)),
    )
