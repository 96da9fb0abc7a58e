"""The fields of a message's header that name people and messages, read from raw values (pure).

Address lists (RFC 5322 3.4), message ids (RFC 5322 3.6.4), the Date (RFC 5322 3.3) and the
envelope sender of Return-Path (RFC 5321 4.4). Each reader takes the raw header value, decodes it
with :mod:`mailer.charsets`, never raises, and notes what it had to repair in ``defects``.
:func:`mailer.message.parse_message` calls them for the message, :mod:`mailer.body` for the ids a
bounce returns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import getaddresses, parsedate_to_datetime

from mailer.charsets import decode_header_value
from mailer.charsets import text_of_raw as _text_of_raw
from mailer.charsets import unfold as _unfold

_MAX_ADDRESS_CHARS = 32_000  # of an address header handed to getaddresses


@dataclass(frozen=True)
class Address:
    """A mailbox address; ``email`` has its domain lower-cased, ``name`` may be empty."""

    name: str
    email: str



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


def read_addresses(raw: str | None, hint: str | None, defects: list[str]) -> tuple[Address, ...]:
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


def read_message_ids(raw: str | None, lenient: bool = False) -> tuple[str, ...]:
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


def read_date(raw: str | None, defects: list[str]) -> datetime | None:
    """Return the Date header as an aware datetime (UTC when it names no zone), or None when it
    is missing, unreadable or out of range."""
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


def read_return_path(raw: str | None) -> str | None:
    """Return the envelope sender of a Return-Path header: "" for ``<>``, None if absent."""
    if raw is None:
        return None
    value = _text_of_raw(_unfold(raw), None, []).strip()
    match = _MSG_ID.search(value)
    inner = (match.group(1) if match else value).strip()
    return _normalise_email(inner) or inner
