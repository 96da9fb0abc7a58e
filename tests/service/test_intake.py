"""Intake on SQLite and PostgreSQL, with an in-memory mailbox: threading, dedupe, quarantine, crashes."""
from datetime import datetime, timezone

import pytest
from support.app import plain_intake
from support.fakes import FakeSource
from support.mail import make_message

from ticketing.core.domain import (
    IntakeOutcome,
    MessageKind,
    MessageStatus,
    TicketStatus,
)
from ticketing.core.mails import Mails

NOW = datetime(2026, 11, 18, 17, 0, tzinfo=timezone.utc)

AUTO_REPLY = make_message(
    sender="Peter Gibbons <peter@initech.example>",
    subject="Automatic reply: SSO login loop",
    message_id="<ooo1@initech.example>",
    headers={"Auto-Submitted": "auto-replied"},
    body="I am out of the office until Monday.",
)

BOUNCE = b"""From: MAILER-DAEMON@mx.northwind.example (Mail Delivery System)
To: support@northwind.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce1@mx.northwind.example>
Date: Thu, 19 Nov 2026 21:02:55 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.northwind.example

Final-Recipient: rfc822; m.lee@acme-old.example
Action: failed
Status: 5.1.1

--B--
"""


@pytest.fixture
def intake(store):
    return plain_intake(store, lambda: NOW, batch_size=3)


def test_a_new_message_opens_a_ticket_for_its_sender(store, intake):
    source = FakeSource()
    source.add(make_message(), received_at=datetime(2026, 11, 18, 16, 10, 3, tzinfo=timezone.utc))
    summary = intake.poll(source)
    assert (summary.processed, summary.tickets_created) == (1, 1)
    [ticket] = store.list_tickets()
    assert ticket.requester == "bob@globex.example"
    assert ticket.requester_name == "Bob Martinez"
    assert ticket.subject == "SSO login loop"
    assert ticket.status is TicketStatus.OPEN
    assert ticket.created_at == datetime(2026, 11, 18, 16, 10, 3, tzinfo=timezone.utc)  # arrival, not Date:
    assert ticket.message_count == 1
    assert source.processed == ["00000001"]


@pytest.mark.parametrize(
    "threading_headers",
    [
        {"in_reply_to": "<q1@globex.example>"},
        {"references": "<unrelated@x.example> <q1@globex.example>"},
        {"subject": "AW: Re: [WG-1] SSO login loop"},
    ],
    ids=["in-reply-to", "references", "subject-tag"],
)
def test_a_reply_joins_the_ticket_of_the_message_it_answers(store, intake, threading_headers):
    source = FakeSource()
    source.add(make_message())
    fields = {"subject": "Re: SSO login loop", "message_id": "<r1@globex.example>", **threading_headers}
    source.add(make_message(**fields))
    intake.poll(source)
    [ticket] = store.list_tickets()
    assert ticket.message_count == 2
    kinds = [m.kind for m in store.thread(ticket.id)]
    assert kinds == [MessageKind.NEW, MessageKind.REPLY]


def test_a_subject_tag_of_a_ticket_that_does_not_exist_opens_a_new_ticket(store, intake):
    source = FakeSource()
    source.add(make_message(subject="Re: [WG-999] something", message_id="<x@y.example>"))
    intake.poll(source)
    [ticket] = store.list_tickets()
    assert ticket.subject == "something"


def test_automated_mail_and_bounces_are_stored_without_a_ticket(store, intake):
    source = FakeSource()
    source.add(AUTO_REPLY)
    source.add(BOUNCE)
    summary = intake.poll(source)
    assert summary.processed == 2 and summary.tickets_created == 0
    assert store.list_tickets(status="all") == []
    auto, bounce = store.messages()
    assert auto.kind is MessageKind.AUTOMATED and auto.ticket_id is None
    assert bounce.kind is MessageKind.AUTOMATED  # a bounce of no mail of ours: automated mail


def test_the_same_message_twice_is_processed_once(store, intake):
    source = FakeSource()
    source.add(make_message())
    source.add(make_message())  # delivered again, e.g. To and Cc both reached the mailbox
    summary = intake.poll(source)
    assert (summary.processed, summary.duplicates) == (1, 1)
    assert store.count_messages() == 1
    assert source.processed == ["00000001", "00000002"]  # both acknowledged all the same


def test_messages_without_message_id_are_deduplicated_by_their_bytes(store, intake):
    source = FakeSource()
    source.add(make_message(message_id=None, body="first"))
    source.add(make_message(message_id=None, body="first"))
    source.add(make_message(message_id=None, body="second"))
    summary = intake.poll(source)
    assert (summary.processed, summary.duplicates) == (2, 1)


def test_a_message_that_cannot_be_handled_is_quarantined_with_its_bytes_and_the_rest_go_on(store, intake):
    source = FakeSource()
    source.add(make_message(message_id="<a@x.example>"))
    nobody = make_message(sender="", message_id="<nobody@x.example>", subject="who sent this?")
    source.add(nobody)
    source.add(make_message(message_id="<c@x.example>", sender="carol@x.example"))
    summary = intake.poll(source)
    assert (summary.processed, summary.quarantined) == (2, 1)
    assert len(store.list_tickets()) == 2
    [entry] = store.list_quarantine()
    assert "no sender" in entry.reason
    _, raw, _ = store.quarantined(entry.id)
    assert raw == nobody
    assert source.quarantined == ["00000002"]
    assert sorted(source.processed) == ["00000001", "00000003"]


def test_an_internal_error_on_one_message_rolls_back_only_that_message(store, intake, monkeypatch):
    # The failure comes late, after the ticket and the message were written: both must go.
    real = Mails.acknowledgement

    def flaky(self, ticket, *args, **kwargs):
        if ticket.subject == "boom":
            raise RuntimeError("kaboom")
        return real(self, ticket, *args, **kwargs)

    monkeypatch.setattr(Mails, "acknowledgement", flaky)
    source = FakeSource()
    source.add(make_message(message_id="<1@x.example>"))
    source.add(make_message(message_id="<2@x.example>", subject="boom"))
    source.add(make_message(message_id="<3@x.example>"))
    summary = intake.poll(source)
    assert (summary.processed, summary.quarantined) == (2, 1)
    [entry] = store.list_quarantine()
    assert entry.reason == "internal error: RuntimeError" and "kaboom" in entry.detail
    # no half-made ticket from the failed message: one ticket per good message
    assert [t.subject for t in store.list_tickets()] == ["SSO login loop", "SSO login loop"]

    assert store.count_messages() == 3 and len(store.outbox()) == 2  # the failed one: its raw bytes, no mail
    monkeypatch.setattr(Mails, "acknowledgement", real)
    assert intake.retry_quarantined(entry.id) is IntakeOutcome.PROCESSED
    assert store.list_quarantine() == []
    assert [t.subject for t in store.list_tickets()] == ["SSO login loop", "SSO login loop", "boom"]
    released = store.list_quarantine(include_released=True)
    assert released[0].released_at == NOW


def test_a_crash_between_commit_and_acknowledge_loses_nothing_and_handles_nothing_twice(store):
    source = FakeSource()
    for n in range(5):
        source.add(make_message(message_id=f"<m{n}@x.example>", sender=f"user{n}@x.example"))
    source.fail_acknowledge = ConnectionResetError("the link dropped after the commit")
    with pytest.raises(ConnectionResetError):
        plain_intake(store, lambda: NOW, batch_size=10).poll(source)
    assert source.processed == []
    assert len(store.list_tickets()) == 5  # committed

    # restart: a new Intake over the same store; the mailbox still holds all five, unacknowledged
    source.fail_acknowledge = None
    restarted = plain_intake(store, lambda: NOW, batch_size=10)
    summary = restarted.poll(source)
    assert (summary.processed, summary.duplicates) == (0, 0)
    assert sorted(source.processed) == [f"{n:08d}" for n in range(1, 6)]
    assert len(store.list_tickets()) == 5
    assert store.unacknowledged(source.name) == ([], [])


def test_a_crash_before_commit_handles_the_batch_again_after_restart(store, monkeypatch):
    source = FakeSource()
    for n in range(4):
        source.add(make_message(message_id=f"<m{n}@x.example>"))
    intake = plain_intake(store, lambda: NOW, batch_size=10)
    monkeypatch.setattr(store, "set_cursor", lambda *a: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        intake.poll(source)
    monkeypatch.undo()
    assert store.count_messages() == 0  # the whole batch rolled back
    summary = plain_intake(store, lambda: NOW, batch_size=10).poll(source)
    assert (summary.processed, summary.duplicates) == (4, 0)  # nothing of the batch was kept
    assert store.count_messages() == 4 and len(store.list_tickets()) == 4
    assert sorted(source.processed) == [f"{n:08d}" for n in range(1, 5)]


def test_batches_commit_separately_and_the_cursor_resumes(store):
    source = FakeSource()
    for n in range(7):
        source.add(make_message(message_id=f"<m{n}@x.example>"))
    intake = plain_intake(store, lambda: NOW, batch_size=3)
    intake.poll(source)
    assert source.fetches == 3  # 3 + 3 + 1
    assert store.cursor(source.name) == "00000007"
    source.add(make_message(message_id="<late@x.example>"))
    summary = intake.poll(source)
    assert summary.processed == 1 and source.fetches == 4


def test_a_quarantined_message_retried_without_a_fix_stays_quarantined(store, intake):
    source = FakeSource()
    source.add(make_message(sender="", message_id="<nobody@x.example>"))
    intake.poll(source)
    [entry] = store.list_quarantine()
    assert intake.retry_quarantined(entry.id) is IntakeOutcome.QUARANTINED
    assert len(store.list_quarantine()) == 1
    assert store.messages()[0].status is MessageStatus.QUARANTINED
