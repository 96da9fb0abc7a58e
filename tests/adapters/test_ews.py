"""EwsSource and EwsSender (exchangelib) against the loopback EWS server: sync rounds and their state,
filing, a wrong password in seconds, a busy server, sending MIME exactly once, free/busy."""
from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta, timezone

import pytest

from mailer import (
    EwsMailbox,
    EwsSender,
    EwsSource,
    MailboxAuthError,
    MailboxConnectError,
    SenderAuthError,
    ews_busy_times,
)


def message(number: int, message_id: str | None = None) -> bytes:
    return (f"From: Customer <customer@example.com>\r\nTo: support@contoso.test\r\nSubject: Question {number}\r\n"
            f"Message-ID: <{message_id or f'ews-{number}@example.com'}>\r\n\r\nBody {number}.\r\n").encode()


@pytest.fixture
def box(fake_ews):
    import exchangelib

    address = f"support-{secrets.token_hex(4)}@contoso.test"
    user, password = f"svc-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    fake_ews.add_user(user, password)
    for folder in ("Processed", "Quarantine"):
        fake_ews.add_folder(address, folder)

    def connect(pw: str = password, version=(15, 1, 2507, 6)) -> EwsMailbox:
        return EwsMailbox(mailbox=address, username=user, password=pw, url=fake_ews.url, auth_type="basic",
                          ca_file=fake_ews.ca_file, version=version)

    yield address, connect
    exchangelib.close_connections()


def source(connection, **kw) -> EwsSource:
    return EwsSource(name="ews", connection=connection, processed_folder="Processed", quarantine_folder="Quarantine",
                     page_size=2, **kw)


def test_a_sync_round_pages_to_its_state_and_the_next_round_lists_only_what_is_new(fake_ews, box):
    address, connect = box
    for n in range(5):
        fake_ews.deliver(address, message(n))
    ews = source(connect())
    keys = ews.list_new(None)
    assert len(keys) == 5
    state = ews.cursor_after(keys[-1])
    assert state and ews.cursor_after(keys[0]) is None  # before the last key the old cursor stands
    assert [m.raw for m in ews.fetch(keys)] == [message(n) for n in range(5)]
    assert ews.list_new(state) == []
    fake_ews.deliver(address, message(9))
    [new] = ews.list_new(state)
    assert ews.fetch([new])[0].raw == message(9)


def test_handled_items_are_marked_read_tagged_and_moved(fake_ews, box):
    address, connect = box
    fake_ews.deliver(address, message(1))
    fake_ews.deliver(address, message(2))
    ews = source(connect())
    first, second = ews.list_new(None)
    ews.acknowledge([first], [second])
    ews.acknowledge([first], [second])  # again after a crash: the moved items are gone, nothing breaks
    [processed] = fake_ews.items(address, "Processed")
    assert processed.is_read and processed.categories == ["whiteglove"] and processed.mime == message(1)
    assert [i.mime for i in fake_ews.items(address, "Quarantine")] == [message(2)]


def test_an_invalid_sync_state_reads_the_folder_again(fake_ews, box):
    address, connect = box
    fake_ews.deliver(address, message(1))
    ews = source(connect())
    state = ews.cursor_after(ews.list_new(None)[-1])
    fake_ews.invalidate_sync_states()
    assert len(ews.list_new(state)) == 1


def test_a_wrong_password_fails_in_seconds_with_one_line(fake_ews, box):
    address, connect = box
    started = time.monotonic()
    with pytest.raises(MailboxAuthError, match="refused the login of svc-") as caught:
        source(connect("not-the-password")).list_new(None)
    assert time.monotonic() - started < 10 and "\n" not in str(caught.value)


def test_a_busy_server_is_a_connection_error_with_the_wait_it_asks(fake_ews, box):
    address, connect = box
    fake_ews.server_busy_next(30000)
    with pytest.raises(MailboxConnectError, match="busy; it asks to wait 30 s") as caught:
        source(connect()).list_new(None)
    assert caught.value.retry_after == 30


def test_the_mime_is_sent_as_composed_and_never_twice(fake_ews, box):
    address, connect = box
    sender = EwsSender(connect())
    raw = message(7, "wg.ack.7@contoso.test")
    sender.send(raw, address, ["customer@example.com"])
    sender.send(raw, address, ["customer@example.com"])  # a retry after an ambiguous failure
    assert fake_ews.sent(address) == [raw]


def test_a_wrong_password_when_sending_is_a_sender_auth_error(fake_ews, box):
    address, connect = box
    with pytest.raises(SenderAuthError):
        EwsSender(connect("wrong")).send(message(1), address, ["customer@example.com"])


def test_free_busy_lists_busy_tentative_and_out_of_office_times(fake_ews, box):
    address, connect = box
    day = datetime(2026, 12, 8, 16, 0, tzinfo=timezone.utc)
    fake_ews.busy["priya@contoso.test"] = [(day, day + timedelta(hours=2), "Busy"),
                                          (day + timedelta(hours=3), day + timedelta(hours=4), "Free")]
    found = ews_busy_times(connect(), ["priya@contoso.test"], day - timedelta(days=1), day + timedelta(days=2))
    assert found == {"priya@contoso.test": [(day, day + timedelta(hours=2))]}
