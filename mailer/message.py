"""Parsing raw RFC 5322 / MIME bytes into a :class:`ParsedMessage` (pure: no I/O).

The MIME tree comes from the standard library :mod:`email` parser with a ``compat32``-based
policy; headers, parameters and bodies are decoded here. The modern ``email.policy.default``
parses each header with a full RFC 5322 grammar, which costs about 2 ms for a typical 3 KB
message on a small server against 0.3 ms for ``compat32``, raises on some broken headers, and
gives up on charsets Python does not know. Decoding ourselves keeps parsing well under a
millisecond and lets every step fall back instead of failing.

Parsing never raises: whatever had to be repaired or guessed is listed in
:attr:`ParsedMessage.defects`. Standards followed: RFC 5322 (message format), RFC 2045-2047
(MIME, encoded-words), RFC 2231 (parameter values), RFC 6532 (raw UTF-8 headers),
RFC 3464 (delivery status), RFC 5545/6047 (iCalendar parts).
"""
from __future__ import annotations

import binascii
import codecs
import functools
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from email.parser import BytesParser
from email.policy import Compat32
from email.utils import getaddresses, parsedate_to_datetime

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


# -- charsets -------------------------------------------------------------------------------

# MIME charset names Python lacks or maps to a narrower codec than senders really use.
# "" means "no real charset was declared": guess.
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "ks_c_5601_1987": "cp949",
    "ksc5601": "cp949", "ksc_5601": "cp949", "euc-kr": "cp949", "x-windows-949": "cp949",
    "x-sjis": "cp932", "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932",
    "windows-31j": "cp932", "x-euc-jp": "euc_jp",
    "iso-2022-jp": "iso2022_jp_ext", "iso-2022-jp-ms": "iso2022_jp_ext",
    "cp50220": "iso2022_jp_ext", "cp50221": "iso2022_jp_ext", "cp50222": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext", "iso-2022-jp-3": "iso2022_jp_3",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
    "cp936": "gb18030", "chinese": "gb18030", "x-euc-cn": "gb18030", "big5": "big5hkscs",
    "windows-874": "cp874", "x-windows-874": "cp874", "iso-8859-8-i": "iso8859_8",
    "iso-8859-6-i": "iso8859_6", "x-mac-roman": "mac_roman", "x-mac-cyrillic": "mac_cyrillic",
    "win-1252": "cp1252", "x-cp1252": "cp1252", "x-cp1251": "cp1251", "x-unicode20utf8": "utf-8",
    "x-unknown": "", "unknown-8bit": "", "unknown": "", "x-user-defined": "", "default": "",
    "none": "", "charset": "", "us-ascii": "", "ascii": "", "ansi_x3.4-1968": "",
}


@functools.lru_cache(maxsize=256)
def _codec(charset: str | None) -> str | None:
    """Return the Python codec for MIME charset ``charset``, or None when we must guess."""
    if not charset:
        return None
    # RFC 2231 lets an encoded-word's charset carry a language: "utf-8*en".
    name = charset.strip().strip("\"'").split("*", 1)[0].lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not name:
        return None
    try:
        codec = codecs.lookup(name).name
        # A bytes-to-bytes codec named as a charset ("base64", "quoted-printable") decodes no
        # text: bytes.decode raises LookupError for it (given any bytes at all).
        b"a".decode(codec, "ignore")
        return codec
    except (LookupError, ValueError, TypeError):
        return None


# Bytes that UTF-8 rejects in mostly-UTF-8 text, among ASCII (or other stray bytes), are read as
# Windows-1252 (Latin-1 for its five holes): Latin-1 text in a UTF-8 body, such as a disclaimer a
# server appended, is the usual cause, and "Geschäftsführer" reads better than
# "Gesch\ufffdftsf\ufffdhrer". Right after a UTF-8 multi-byte character, or cut off at the very
# end, a bad byte is damage to UTF-8 text (a truncated name) and stays U+FFFD.
_CP1252_BYTES = [bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(256)]
_STRAY_BYTES = "mailer.stray-bytes-as-cp1252"


def _stray_bytes_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    before = error.object[error.start - 1] if error.start else 0
    if 0x80 <= before < 0xC0 or error.reason == "unexpected end of data":
        return "\ufffd", error.end
    return "".join(_CP1252_BYTES[b] for b in error.object[error.start : error.end]), error.end


codecs.register_error(_STRAY_BYTES, _stray_bytes_as_cp1252)


def _decode_bytes(data: bytes, charset: str | None, defects: list[str]) -> str:
    """Decode ``data`` declared as ``charset``: the declared codec, else UTF-8, else cp1252.

    US-ASCII counts as undeclared: mail labelled ASCII is often UTF-8 or Latin-1 in truth.
    """
    codec = _codec(charset)
    if codec:
        try:
            return data.decode(codec)
        except UnicodeError:
            pass
        if codec.startswith("iso2022_jp"):
            text = _jis_as_cp932(data)
            if text is not None:
                return text
    if data.isascii():
        # 7-bit data the declared charset (ISO-2022-*, UTF-7) rejected is still best read by it.
        return data.decode(codec, "replace") if codec else data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec:
        try:
            text = data.decode(codec, _STRAY_BYTES if codec == "utf-8" else "replace")
            defects.append(f"bytes invalid in {charset}")
            return text
        except LookupError:
            pass
    if charset and charset.strip().lower() not in _CHARSET_ALIASES:
        defects.append(f"unknown charset {charset[:40]!r}")
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    if len(text) - len(data) < -2 * bad:
        # Mostly valid UTF-8 (each good multi-byte character shortens the text): better read
        # as such, with a few stray bytes, than everything as mojibake.
        defects.append("bytes invalid in UTF-8")
        return data.decode("utf-8", _STRAY_BYTES)
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_JIS_ESCAPE = re.compile(rb"(\x1b(?:\$[@B]|\([BJI]))")


def _jis_as_cp932(data: bytes) -> str | None:
    """Decode ISO-2022-JP carrying Microsoft's extensions (CP50220: circled digits and more).

    Python's iso2022_jp codecs reject those characters; re-encoding each JIS X 0208 pair as
    Shift_JIS and decoding that as cp932 recovers them. Returns None if even that fails.
    """
    out = bytearray()
    mode = b"(B"
    for chunk in _JIS_ESCAPE.split(data):
        if chunk.startswith(b"\x1b"):
            mode = chunk[1:]
        elif mode in (b"$B", b"$@"):
            for j1, j2 in zip(chunk[::2], chunk[1::2]):
                s1 = ((j1 + 1) >> 1) + 0x70
                s1 += 0x40 if s1 >= 0xA0 else 0
                s2 = j2 + 0x1F + (j2 >= 0x60) if j1 & 1 else j2 + 0x7E
                out += bytes((s1 & 0xFF, s2 & 0xFF))
        elif mode == b"(I":  # JIS X 0201 half-width katakana
            out += bytes(b | 0x80 for b in chunk)
        else:
            out += chunk
    try:
        return out.decode("cp932")
    except UnicodeDecodeError:
        return None


def _text_of_raw(value: str, hint: str | None, defects: list[str]) -> str:
    """Return a raw header string (8-bit bytes kept as surrogates by the parser) as text.

    RFC 6532 allows UTF-8; anything else was sent in the body's charset more often than not.
    """
    if value.isascii():
        if hint == "utf-7" and "+" in value:
            # A UTF-7 body's client (Netscape 4) wrote its headers in raw UTF-7 as well.
            try:
                return value.encode("ascii").decode("utf-7")
            except UnicodeDecodeError:
                pass
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_bytes(data, hint, defects)


# -- headers --------------------------------------------------------------------------------

_LINE_BREAK = re.compile(r"[\r\n]+[ \t]?")
# The text may hold a "?" not followed by "=": broken senders put raw "?" in Q words.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?((?:[^?]|\?(?!=))*)\?=")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")


def _unfold(value: str) -> str:
    """Undo RFC 5322 folding (a folding tab reads as a space)."""
    if "\n" in value or "\r" in value:
        return _LINE_BREAK.sub(" ", value)
    return value


def _b64decode(data: bytes) -> bytes:
    """Decode base64 leniently: stray characters dropped, missing padding added."""
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        cleaned = _NOT_BASE64.sub(b"", data)
        cleaned = cleaned[: len(cleaned) - 1] if len(cleaned) % 4 == 1 else cleaned
        return binascii.a2b_base64(cleaned + b"=" * (-len(cleaned) % 4))


def _word_bytes(encoding: str, text: str) -> bytes:
    data = text.encode("utf-8", "surrogateescape")
    if encoding in "bB":
        return _b64decode(data)
    return binascii.a2b_qp(data, header=True)


def decode_header_value(value: str, hint: str | None = None, defects: list[str] | None = None) -> str:
    """Return header ``value`` unfolded, with RFC 2047 encoded-words and raw 8-bit text decoded.

    Lenient where senders are sloppy: encoded-words inside quotes or glued to other text are
    decoded too, adjacent words in one charset are joined before decoding (so a character split
    across two words survives), and unknown charsets fall back to UTF-8 or cp1252. ``hint`` is
    the charset to try for raw 8-bit bytes that are not UTF-8. Never raises.
    """
    defects = [] if defects is None else defects
    value = _unfold(value)
    if "=?" not in value:
        text = _text_of_raw(value, hint, defects)
        return _CONTROLS.sub("", text) if not text.isprintable() else text
    out: list[str] = []
    pending = b""
    pending_charset: str | None = None
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        charset, encoding, text = match.groups()
        # RFC 2047 6.2: whitespace between two encoded-words is not part of the text.
        if gap and not (pending_charset is not None and gap.isspace()):
            if pending_charset is not None:
                out.append(_decode_bytes(pending, pending_charset, defects))
                pending, pending_charset = b"", None
            out.append(_text_of_raw(gap, hint, defects))
        try:
            data = _word_bytes(encoding, text)
        except (binascii.Error, ValueError):
            defects.append("undecodable encoded-word")
            data = match.group(0).encode("ascii", "replace")
        if pending_charset is not None and charset.lower() != pending_charset.lower():
            out.append(_decode_bytes(pending, pending_charset, defects))
            pending = b""
        pending, pending_charset = pending + data, charset
        pos = match.end()
    if pending_charset is not None:
        out.append(_decode_bytes(pending, pending_charset, defects))
    out.append(_text_of_raw(value[pos:], hint, defects))
    # Decoded words can smuggle in control characters no header should show.
    return _CONTROLS.sub("", "".join(out))


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
    if not isinstance(data, bytes):
        return b""
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
    )


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


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse ``raw`` (an RFC 5322 message, MIME or not) into a :class:`ParsedMessage`.

    Never raises: an unreadable header becomes ``None``/empty, an unknown charset a guess, and
    each repair a short note in ``defects``. A leading mbox ``From `` line is dropped.
    """
    defects: list[str] = []
    try:
        return _parse(bytes(raw), defects)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises", whatever the input
        # Nothing above is expected to raise; if a stdlib corner case does, a message with
        # no content is still better for the caller than a crash in the intake loop.
        logger.warning("could not parse a message of %s bytes: %r", len(raw or b""), exc)
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


def _parse(raw: bytes, defects: list[str]) -> ParsedMessage:
    raw = _strip_mbox_line(raw, defects)
    msg = _PARSER.parsebytes(raw)
    if any(type(d).__name__ in _HEADER_DAMAGE for d in msg.defects):
        repaired = _repair_headers(raw)
        if repaired is not None and repaired != raw:
            msg = _PARSER.parsebytes(repaired)
            defects.append("damaged header block mended")
    body = _read_body(msg, defects)
    hint = body.charset
    items = [(name.strip().lower(), value) for name, value in msg.raw_items()]
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
        text=body.text,
        html=body.html,
        attachments=tuple(body.attachments),
        calendars=tuple(body.calendars),
        delivery_status=tuple(body.delivery_status),
        headers=headers,
        defects=tuple(dict.fromkeys(defects)),
    )
