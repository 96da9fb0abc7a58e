"""Decoding what mail carries as bytes and encoded-words into text, never failing (pure).

:func:`decode_bytes` reads bytes declared in a MIME charset: the declared codec (with the aliases
senders really mean), else UTF-8, else cp1252, with stray bytes kept readable.
:func:`decode_header_value` unfolds a header and decodes its RFC 2047 encoded-words and raw 8-bit
text (RFC 6532). Both note what they had to repair in a ``defects`` list and never raise; they
are the charset half of the parser (:mod:`mailer.message`, :mod:`mailer.header_fields`, :mod:`mailer.body`).
"""
from __future__ import annotations

import binascii
import codecs
import functools
import re

__all__ = ["decode_bytes", "decode_header_value", "text_of_raw", "unfold", "b64decode", "codec"]


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


# Public names for the rest of the package.
decode_bytes = _decode_bytes
text_of_raw = _text_of_raw
unfold = _unfold
b64decode = _b64decode
codec = _codec
