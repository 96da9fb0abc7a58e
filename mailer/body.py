"""A message's body: its MIME parts read into text, HTML, attachments, calendar parts, delivery
status and the ids of a message it returns (pure: no I/O).

:func:`read_body` walks the leaf parts of a message the :mod:`email` package parsed, without
recursion and within bounds (2000 parts, 40 levels deep), decodes each
with :mod:`mailer.charsets`, and never raises: whatever it had to repair is noted in ``defects``.
An :class:`Attachment` keeps its MIME part and decodes its content only when asked. Standards
followed: RFC 2045-2047 (MIME), RFC 2231 (parameter values), RFC 3462/6533 (returned headers),
RFC 3464 (delivery status), RFC 5545/6047 (iCalendar parts).
"""
from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from email.message import Message

from mailer.charsets import b64decode as _b64decode
from mailer.charsets import codec as _codec
from mailer.charsets import decode_bytes as _decode_bytes
from mailer.charsets import decode_header_value
from mailer.charsets import text_of_raw as _text_of_raw
from mailer.charsets import unfold as _unfold
from mailer.filenames import sanitise_filename
from mailer.header_fields import read_message_ids
from mailer.html import html_to_text

_MAX_PARTS = 2000
_MAX_DEPTH = 40
_EXACT_SIZE_LIMIT = 256 * 1024  # quoted-printable/uuencoded parts up to this are decoded to size them


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
    return clean_type(part.get_content_type())


def clean_type(content_type: str) -> str:
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
class Body:
    """What the walk over the leaf parts collects."""

    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    calendars: list[CalendarPart] = field(default_factory=list)
    delivery_status: list[str] = field(default_factory=list)
    returned_ids: list[str] = field(default_factory=list)  # of enclosed messages and returned headers
    charset: str | None = None  # of the first text part: the best guess for raw 8-bit headers


def read_body(msg: Message, defects: list[str]) -> Body:
    """Walk the leaf parts of ``msg`` and collect its body; the text comes from the HTML when there
    is no text part. Never raises."""
    body = Body()
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
        found.extend(read_message_ids(value.replace(">", " ") if "<" not in value else value))
        if len(found) >= _MAX_RETURNED_IDS:
            break
    return found


def _enclosed_message_ids(part: Message) -> list[str]:
    """The Message-ID of a message/rfc822 part's message, if it has one."""
    payload = _payload(part)
    inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
    if inner is None:  # an enclosed message the parser kept as text: its header lines
        return _quoted_message_ids(_NEWLINES.sub("\n", payload)) if isinstance(payload, str) else []
    return list(read_message_ids(inner.get("message-id")))


def returned_ids(body: Body, own_id: str | None) -> tuple[str, ...]:
    """The returned message's ids: from its parts when there are any, else the bounce's text."""
    found = body.returned_ids or _quoted_message_ids(body.text or "")
    return tuple(dict.fromkeys(i for i in found[:_MAX_RETURNED_IDS] if i != own_id))
