"""Deeply nested MIME: the email package reads nested parts recursively and runs out of stack some
hundreds of levels down. The message was then quarantined as "no sender address"; now its headers
are still read, and the sender gets a ticket like anyone else."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from support.app import plain_intake
from support.fakes import FakeSource

from mailer import parse_message

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)
HEAD = ("From: Ana Souza <ana@globex.example>\r\nTo: support@northwind.example\r\nSubject: Nested forward\r\n"
        "Message-ID: <deep@globex.example>\r\nDate: Wed, 18 Nov 2026 15:00:00 +0000\r\nMIME-Version: 1.0\r\n")


def multiparts(depth: int) -> bytes:
    opening = "".join(f'--b{i - 1}\r\nContent-Type: multipart/mixed; boundary="b{i}"\r\n\r\n' for i in range(1, depth))
    closing = "".join(f"--b{i}--\r\n" for i in range(depth - 2, -1, -1))
    return (HEAD + 'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n' + opening
            + f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b{depth - 1}--\r\n" + closing).encode()


def forwards(depth: int) -> bytes:
    inner = "Content-Type: text/plain\r\n\r\nhello\r\n"
    for i in range(depth):
        inner = f"From: fwd{i}@globex.example\r\nContent-Type: message/rfc822\r\n\r\n" + inner
    return (HEAD + "Content-Type: message/rfc822\r\n\r\n" + inner).encode()


# The issue saw it at 200 levels; this Python reads 200 (a regression guard) and fails deeper.
DEEP = [multiparts(200), multiparts(1500), forwards(1000)]
IDS = ["200-multiparts", "1500-multiparts", "1000-forwards"]


@pytest.mark.parametrize("raw", DEEP, ids=IDS)
def test_deeply_nested_mime_still_has_its_sender_subject_and_message_id(raw):
    parsed = parse_message(raw)
    assert parsed.from_ is not None and parsed.from_.email == "ana@globex.example"
    assert (parsed.subject, parsed.message_id) == ("Nested forward", "deep@globex.example")


@pytest.mark.parametrize("raw", DEEP, ids=IDS)
def test_deeply_nested_mime_opens_a_ticket_for_its_sender_instead_of_quarantine(store, raw):
    source = FakeSource()
    source.add(raw)
    summary = plain_intake(store, lambda: NOW).poll(source)
    assert (summary.processed, summary.quarantined) == (1, 0)
    [ticket] = store.list_tickets()
    assert ticket.requester == "ana@globex.example"
