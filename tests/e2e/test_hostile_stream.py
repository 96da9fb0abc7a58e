"""The hostile set: the real-world corpus and the known poison messages mixed into a normal stream of
customers' mail, delivered to a real Dovecot and drained by the worker as it runs (``run --once``).

What the people rely on: every customer in the stream gets their ticket and their receipt, whatever
arrived between their mails; every message delivered is kept, stored or quarantined with its bytes,
none twice; the worker ends every pass without an error; and a second pass finds nothing left to do.
"""
from __future__ import annotations

import random
import re
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from test_end_to_end import desk, message  # noqa: F401  (desk is a fixture)

from mailer.files import iter_messages

pytestmark = [pytest.mark.dovecot, pytest.mark.corpus]

END_OF_TIME = (b"From: Mallory <mallory@example.net>\r\nTo: support@northwind.example\r\nSubject: from the future\r\n"
               b"Date: Fri, 31 Dec 9999 23:59:59 -0800\r\nMessage-ID: <future@example.net>\r\n\r\nhello\r\n")
NUL_HEADERS = (b"From: Nul <n\x00ul@example.net>\r\nTo: support@northwind.example, x\x00@northwind.example\r\n"
               b"Subject: nul\x00s\r\nMessage-ID: <nul\x00@example.net>\r\n\r\nhel\x00lo\r\n")


def nested(depth: int) -> bytes:
    head = b"From: Deep <deep@example.net>\r\nTo: support@northwind.example\r\nSubject: nested\r\nMIME-Version: 1.0\r\n"
    parts = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(depth))
    return head + parts + b"Content-Type: text/plain\r\n\r\ndeep\r\n"


def many_attachments(count: int) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Files <files@example.net>"
    msg["To"] = "support@northwind.example"
    msg["Subject"] = "logs"
    msg.set_content("the logs\n")
    for i in range(count):
        msg.add_attachment(b"x", maintype="application", subtype="octet-stream", filename=f"log{i}.txt")
    return msg.as_bytes()


def forged_bounce() -> bytes:
    return (b"From: MAILER-DAEMON@mx.example.net\r\nTo: support@northwind.example\r\nSubject: Undelivered Mail"
            b" Returned to Sender\r\nMessage-ID: <forged-bounce@example.net>\r\nContent-Type: text/plain\r\n\r\n"
            b"<bob@globex.example>: host said: 550 5.1.1 no such user\r\n")


def test_the_stream_flows_on_through_the_corpus_and_the_poison(desk, corpus_dir):  # noqa: F811
    poison = [END_OF_TIME, NUL_HEADERS, nested(1500), many_attachments(2000), forged_bounce(), b"\r\n", b"garbage"]
    corpus = [m.raw for m in iter_messages([corpus_dir / "mail"])]
    customers = [message(sender=f"Customer {i} <customer{i}@client{i % 7}.example>", to=f"Support <{desk.address}>",
                         subject=f"Question {i}", body=f"Question number {i}.\n", message_id=f"q{i}@client.example")
                 for i in range(40)]
    stream = corpus + poison
    random.Random(15).shuffle(stream)
    step = len(stream) // len(customers) + 1
    mixed = [m for i, customer in enumerate(customers) for m in (customer, *stream[i * step:(i + 1) * step])]
    mixed = [m if m.endswith(b"\r\n") else m + b"\r\n" for m in mixed]
    desk.dovecot.deliver_many(desk.address, mixed)

    out = desk.run_once()
    counts = re.search(r"intake: (\d+) processed, (\d+) duplicates, (\d+) quarantined", out)
    processed, duplicates, quarantined = map(int, counts.groups())
    assert processed + duplicates + quarantined == len(mixed)  # each handled once: kept, or seen before
    with desk.store() as store:
        kept = store.count_messages()
    assert kept == processed + quarantined  # what was not a duplicate is stored, with its bytes
    again = desk.run_once()
    assert "intake: 0 processed, 0 duplicates, 0 quarantined" in again  # nothing left, nothing twice
    tickets = {t["requester"]: t for t in desk.tickets()}
    for i in range(40):
        assert f"customer{i}@client{i % 7}.example" in tickets, f"customer {i} got no ticket"
    acknowledged = {r for s in desk.sent() for r in s.recipients if r.startswith("customer")}
    assert len(acknowledged) == 40
    with desk.store() as store:
        assert store.contact("bob@globex.example").failing_since is None  # the forged bounce counted against nobody
        assert store.count_messages() == kept
