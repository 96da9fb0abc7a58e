"""Mailbox intake end to end: mail delivered over LMTP to a real Dovecot, read by ImapSource, stored by Intake.

What a support team relies on: every message becomes a ticket or a reply exactly once, handled mail is
flagged and filed, nothing is ever deleted, and no crash, restart, dropped connection, stop request or
second worker loses a message or handles one twice.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest
from imapclient import IMAPClient
from support.app import plain_intake
from support.dovecot import DovecotServer

import mailer.imap
from mailer.errors import MailboxConnectError
from mailer.imap import ImapSource
from mailer.imap_keys import parse_key
from ticketing.app.clock import utcnow
from ticketing.app.worker import Backoff, Worker
from ticketing.core.domain import MessageKind, MessageStatus, OutboxStatus
from ticketing.services.intake import IntakeSummary
from ticketing.store import SqlStore

pytestmark = pytest.mark.dovecot

ROOT = Path(__file__).resolve().parents[2]
PROCESSED = frozenset({b"\\Seen", b"$Whiteglove"})
QUARANTINED = frozenset({b"$WhitegloveQuarantine"})


def mail(
    n: int,
    *,
    sender: str | None = None,
    subject: str | None = None,
    message_id: str | None = None,
    extra: str = "",
) -> bytes:
    """A small message from customer ``n`` ending in CRLF, so that IMAP serves back exactly these bytes."""
    sender = f"Customer {n} <customer{n}@example.com>" if sender is None else sender
    lines = [f"From: {sender}"] if sender else []
    lines += [
        "To: help@example.test",
        f"Subject: {subject or f'Onboarding question {n}'}",
        f"Message-ID: {message_id or f'<q{n}@example.com>'}",
        "Date: Mon, 23 Nov 2026 10:00:00 +0000",
    ]
    lines += [line for line in extra.split("\n") if line]
    return ("\r\n".join(lines) + f"\r\n\r\nBody of message {n}.\r\n").encode()


def wait_until(predicate: Callable[[], object], timeout: float = 15.0, what: str = "the condition") -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.02)


class Mailbox:
    """The test's account on Dovecot, and an empty database for the worker (SQLite, and again PostgreSQL)."""

    def __init__(self, dovecot: DovecotServer, email: str, password: str, db_url: str) -> None:
        self.dovecot = dovecot
        self.email = email
        self.password = password
        self.db_url = db_url
        self._opened: list = []

    def source(self, **overrides) -> ImapSource:
        settings = dict(name="support", host=self.dovecot.host, port=self.dovecot.imap_port, security="none",
                        username=self.email, password=self.password, processed_folder="Processed",
                        quarantine_folder="Quarantine", timeout=10.0)
        settings.update(overrides)
        source = ImapSource(**settings)
        self._opened.append(source)
        return source

    def store(self) -> SqlStore:
        """Open the database as a (re)started worker does (a test closes the previous one first)."""
        store = SqlStore.open(self.db_url)
        self._opened.append(store)
        return store

    def deliver(self, *messages: bytes) -> None:
        self.dovecot.deliver_many(self.email, messages)

    def folders(self) -> dict[str, list[tuple[frozenset, bytes]]]:
        """Each folder's messages as ``(flags, raw)``, in UID order."""
        with self.dovecot.client(self.email) as client:
            contents = {}
            for _flags, _delimiter, folder in client.list_folders():
                client.select_folder(folder, readonly=True)
                fetched = client.fetch(client.search("ALL"), ["FLAGS", "BODY.PEEK[]"])
                contents[folder] = [
                    (frozenset(fetched[uid][b"FLAGS"]) - {b"\\Recent"}, fetched[uid][b"BODY[]"])
                    for uid in sorted(fetched)
                ]
            return contents

    def everything(self) -> Counter:
        """Every message in every folder, by its bytes: filing changes where mail is, never this."""
        return Counter(raw for messages in self.folders().values() for _flags, raw in messages)

    def close(self) -> None:
        for thing in reversed(self._opened):
            thing.close()


@pytest.fixture
def box(dovecot, imap_account, db_url) -> Iterator[Mailbox]:
    email, password = imap_account
    mailbox = Mailbox(dovecot, email, password, db_url)
    yield mailbox
    mailbox.close()


@pytest.fixture
def pg_box(dovecot, imap_account, pg_url) -> Iterator[Mailbox]:
    """The same on PostgreSQL only, for what needs several workers (SQLite has one writer)."""
    email, password = imap_account
    mailbox = Mailbox(dovecot, email, password, pg_url)
    yield mailbox
    mailbox.close()


def stored(raws: Sequence[bytes]) -> list[bytes]:
    return [DovecotServer.stored(raw) for raw in raws]


def intake_state(store: SqlStore, source_name: str = "support") -> tuple[int, int, tuple[list, list]]:
    """(stored messages, tickets, keys committed but not yet acknowledged)."""
    return store.count_messages(), len(store.list_tickets(status="all")), store.unacknowledged(source_name)


class IdleWatch(IMAPClient):
    """IMAPClient that tells the test when ImapSource is idling and how often it logged in.

    ``before_idle`` runs once, just before the next IDLE command is sent.
    """

    logins = 0
    idling: threading.Event
    before_idle: Callable[[], None] | None = None

    def login(self, *args, **kwargs):
        type(self).logins += 1
        return super().login(*args, **kwargs)

    def idle(self):
        hook, type(self).before_idle = type(self).before_idle, None
        if hook is not None:
            hook()
        result = super().idle()
        type(self).idling.set()
        return result

    def idle_done(self):
        type(self).idling.clear()
        return super().idle_done()


@pytest.fixture
def watch(monkeypatch) -> type[IdleWatch]:
    watching = type("Watching", (IdleWatch,), {"logins": 0, "idling": threading.Event(), "before_idle": None})
    monkeypatch.setattr(mailer.imap, "IMAPClient", watching)
    return watching


@contextlib.contextmanager
def running(worker: Worker) -> Iterator[threading.Thread]:
    """Run ``worker.run_forever`` in a thread; stop it on leaving and check that it ended."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            worker.run_forever()
        except BaseException as exc:  # shown by the assertion below
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        worker.stop.set()
        thread.join(15)
    assert not thread.is_alive(), "the worker did not stop within 15 s"
    assert not failures, f"run_forever raised {failures[0]!r}"


def tickets_by_requester(store: SqlStore) -> dict[str, int]:
    return Counter(t.requester for t in store.list_tickets(status="all"))


# -- the normal path ---------------------------------------------------------------------------------

def test_delivered_mail_becomes_tickets_and_replies_and_is_filed_flagged_in_the_processed_folder(box):
    question = mail(1, sender="Bob Martinez <bob@globex.example>", subject="SSO login loop")
    reply = mail(2, sender="Bob Martinez <bob@globex.example>", subject="Re: SSO login loop",
                 extra="In-Reply-To: <q1@example.com>")
    other = mail(3, sender="carol@initech.example", subject="CSV import rejects dates")
    auto_reply = mail(4, sender="peter@initech.example", subject="Automatic reply: your ticket",
                      extra="Auto-Submitted: auto-replied")
    sent = [question, reply, other, auto_reply]
    box.deliver(*sent)
    before = box.everything()
    store = box.store()

    summary = plain_intake(store, utcnow, batch_size=3).poll(box.source())

    assert (summary.processed, summary.duplicates, summary.quarantined, summary.tickets_created) == (4, 0, 0, 2)
    bob, carol = store.list_tickets()
    assert (bob.requester, bob.subject, bob.message_count) == ("bob@globex.example", "SSO login loop", 2)
    assert [m.kind for m in store.thread(bob.id)] == [MessageKind.NEW, MessageKind.REPLY]
    assert (carol.requester, carol.message_count) == ("carol@initech.example", 1)
    assert [m.kind for m in store.messages()][-1] is MessageKind.AUTOMATED
    folders = box.folders()
    assert folders["INBOX"] == []
    assert folders["Processed"] == [(PROCESSED, raw) for raw in stored(sent)]
    assert box.everything() == before  # moved, never deleted
    assert intake_state(store)[2] == ([], [])


def test_mail_in_the_mailbox_before_the_first_start_is_stored_but_only_mail_after_it_is_answered(box):
    """History is never answered: the first start against a full mailbox marks the moment; what
    arrived before it (by the server's INTERNALDATE) is stored and threaded, and nobody is mailed."""
    old = [mail(1, subject="An old question"), mail(2, subject="Another old one")]
    box.deliver(*old)
    store = box.store()
    start = utcnow() + timedelta(seconds=2)  # the first start, after they arrived
    intake = plain_intake(store, lambda: start)

    summary = intake.poll(box.source(), now=start)
    assert (summary.processed, summary.tickets_created) == (2, 2)
    assert store.outbox(status=OutboxStatus.QUEUED) == []
    assert {m.purpose for m in store.outbox(status=OutboxStatus.HELD)} == {"acknowledgement"}

    box.dovecot.append(box.email, "INBOX", mail(3, subject="A new question"), msg_time=start + timedelta(minutes=5))
    summary = intake.poll(box.source(), now=start + timedelta(minutes=6))
    assert (summary.processed, summary.tickets_created) == (1, 1)
    [ack] = store.outbox(status=OutboxStatus.QUEUED)
    assert ack.purpose == "acknowledgement" and list(ack.recipients) == ["customer3@example.com"]
    assert len(store.list_tickets()) == 3  # the old ones are tickets like any other


def test_a_message_that_cannot_be_handled_is_quarantined_and_filed_while_the_rest_of_the_batch_goes_on(box):
    nobody = mail(2, sender="", subject="who sent this?")
    box.deliver(mail(1), nobody, mail(3))
    box.dovecot.append(box.email, "INBOX", b"\r\n")  # an empty message
    box.deliver(mail(5))
    before = box.everything()
    store = box.store()

    summary = plain_intake(store, utcnow, batch_size=10).poll(box.source())

    assert (summary.processed, summary.quarantined, summary.tickets_created) == (3, 2, 3)
    entries = store.list_quarantine()
    assert [e.reason for e in entries] == ["no sender address: nobody to open a ticket for", "empty message"]
    assert [store.quarantined(e.id)[1] for e in entries] == [DovecotServer.stored(nobody), b"\r\n"]
    assert [m.status for m in store.messages()].count(MessageStatus.QUARANTINED) == 2
    folders = box.folders()
    assert folders["INBOX"] == []
    assert folders["Quarantine"] == [(QUARANTINED, DovecotServer.stored(nobody)), (QUARANTINED, b"\r\n")]
    assert folders["Processed"] == [(PROCESSED, raw) for raw in stored([mail(1), mail(3), mail(5)])]
    assert box.everything() == before


def test_a_configured_batch_size_above_what_one_fetch_may_name_is_accepted(box):
    # The configuration allows batches of up to 5000; one UID FETCH names at most 500 UIDs.
    sent = [mail(n) for n in range(3)]
    box.deliver(*sent)
    store = box.store()

    summary = plain_intake(store, utcnow, batch_size=5000).poll(box.source(batch_size=5000))

    assert summary.processed == 3
    assert box.folders()["Processed"] == [(PROCESSED, raw) for raw in stored(sent)]


# -- restarts and crashes ------------------------------------------------------------------------------

class Spy:
    """A source that delegates to an ImapSource and records what intake asked of it."""

    def __init__(self, source: ImapSource) -> None:
        self.source = source
        self.name = source.name
        self.fetched: list[str] = []
        self.on_fetch: Callable[[], None] | None = None
        self.fail_acknowledge = 0
        self.waiting = threading.Event()

    def __getattr__(self, name: str):
        return getattr(self.source, name)

    def fetch(self, keys):
        messages = self.source.fetch(keys)
        self.fetched += [m.key for m in messages]
        if self.on_fetch is not None:
            self.on_fetch()
        return messages

    def wait(self, timeout, stop):
        self.waiting.set()
        self.source.wait(timeout, stop)

    def acknowledge(self, processed, quarantined):
        if self.fail_acknowledge:
            self.fail_acknowledge -= 1
            raise MailboxConnectError(f"lost the connection to {self.source.address} during acknowledge")
        self.source.acknowledge(processed, quarantined)


@pytest.mark.parametrize("processed_folder", ["Processed", None], ids=["moved", "left-in-inbox"])
def test_a_restarted_worker_resumes_after_its_cursor_and_handles_nothing_twice(box, processed_folder):
    box.deliver(*(mail(n) for n in range(1, 6)))
    store = box.store()
    first = Spy(box.source(processed_folder=processed_folder))
    assert plain_intake(store, utcnow, batch_size=2).poll(first).processed == 5
    cursor = store.cursor("support")
    first.close()
    store.close()

    store = box.store()
    restarted = Spy(box.source(processed_folder=processed_folder))
    again = plain_intake(store, utcnow, batch_size=2)
    nothing = again.poll(restarted)
    box.deliver(mail(6), mail(7))
    later = again.poll(restarted)

    assert parse_key(cursor)[1] == 5
    assert (nothing.processed, nothing.duplicates, nothing.quarantined) == (0, 0, 0)
    assert restarted.fetched == [f"{parse_key(cursor)[0]}:{uid}" for uid in (6, 7)]
    assert (later.processed, later.duplicates, later.tickets_created) == (2, 0, 2)
    assert intake_state(store) == (7, 7, ([], []))
    assert sum(flags == PROCESSED for messages in box.folders().values() for flags, _ in messages) == 7


def test_a_crash_between_commit_and_acknowledge_loses_nothing_and_handles_nothing_twice(box):
    sent = [mail(1), mail(2, sender=""), mail(3), mail(4), mail(5)]
    box.deliver(*sent)
    before = box.everything()
    store = box.store()
    crashing = Spy(box.source())
    crashing.fail_acknowledge = 1

    with pytest.raises(MailboxConnectError):
        plain_intake(store, utcnow, batch_size=3).poll(crashing)

    # The first batch is committed but the mailbox was never told.
    assert intake_state(store) == (3, 2, ([crashing.fetched[0], crashing.fetched[2]], [crashing.fetched[1]]))
    assert [flags for flags, _ in box.folders()["INBOX"]] == [frozenset()] * 5
    crashing.close()
    store.close()

    store = box.store()
    summary = plain_intake(store, utcnow, batch_size=3).poll(box.source())

    assert (summary.processed, summary.duplicates, summary.quarantined) == (2, 0, 0)
    assert intake_state(store) == (5, 4, ([], []))
    assert len(store.list_quarantine()) == 1
    folders = box.folders()
    assert folders["INBOX"] == []
    assert sorted(folders["Processed"]) == sorted((PROCESSED, raw) for raw in stored(sent[:1] + sent[2:]))
    assert folders["Quarantine"] == [(QUARANTINED, DovecotServer.stored(sent[1]))]
    assert box.everything() == before


def test_a_crash_before_commit_handles_the_batch_exactly_once_after_a_restart(box, monkeypatch):
    box.deliver(*(mail(n) for n in range(1, 6)))
    before = box.everything()
    store = box.store()
    crashing = Spy(box.source())
    batches = 0

    def crash_in_second_batch(*args):
        nonlocal batches
        batches += 1
        if batches == 2:
            raise RuntimeError("the database went away")  # inside the batch's transaction
        return real_set_cursor(*args)

    real_set_cursor = store.set_cursor
    monkeypatch.setattr(store, "set_cursor", crash_in_second_batch)
    with pytest.raises(RuntimeError):
        plain_intake(store, utcnow, batch_size=2).poll(crashing)
    monkeypatch.undo()

    assert intake_state(store) == (2, 2, ([], []))  # the first batch only
    assert len(box.folders()["INBOX"]) == 3  # the second batch is still waiting, untouched
    crashing.close()
    store.close()
    store = box.store()
    summary = plain_intake(store, utcnow, batch_size=2).poll(box.source())

    assert (summary.processed, summary.duplicates, summary.tickets_created) == (3, 0, 3)
    assert intake_state(store) == (5, 5, ([], []))
    assert tickets_by_requester(store) == {f"customer{n}@example.com": 1 for n in range(1, 6)}
    assert [flags for flags, _ in box.folders()["Processed"]] == [PROCESSED] * 5
    assert box.everything() == before


# -- the worker ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("idle", [True, False], ids=["idle", "polling"])
def test_the_worker_reconnects_after_the_server_drops_the_connection_and_takes_later_mail(box, watch, idle):
    box.deliver(mail(1))
    store = box.store()
    worker = Worker(plain_intake(store, utcnow), box.source(use_idle=idle), poll_seconds=3600 if idle else 0.05,
                    backoff=Backoff(initial=0.01, maximum=0.05))

    with running(worker):
        wait_until(lambda: store.count_messages() == 1, what="the first message taken")
        if idle:
            wait_until(watch.idling.is_set, what="the worker idling")
        box.dovecot.kick(box.email)
        box.deliver(mail(2))
        wait_until(lambda: store.count_messages() == 2, what="mail delivered after the drop taken")
        box.deliver(mail(3))
        wait_until(lambda: store.count_messages() == 3, what="mail delivered after the reconnect taken")

    assert watch.logins == 2
    assert intake_state(store) == (3, 3, ([], []))
    assert [flags for flags, _ in box.folders()["Processed"]] == [PROCESSED] * 3


def test_a_worker_without_idle_takes_new_mail_at_its_next_poll_not_the_one_after(box):
    store = box.store()
    spy = Spy(box.source(use_idle=False))
    worker = Worker(plain_intake(store, utcnow), spy, poll_seconds=1)

    with running(worker):
        wait_until(spy.waiting.is_set, what="the first pass over")
        started = time.monotonic()
        box.deliver(mail(1))
        wait_until(lambda: store.count_messages() == 1, what="the message taken")
        took = time.monotonic() - started

    assert took < 1.7, f"took {took:.1f} s with a poll interval of 1 s"
    assert [flags for flags, _ in box.folders()["Processed"]] == [PROCESSED]


class Relay:
    """A TCP relay in front of the IMAP port that can go down like a restarting server.

    While down it cuts every relayed connection and closes new ones before the greeting.
    """

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server((host, 0))
        self.listener.settimeout(0.05)
        self.host, self.port = self.listener.getsockname()[:2]
        self.refused = 0
        self._down = threading.Event()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def go_down(self) -> None:
        self._down.set()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def come_back(self) -> None:
        self._down.clear()

    def close(self) -> None:
        self._closed.set()
        self.go_down()
        self._thread.join(5)
        self.listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            if self._down.is_set():
                self.refused += 1
                client.close()
                continue
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def relay(dovecot) -> Iterator[Relay]:
    relay = Relay(dovecot.host, dovecot.imap_port)
    yield relay
    relay.close()


def test_the_worker_backs_off_while_the_server_is_down_and_takes_the_mail_once_it_is_back(box, relay):
    store = box.store()
    worker = Worker(plain_intake(store, utcnow), box.source(port=relay.port, use_idle=False), poll_seconds=0.05,
                    backoff=Backoff(initial=0.01, maximum=0.05))

    with running(worker):
        box.deliver(mail(1))
        wait_until(lambda: store.count_messages() == 1, what="the first message taken")
        relay.go_down()
        box.deliver(mail(2))
        wait_until(lambda: relay.refused >= 3, what="three reconnection attempts")
        assert store.count_messages() == 1
        relay.come_back()
        wait_until(lambda: store.count_messages() == 2, what="the mail taken after the outage")

    assert worker.backoff.attempts == 0  # reset by the first good pass
    assert intake_state(store) == (2, 2, ([], []))
    assert [flags for flags, _ in box.folders()["Processed"]] == [PROCESSED] * 2


def test_an_idling_worker_takes_mail_delivered_while_it_waits_within_seconds(box, watch):
    store = box.store()
    worker = Worker(plain_intake(store, utcnow), box.source(), poll_seconds=3600)

    with running(worker):
        wait_until(watch.idling.is_set, what="the worker idling")
        started = time.monotonic()
        box.deliver(mail(1))
        wait_until(lambda: store.count_messages() == 1, timeout=10, what="the message taken")
        took = time.monotonic() - started
        wait_until(watch.idling.is_set, what="the worker idling again")
        box.deliver(mail(2))
        wait_until(lambda: store.count_messages() == 2, timeout=10, what="the second message taken")

    assert took < 5, f"took {took:.1f} s with a poll interval of an hour"
    assert intake_state(store) == (2, 2, ([], []))
    assert [flags for flags, _ in box.folders()["Processed"]] == [PROCESSED] * 2


def test_mail_delivered_just_as_the_worker_enters_idle_is_taken_at_once(box, watch):
    # Dovecot announces it in the same packet as IDLE's continuation: it sits in imaplib's buffer.
    store = box.store()
    worker = Worker(plain_intake(store, utcnow), box.source(), poll_seconds=3600)
    watch.before_idle = lambda: box.deliver(mail(1))

    with running(worker):
        wait_until(lambda: store.count_messages() == 1, timeout=10, what="the message taken")

    assert watch.before_idle is None
    assert [flags for flags, _ in box.folders()["Processed"]] == [PROCESSED]


@pytest.fixture
def signal_handlers() -> Iterator[None]:
    """Put back pytest's SIGTERM and SIGINT handlers after a test installed the worker's."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_sigterm_finishes_the_batch_in_hand_and_leaves_the_rest_for_the_next_run(box, signal_handlers):
    sent = [mail(n) for n in range(1, 6)]
    box.deliver(*sent)
    before = box.everything()
    store = box.store()
    spy = Spy(box.source())
    worker = Worker(plain_intake(store, utcnow, batch_size=2), spy, poll_seconds=3600)
    worker.install_signal_handlers()  # signals reach the main thread: the worker runs in it here
    assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL  # else SIGTERM would end the test run
    spy.on_fetch = lambda: os.kill(os.getpid(), signal.SIGTERM)  # while the first batch is in hand
    guard = threading.Timer(30, worker.stop.set)  # so that a worker deaf to SIGTERM fails, not hangs
    guard.start()
    started = time.monotonic()

    try:
        worker.run_forever()
    finally:
        guard.cancel()

    assert time.monotonic() - started < 10, "the worker did not stop on SIGTERM"
    assert len(spy.fetched) == 2
    assert intake_state(store) == (2, 2, ([], []))
    assert store.cursor("support") == spy.fetched[-1]
    folders = box.folders()
    assert folders["Processed"] == [(PROCESSED, raw) for raw in stored(sent[:2])]
    assert folders["INBOX"] == [(frozenset(), raw) for raw in stored(sent[2:])]
    store.close()

    store = box.store()
    summary = plain_intake(store, utcnow, batch_size=2).poll(box.source())
    assert (summary.processed, summary.duplicates) == (3, 0)
    assert intake_state(store) == (5, 5, ([], []))
    assert box.everything() == before


# -- filing what someone else files at the same moment ----------------------------------------------

class Interleaving(IMAPClient):
    """IMAPClient that records each MOVE and runs ``before_move`` just before the next one."""

    moves: list
    before_move: Callable[[], None] | None = None

    def move(self, messages, folder):
        hook, type(self).before_move = type(self).before_move, None
        if hook is not None:
            hook()
        type(self).moves.append((self, messages))
        return super().move(messages, folder)


@pytest.fixture
def interleaving(monkeypatch) -> type[Interleaving]:
    interleaved = type("Interleaved", (Interleaving,), {"moves": [], "before_move": None})
    monkeypatch.setattr(mailer.imap, "IMAPClient", interleaved)
    return interleaved


def test_a_worker_starting_a_pass_while_another_files_its_batch_leaves_the_filing_to_that_worker(
    box, interleaving
):
    # Two sessions moving one message at once can both copy it: the folder would hold it twice.
    sent = [mail(n) for n in range(1, 4)]
    box.deliver(*sent)
    store = box.store()
    other = box.source()
    other.list_new(None)
    other_done = threading.Event()

    def other_worker_starts_a_pass() -> None:
        # Its first step is to file what was committed but not filed, as after a crash: our batch.
        def run() -> None:
            try:
                plain_intake(store, utcnow).acknowledge_pending(other)
            finally:
                store.db.close()  # this thread's connection
                other_done.set()

        threading.Thread(target=run, daemon=True).start()
        other_done.wait(0.5)  # it may not be able to go ahead while we file: that is the point

    interleaving.before_move = other_worker_starts_a_pass
    summary = plain_intake(store, utcnow).poll(box.source())
    wait_until(other_done.is_set, what="the other worker's pass over")

    assert interleaving.before_move is None, "the other worker never started"
    assert len({client for client, _uids in interleaving.moves}) == 1, interleaving.moves
    assert (summary.processed, summary.duplicates) == (3, 0)
    assert intake_state(store) == (3, 3, ([], []))
    assert box.folders()["Processed"] == [(PROCESSED, raw) for raw in stored(sent)]


def test_mail_a_person_files_while_the_worker_files_its_batch_stays_where_the_person_put_it(box, interleaving):
    sent = [mail(n) for n in range(1, 4)]
    box.deliver(*sent)
    store = box.store()

    def person_files_the_second_message() -> None:
        with box.dovecot.client(box.email) as client:
            client.create_folder("Triage")
            client.select_folder("INBOX")
            client.move([2], "Triage")

    interleaving.before_move = person_files_the_second_message
    summary = plain_intake(store, utcnow).poll(box.source())

    assert interleaving.before_move is None, "the person never filed the message"
    assert (summary.processed, summary.duplicates) == (3, 0)
    assert intake_state(store) == (3, 3, ([], []))
    folders = box.folders()
    assert folders["INBOX"] == []
    assert folders["Processed"] == [(PROCESSED, raw) for raw in stored([sent[0], sent[2]])]
    assert folders["Triage"] == [(PROCESSED, DovecotServer.stored(sent[1]))]


# -- two workers ---------------------------------------------------------------------------------------

WORKER_SCRIPT = """
import json, os, sys
from mailer.imap import ImapSource
from ticketing.app.clock import utcnow
from ticketing.services.intake import Intake, IntakeSummary
from ticketing.store import SqlStore
from ticketing.app.bootstrap import build_minimal_desk
from ticketing.app.worker import Backoff, Worker

settings = json.loads(sys.argv[1])
store = SqlStore.open(settings.pop("db_url"))
summaries = []

class Counting(Intake):
    def poll(self, source, stop=None, **kwargs):
        summary = super().poll(source, stop, **kwargs)
        summaries.append(summary)
        return summary

source = ImapSource(password=os.environ["WG_IMAP_PASSWORD"], **settings)
worker = Worker(Counting(store, utcnow, build_minimal_desk(store), batch_size=5), source, poll_seconds=3600, backoff=Backoff(0.01, 0.05))
worker.install_signal_handlers()
worker.run_forever()
print(json.dumps(vars(sum(summaries, IntakeSummary()))))
"""


def test_two_workers_on_one_mailbox_and_one_postgresql_database_handle_every_message_once(pg_box, pg_url):
    # Two processes, as in production: the store's models are bound to one database per process.
    settings = dict(db_url=pg_url, name="support", host=pg_box.dovecot.host, port=pg_box.dovecot.imap_port,
                    security="none", username=pg_box.email, folder="INBOX", processed_folder="Processed",
                    quarantine_folder="Quarantine", timeout=10.0)
    env = {**os.environ, "WG_IMAP_PASSWORD": pg_box.password, "PYTHONPATH": str(ROOT)}
    SqlStore.open(pg_url).close()  # the schema, so that neither worker has to create it
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT, json.dumps(settings)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        wait_until(lambda: pg_box.dovecot.sessions(pg_box.email) == 2 or any(w.poll() is not None for w in workers),
                   what="both workers logged in")
        # Each delivery wakes both workers from IDLE: they race for every message.
        questions = [mail(n) for n in range(60)]
        copies = [mail(n, subject="the same message again") for n in range(0, 60, 10)]
        nobody = [mail(100 + n, sender="") for n in range(3)]
        for raw in questions + copies + nobody:
            pg_box.deliver(raw)
        wait_until(lambda: not pg_box.folders()["INBOX"] or any(w.poll() is not None for w in workers),
                   timeout=60, what="the inbox emptied")
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        results = [worker.communicate(timeout=30) for worker in workers]
    for worker, (_out, err) in zip(workers, results):
        assert worker.returncode == 0, err
        assert "Traceback" not in err and "retrying" not in err, err  # no pass failed
    summaries = [IntakeSummary(**json.loads(out)) for out, _err in results]
    total = sum(summaries, IntakeSummary())

    assert (total.processed, total.duplicates, total.quarantined, total.tickets_created) == (60, 6, 3, 60)
    store = SqlStore.open(pg_url)
    try:
        assert tickets_by_requester(store) == {f"customer{n}@example.com": 1 for n in range(60)}
        assert store.count_messages() == 63
        assert len(store.list_quarantine()) == 3
        assert store.unacknowledged("support") == ([], [])
    finally:
        store.close()
    folders = pg_box.folders()
    assert folders["INBOX"] == []
    assert Counter(flags for flags, _ in folders["Processed"]) == {PROCESSED: 66}
    assert Counter(flags for flags, _ in folders["Quarantine"]) == {QUARANTINED: 3}
