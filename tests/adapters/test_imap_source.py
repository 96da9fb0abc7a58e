"""ImapSource against a real Dovecot: mail arrives over LMTP, exactly as in production."""
from __future__ import annotations

import imaplib
import logging
import os
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

import pytest
from imapclient import IMAPClient
from support.dovecot import DovecotServer, free_port

import mailer.imap
from mailer.errors import MailboxAuthError, MailboxConnectError, MailboxError
from mailer.imap import ImapSource
from mailer.imap_keys import parse_key, uid_sets

pytestmark = pytest.mark.dovecot

SourceFactory = Callable[..., ImapSource]


def message(number: int, subject: str = "Onboarding question") -> bytes:
    return (
        f"From: Customer <customer@example.com>\r\n"
        f"To: help@example.test\r\n"
        f"Subject: {subject} {number}\r\n"
        f"Message-ID: <msg-{number}@example.com>\r\n"
        f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        f"\r\n"
        f"Body of message {number}.\r\n"
        f".A line that starts with a dot.\r\n"
    ).encode()


class Recorder(IMAPClient):
    """IMAPClient counting the calls ImapSource makes; a test swaps it in for the real class."""

    calls: Counter
    idling: threading.Event
    hidden: frozenset = frozenset()

    def _count(self, name: str) -> None:
        type(self).calls[name] += 1

    def login(self, *args, **kwargs):
        self._count("login")
        return super().login(*args, **kwargs)

    def select_folder(self, *args, **kwargs):
        self._count("select")
        return super().select_folder(*args, **kwargs)

    def fetch(self, *args, **kwargs):
        self._count("fetch")
        return super().fetch(*args, **kwargs)

    def add_flags(self, *args, **kwargs):
        self._count("store")
        return super().add_flags(*args, **kwargs)

    def move(self, *args, **kwargs):
        self._count("move")
        return super().move(*args, **kwargs)

    def copy(self, *args, **kwargs):
        self._count("copy")
        return super().copy(*args, **kwargs)

    def idle(self):
        self._count("idle")
        result = super().idle()
        type(self).idling.set()
        return result

    def idle_done(self):
        self._count("done")
        type(self).idling.clear()
        return super().idle_done()

    def capabilities(self):
        return tuple(c for c in super().capabilities() if c not in type(self).hidden)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> type[Recorder]:
    """Make ImapSource use a fresh :class:`Recorder` class; returns it (``.calls``, ``.idling``)."""
    recording = type("Recording", (Recorder,), {"calls": Counter(), "idling": threading.Event()})
    monkeypatch.setattr(mailer.imap, "IMAPClient", recording)
    return recording


@pytest.fixture
def make_source(dovecot: DovecotServer, imap_account: tuple[str, str]) -> Iterator[SourceFactory]:
    """Build ImapSources for this test's account (plain text on loopback); closes them afterwards."""
    email, password = imap_account
    sources: list[ImapSource] = []

    def make(**overrides) -> ImapSource:
        settings = dict(name="support", host=dovecot.host, port=dovecot.imap_port, security="none",
                        username=email, password=password, timeout=10.0)
        settings.update(overrides)
        source = ImapSource(**settings)
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.close()


def mailbox(dovecot: DovecotServer, email: str) -> dict[str, list[set[bytes]]]:
    """Return each folder's messages as their flag sets, in UID order."""
    with dovecot.client(email) as client:
        contents = {}
        for _flags, _delimiter, folder in client.list_folders():
            client.select_folder(folder, readonly=True)
            fetched = client.fetch(client.search("ALL"), ["FLAGS"])
            contents[folder] = [set(fetched[uid][b"FLAGS"]) - {b"\\Recent"} for uid in sorted(fetched)]
        return contents


def bodies(messages) -> list[bytes]:
    return [m.raw for m in messages]


# -- listing and fetching --------------------------------------------------------------------------

def test_delivered_mail_is_listed_oldest_first_and_fetched_byte_for_byte(dovecot, imap_account, make_source):
    email, _ = imap_account
    sent = [message(n) for n in range(3)]
    dovecot.deliver_many(email, sent)
    source = make_source()

    keys = source.list_new(None)
    fetched = source.fetch(keys)

    assert [parse_key(k)[1] for k in keys] == [1, 2, 3]
    assert [m.key for m in fetched] == keys
    assert bodies(fetched) == [dovecot.stored(raw) for raw in sent]
    now = datetime.now(timezone.utc)
    assert all(abs(m.received_at - now) < timedelta(minutes=1) for m in fetched)


@pytest.fixture
def local_time_zone_is_new_york() -> Iterator[None]:
    """Run in a local zone far from UTC, so that mixing up naive local time and UTC shows."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_internaldate_comes_back_as_an_aware_utc_datetime(
    dovecot, imap_account, make_source, local_time_zone_is_new_york
):
    email, _ = imap_account
    appended_at = datetime(2024, 3, 1, 9, 30, 15, tzinfo=timezone(timedelta(hours=2)))
    dovecot.append(email, "INBOX", message(1), msg_time=appended_at)
    source = make_source()

    [fetched] = source.fetch(source.list_new(None))

    assert fetched.received_at == datetime(2024, 3, 1, 7, 30, 15, tzinfo=timezone.utc)
    assert fetched.received_at.utcoffset() == timedelta(0)


def test_fetching_does_not_mark_mail_as_seen(dovecot, imap_account, make_source):
    email, _ = imap_account
    dovecot.deliver(email, message(1))
    source = make_source()

    source.fetch(source.list_new(None))

    assert mailbox(dovecot, email)["INBOX"] == [set()]


def test_fetch_leaves_out_keys_of_another_uidvalidity_and_expunged_mail(dovecot, imap_account, make_source):
    email, _ = imap_account
    dovecot.deliver(email, message(1))
    source = make_source()
    [key] = source.list_new(None)
    uidvalidity, uid = parse_key(key)

    fetched = source.fetch([f"{uidvalidity + 1}:{uid}", f"{uidvalidity}:{uid + 5}", key])

    assert [m.key for m in fetched] == [key]


def test_a_new_source_resumes_after_the_cursor(dovecot, imap_account, make_source):
    email, _ = imap_account
    dovecot.deliver_many(email, [message(1), message(2)])
    first = make_source()
    old = first.list_new(None)
    cursor = first.cursor_after(old[-1])
    first.close()
    dovecot.deliver_many(email, [message(3), message(4)])

    second = make_source()
    new = second.list_new(cursor)

    assert [parse_key(k)[1] for k in new] == [3, 4]
    assert bodies(second.fetch(new)) == [dovecot.stored(message(3)), dovecot.stored(message(4))]
    assert second.list_new(second.cursor_after(new[-1])) == []


def test_a_cursor_from_another_uidvalidity_lists_the_whole_folder(dovecot, imap_account, make_source):
    email, _ = imap_account
    for n in (1, 2, 3):
        dovecot.append(email, "Support", message(n))
    first = make_source(folder="Support")
    cursor = first.cursor_after(first.list_new(None)[-1])
    first.close()
    with dovecot.client(email) as client:
        client.delete_folder("Support")
        client.create_folder("Support")
    dovecot.append(email, "Support", message(4))

    keys = make_source(folder="Support").list_new(cursor)

    assert len(keys) == 1
    assert parse_key(keys[0])[0] != parse_key(cursor)[0]
    assert parse_key(keys[0])[1] == 1  # below the cursor's UID 3, yet listed


# -- acknowledging ---------------------------------------------------------------------------------

def test_acknowledge_flags_and_moves_mail_and_deletes_nothing(dovecot, imap_account, make_source):
    email, _ = imap_account
    dovecot.deliver_many(email, [message(n) for n in range(4)])
    source = make_source(processed_folder="Processed", quarantine_folder="Quarantine")
    keys = source.list_new(None)

    source.acknowledge(processed=keys[:2], quarantined=keys[2:3])

    after = mailbox(dovecot, email)
    assert after["INBOX"] == [set()]
    assert after["Processed"] == [{b"\\Seen", b"$Whiteglove"}] * 2
    assert after["Quarantine"] == [{b"$WhitegloveQuarantine"}]
    assert sum(len(messages) for messages in after.values()) == 4
    assert source.list_new(None) == keys[3:]


def test_acknowledging_twice_changes_nothing_more(dovecot, imap_account, make_source):
    email, _ = imap_account
    dovecot.deliver_many(email, [message(n) for n in range(3)])
    source = make_source(processed_folder="Processed", quarantine_folder="Quarantine")
    keys = source.list_new(None)
    source.acknowledge(processed=keys[:2], quarantined=keys[2:])
    once = mailbox(dovecot, email)

    source.acknowledge(processed=keys[:2], quarantined=keys[2:])
    make_source(processed_folder="Processed", quarantine_folder="Quarantine").acknowledge(keys[:2], keys[2:])

    assert mailbox(dovecot, email) == once


def test_acknowledged_mail_left_in_the_folder_is_not_listed_again(dovecot, imap_account, make_source):
    email, _ = imap_account
    dovecot.deliver_many(email, [message(n) for n in range(3)])
    source = make_source()
    keys = source.list_new(None)

    source.acknowledge(processed=keys[:1], quarantined=keys[1:2])

    assert make_source().list_new(None) == keys[2:]
    assert mailbox(dovecot, email)["INBOX"] == [{b"\\Seen", b"$Whiteglove"}, {b"$WhitegloveQuarantine"}, set()]


def test_without_move_acknowledge_copies_once_and_keeps_the_flagged_original(
    dovecot, imap_account, make_source, recorder
):
    email, _ = imap_account
    recorder.hidden = frozenset({b"MOVE"})
    dovecot.deliver_many(email, [message(n) for n in range(3)])
    source = make_source(processed_folder="Processed")
    keys = source.list_new(None)

    source.acknowledge(processed=keys[:2], quarantined=[])
    source.acknowledge(processed=keys[:2], quarantined=[])

    after = mailbox(dovecot, email)
    assert after["INBOX"] == [{b"\\Seen", b"$Whiteglove"}] * 2 + [set()]
    assert after["Processed"] == [{b"\\Seen"}] * 2
    assert recorder.calls["move"] == 0
    assert source.list_new(None) == keys[2:]


def test_450_messages_arrive_in_order_with_one_fetch_per_batch_and_one_select(
    dovecot, imap_account, make_source, recorder
):
    email, _ = imap_account
    sent = [message(n) for n in range(450)]
    dovecot.deliver_many(email, sent)
    source = make_source(batch_size=200, processed_folder="Processed")

    keys = source.list_new(None)
    fetched = source.fetch(keys)
    source.acknowledge(processed=keys, quarantined=[])

    assert bodies(fetched) == [dovecot.stored(raw) for raw in sent]
    assert recorder.calls["fetch"] == 3
    assert recorder.calls["select"] == 1
    assert (recorder.calls["store"], recorder.calls["move"]) == (1, 1)
    assert len(mailbox(dovecot, email)["Processed"]) == 450


# -- waiting ---------------------------------------------------------------------------------------

def wait_in_thread(source: ImapSource, timeout: float, stop: threading.Event) -> tuple[threading.Thread, list]:
    """Run ``source.wait`` in a thread; the list receives how long it took."""
    took: list[float] = []

    def run() -> None:
        started = time.monotonic()
        source.wait(timeout, stop)
        took.append(time.monotonic() - started)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, took


def test_wait_returns_soon_after_mail_is_delivered(dovecot, imap_account, make_source, recorder):
    email, _ = imap_account
    source = make_source()
    assert source.list_new(None) == []
    thread, took = wait_in_thread(source, 30, threading.Event())
    assert recorder.idling.wait(10), "ImapSource did not enter IDLE"

    dovecot.deliver(email, message(1))
    thread.join(10)

    assert took and took[0] < 5
    assert recorder.calls["done"] == 1
    assert len(source.list_new(None)) == 1


def test_wait_returns_promptly_when_stop_is_set(make_source, recorder):
    source = make_source()
    source.list_new(None)
    stop = threading.Event()
    thread, took = wait_in_thread(source, 30, stop)
    assert recorder.idling.wait(10), "ImapSource did not enter IDLE"

    stop.set()
    thread.join(10)

    assert took and took[0] < 5
    assert recorder.calls["done"] == 1


def test_wait_leaves_idle_after_idle_renew_seconds_so_idle_is_reissued(make_source, recorder):
    source = make_source(idle_renew_seconds=1)
    source.list_new(None)

    started = time.monotonic()
    source.wait(30, threading.Event())
    first = time.monotonic() - started
    source.wait(30, threading.Event())

    assert 0.9 <= first < 5
    assert (recorder.calls["idle"], recorder.calls["done"]) == (2, 2)
    assert source.list_new(None) == []  # the connection is out of IDLE and usable


def test_wait_without_idle_sleeps_until_the_timeout_or_stop(make_source, recorder):
    source = make_source(use_idle=False)
    source.list_new(None)

    started = time.monotonic()
    source.wait(0.3, threading.Event())
    slept = time.monotonic() - started
    stop = threading.Event()
    stop.set()
    source.wait(30, stop)

    assert 0.29 <= slept < 3
    assert recorder.calls["idle"] == 0


# -- dropped connections and errors ----------------------------------------------------------------

def test_a_kicked_connection_is_replaced_transparently_on_the_next_call(
    dovecot, imap_account, make_source, recorder
):
    email, _ = imap_account
    dovecot.deliver_many(email, [message(1), message(2)])
    source = make_source(processed_folder="Processed")
    keys = source.list_new(None)

    dovecot.kick(email)
    assert source.list_new(None) == keys
    dovecot.kick(email)
    assert bodies(source.fetch(keys)) == [dovecot.stored(message(1)), dovecot.stored(message(2))]
    dovecot.kick(email)
    source.acknowledge(processed=keys, quarantined=[])

    assert recorder.calls["login"] == 4
    assert len(mailbox(dovecot, email)["Processed"]) == 2


def test_a_connection_kicked_during_idle_ends_the_wait_and_the_next_list_reconnects(
    dovecot, imap_account, make_source, recorder
):
    email, _ = imap_account
    source = make_source()
    source.list_new(None)
    thread, took = wait_in_thread(source, 30, threading.Event())
    assert recorder.idling.wait(10), "ImapSource did not enter IDLE"

    dovecot.kick(email)
    thread.join(10)
    dovecot.deliver(email, message(1))

    assert took and took[0] < 5
    assert len(source.list_new(None)) == 1
    assert recorder.calls["login"] == 2


def test_a_connection_that_drops_again_after_reconnecting_raises_mailbox_connect_error(
    dovecot, make_source, recorder, monkeypatch
):
    def drop(self, *args, **kwargs):
        raise imaplib.IMAP4.abort("socket error: EOF")

    monkeypatch.setattr(recorder, "search", drop)
    source = make_source()

    with pytest.raises(MailboxConnectError, match=f"{dovecot.host}:{dovecot.imap_port}"):
        source.list_new(None)
    assert recorder.calls["login"] == 2


def test_a_wrong_password_raises_mailbox_auth_error_naming_host_and_user_only(
    dovecot, imap_account, make_source, caplog
):
    email, password = imap_account
    caplog.set_level(logging.DEBUG)
    wrong = password + "-wrong"

    with pytest.raises(MailboxAuthError) as raised:
        make_source(password=wrong).list_new(None)

    assert dovecot.host in str(raised.value) and email in str(raised.value)
    assert wrong not in str(raised.value) and wrong not in caplog.text


def test_a_missing_folder_raises_mailbox_error_naming_it(make_source):
    with pytest.raises(MailboxError, match="No-Such-Folder") as raised:
        make_source(folder="No-Such-Folder").list_new(None)

    assert not isinstance(raised.value, (MailboxConnectError, MailboxAuthError))


def test_a_closed_port_raises_mailbox_connect_error_naming_host_and_port(make_source):
    port = free_port()

    with pytest.raises(MailboxConnectError, match=f"127.0.0.1:{port} refused the connection") as raised:
        make_source(host="127.0.0.1", port=port).list_new(None)

    assert not raised.value.permanent  # the server may be restarting: a worker waits for it


def test_a_host_name_that_does_not_resolve_is_a_permanent_connect_error(make_source):
    with pytest.raises(MailboxConnectError, match="the host name imap.nowhere.invalid does not resolve") as raised:
        make_source(host="imap.nowhere.invalid", port=993).list_new(None)

    assert raised.value.permanent  # waiting will not mend it: a worker that never connected stops


def test_starttls_against_a_server_without_it_raises_mailbox_connect_error(dovecot, make_source):
    with pytest.raises(MailboxConnectError, match="does not offer STARTTLS") as raised:
        make_source(security="starttls").list_new(None)

    assert f"{dovecot.host}:{dovecot.imap_port}" in str(raised.value)


def test_implicit_tls_against_a_plain_text_port_raises_mailbox_connect_error(dovecot, make_source):
    with pytest.raises(MailboxConnectError, match=f"{dovecot.host}:{dovecot.imap_port}") as raised:
        make_source(security="tls").list_new(None)

    assert raised.value.permanent and "TLS port" in str(raised.value)


# -- the pure parts --------------------------------------------------------------------------------

def test_uid_sets_join_only_consecutive_uids_and_split_long_sets():
    assert uid_sets([9, 1, 2, 3, 7, 10, 11, 2]) == ["1:3,7,9:11"]
    assert uid_sets([1, 3, 5, 7], max_chars=3) == ["1,3", "5,7"]
    assert uid_sets([]) == []


def test_malformed_keys_are_rejected():
    assert parse_key("1795435136:42") == (1795435136, 42)
    for bad in ("", "42", "a:1", "1:0", "1:2:3", "-1:2"):
        with pytest.raises(ValueError):
            parse_key(bad)


def test_sizes_come_without_fetching_the_messages_so_a_batch_can_be_bounded_by_bytes(dovecot, imap_account,
                                                                                      make_source, recorder):
    email, _ = imap_account
    dovecot.deliver_many(email, [message(1), message(2) + b"x" * 70 + b"\r\n" * 2000])
    source = make_source()
    keys = source.list_new(None)
    sizes = source.sizes(keys)
    assert recorder.calls["fetch"] == 1  # one FETCH of RFC822.SIZE, no body
    assert sizes == {m.key: len(m.raw) for m in source.fetch(keys)} and sizes[keys[1]] > sizes[keys[0]] + 4000
