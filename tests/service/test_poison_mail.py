"""Poison mail: no single message can stop intake. Each fault here once made the whole batch roll back
(the worker then handled nothing for as long as it ran); now the message is stored or quarantined on
its own and the rest of the batch goes on, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from support.app import plain_intake
from support.fakes import FakeSource
from support.mail import make_message

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)

END_OF_TIME = (b"From: Mallory <mallory@example.net>\r\nTo: support@northwind.example\r\nSubject: from the future\r\n"
               b"Date: Fri, 31 Dec 9999 23:59:59 -0800\r\nMessage-ID: <future@example.net>\r\n\r\nhello\r\n")
NUL_HEADERS = (b"From: Nul <n\x00ul@example.net>\r\nTo: support@northwind.example, x\x00@northwind.example\r\n"
               b"Cc: cc\x00@example.net\r\nIn-Reply-To: <a\x00b@example.net>\r\nReferences: <r\x00s@example.net>\r\n"
               b"Subject: nul\x00s\r\nMessage-ID: <nul\x00@example.net>\r\nDate: Wed, 18 Nov 2026 15:00:00 +0000\r\n\r\n"
               b"hel\x00lo\r\n")


@pytest.fixture
def intake(store):
    return plain_intake(store, lambda: NOW, batch_size=10)


@pytest.mark.parametrize("poison", [END_OF_TIME, NUL_HEADERS], ids=["date-past-the-end-of-time", "nul-in-headers"])
def test_a_poison_message_is_handled_on_its_own_and_the_batch_goes_on(store, intake, poison):
    source = FakeSource()
    source.add(make_message(message_id="<before@x.example>", sender="alice@x.example"))
    source.add(poison)
    source.add(make_message(message_id="<after@x.example>", sender="carol@x.example"))
    summary = intake.poll(source)
    assert summary.processed + summary.quarantined == 3 and summary.processed >= 2
    assert store.count_messages() == 3
    assert {t.requester for t in store.list_tickets()} >= {"alice@x.example", "carol@x.example"}
    assert sorted(source.processed + source.quarantined) == ["00000001", "00000002", "00000003"]


def test_a_message_whose_headers_cannot_be_stored_is_quarantined_with_its_raw_bytes(store, intake, monkeypatch):
    # Whatever a message holds that the database refuses, the quarantine falls back to its bytes alone.
    real = store.add_message

    def refusing(**fields):
        if fields.get("subject") == "unstorable":
            raise ValueError("the database refuses this value")
        return real(**fields)

    monkeypatch.setattr(store, "add_message", refusing)
    bad = make_message(message_id="<bad@x.example>", subject="unstorable")
    source = FakeSource()
    source.add(bad)
    source.add(make_message(message_id="<good@x.example>", sender="carol@x.example"))
    summary = intake.poll(source)
    assert (summary.processed, summary.quarantined) == (1, 1)
    [entry] = store.list_quarantine()
    assert "its headers could not be stored" in entry.reason and "refuses" in entry.detail
    _, raw, _ = store.quarantined(entry.id)
    assert raw == bad
