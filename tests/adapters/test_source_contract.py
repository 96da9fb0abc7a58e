"""The contract every mailbox source keeps (``mailer.source.MailboxSource``), run against each one:
the in-memory fake the service tests use, a Maildir folder, ImapSource on a real Dovecot,
GraphSource on the fake Microsoft Graph, and EwsSource on the loopback EWS server.

What intake relies on: keys listed oldest first and stable; the bytes as delivered; a cursor that
skips only what came before it; a fetch that leaves out keys gone meanwhile; an acknowledgement
that can be repeated and never deletes; a wait that a stop ends at once; a source that can be
closed and used again.
"""
from __future__ import annotations

import threading
import time
from datetime import timezone
from pathlib import Path

import pytest
from support.dovecot import DovecotServer
from support.fakes import FakeSource

from mailer import ImapSource, MaildirSource


def message(number: int) -> bytes:
    return (
        f"From: Customer <customer@example.com>\r\nTo: help@example.test\r\nSubject: Question {number}\r\n"
        f"Message-ID: <contract-{number}@example.com>\r\nDate: Mon, 23 Nov 2026 10:00:{number:02d} +0000\r\n"
        f"\r\nBody of message {number}.\r\n"
    ).encode()


class FakeMailbox:
    def __init__(self):
        self._source = FakeSource()

    def deliver(self, raw: bytes) -> None:
        self._source.add(raw)

    def source(self) -> FakeSource:
        return self._source

    def stored(self, raw: bytes) -> bytes:
        return raw

    def count(self) -> int:
        return len(self._source.messages)

    def remove(self, source, key: str) -> None:
        del self._source.messages[key]


class MaildirMailbox:
    def __init__(self, root: Path):
        self.root = root
        for sub in ("new", "cur", "tmp"):
            (root / sub).mkdir(parents=True)
        self.delivered = 0

    def deliver(self, raw: bytes) -> None:
        self.delivered += 1
        # The delivery time starts a Maildir name: one second apart, so that the order is theirs.
        (self.root / "new" / f"{1_795_000_000 + self.delivered}.M{self.delivered}P1.test").write_bytes(raw)

    def source(self) -> MaildirSource:
        return MaildirSource(self.root, name="contract")

    def stored(self, raw: bytes) -> bytes:
        return raw

    def count(self) -> int:
        return sum(1 for sub in ("new", "cur") for _ in (self.root / sub).iterdir())

    def remove(self, source, key: str) -> None:  # a mail client deleted it
        for path in (self.root / "new").iterdir():
            if path.name.startswith(key):
                path.unlink()


class ImapMailbox:
    def __init__(self, dovecot: DovecotServer, email: str, password: str):
        self.dovecot, self.email, self.password = dovecot, email, password
        self.sources: list[ImapSource] = []

    def deliver(self, raw: bytes) -> None:
        self.dovecot.deliver(self.email, raw)

    def source(self) -> ImapSource:
        source = ImapSource(name="contract", host=self.dovecot.host, port=self.dovecot.imap_port, security="none",
                            username=self.email, password=self.password, processed_folder="Processed",
                            quarantine_folder="Quarantine", use_idle=False, timeout=10.0)
        self.sources.append(source)
        return source

    def stored(self, raw: bytes) -> bytes:
        return self.dovecot.stored(raw)

    def count(self) -> int:
        with self.dovecot.client(self.email) as client:
            total = 0
            for _flags, _delimiter, name in client.list_folders():
                total += client.folder_status(name, ["MESSAGES"])[b"MESSAGES"]
            return total

    def remove(self, source, key: str) -> None:  # moved to the processed folder
        source.acknowledge([key], [])


class GraphMailbox:
    """A Microsoft 365 mailbox on the fake Graph server, read with an app-only token."""

    def __init__(self, graph, authority, ca_file: str):
        import secrets

        from mailer import MicrosoftTokens
        from mailer.graph import GRAPH_SCOPE

        self.graph, self.address = graph, f"support-{secrets.token_hex(4)}@contoso.test"
        client_id, secret = "graph-" + secrets.token_hex(4), secrets.token_urlsafe(16)
        authority.register(client_id, self.address, secret=secret)
        self.tokens = MicrosoftTokens(tenant_id="contoso", client_id=client_id, client_secret=secret,
                                      authority=authority.authority, scope=GRAPH_SCOPE, ca_file=ca_file)
        self.ca_file = ca_file

    def deliver(self, raw: bytes) -> None:
        self.graph.deliver(self.address, raw)

    def source(self):
        from mailer.graph import GraphClient, GraphSource

        client = GraphClient(mailbox=self.address, tokens=self.tokens, base_url=self.graph.base_url, ca_file=self.ca_file)
        return GraphSource(name="contract", client=client, processed_folder="Processed",
                           quarantine_folder="Quarantine", page_size=2)

    def stored(self, raw: bytes) -> bytes:
        return raw

    def count(self) -> int:
        return sum(1 for m in self.graph.mailbox(self.address).messages.values() if m.folder != "sentitems")

    def remove(self, source, key: str) -> None:  # deleted by a person in Outlook
        del self.graph.mailbox(self.address).messages[key]


class EwsMailboxHarness:
    """An Exchange mailbox on the loopback EWS server, read through exchangelib."""

    def __init__(self, ews):
        import secrets

        from mailer import EwsMailbox

        self.ews, self.address = ews, f"support-{secrets.token_hex(4)}@contoso.test"
        user, password = f"svc-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
        ews.add_user(user, password)
        ews.add_mailbox(self.address)
        for folder in ("Processed", "Quarantine"):
            ews.add_folder(self.address, folder)
        self.connection = lambda: EwsMailbox(mailbox=self.address, username=user, password=password, url=ews.url,
                                             auth_type="basic", ca_file=ews.ca_file, version=(15, 1, 2507, 6))

    def deliver(self, raw: bytes) -> None:
        self.ews.deliver(self.address, raw)

    def source(self):
        from mailer import EwsSource

        return EwsSource(name="contract", connection=self.connection(), processed_folder="Processed",
                         quarantine_folder="Quarantine", page_size=2)

    def stored(self, raw: bytes) -> bytes:
        return raw

    def count(self) -> int:
        return sum(len(self.ews.items(self.address, f)) for f in ("inbox", "Processed", "Quarantine"))

    def remove(self, source, key: str) -> None:  # moved away by a person in Outlook
        source.acknowledge([key], [])


@pytest.fixture(params=["fake", "maildir", pytest.param("imap", marks=pytest.mark.dovecot), "graph", "ews"])
def mailbox(request, tmp_path):
    if request.param == "fake":
        yield FakeMailbox()
    elif request.param == "ews":
        yield EwsMailboxHarness(request.getfixturevalue("fake_ews"))
    elif request.param == "graph":
        authority = request.getfixturevalue("token_authority")
        yield GraphMailbox(request.getfixturevalue("fake_graph"), authority,
                           authority.write_ca_file(tmp_path / "ca.pem"))
    elif request.param == "maildir":
        yield MaildirMailbox(tmp_path / "Maildir")
    else:
        email, password = request.getfixturevalue("imap_account")
        box = ImapMailbox(request.getfixturevalue("dovecot"), email, password)
        yield box
        for source in box.sources:
            source.close()


def test_new_mail_is_listed_oldest_first_and_fetched_as_delivered(mailbox):
    for n in (1, 2, 3):
        mailbox.deliver(message(n))
    source = mailbox.source()
    keys = source.list_new(None)
    fetched = source.fetch(keys)
    assert [m.raw for m in fetched] == [mailbox.stored(message(n)) for n in (1, 2, 3)]
    assert [m.key for m in fetched] == keys
    assert all(m.received_at is None or m.received_at.tzinfo == timezone.utc for m in fetched)
    assert source.list_new(None) == keys  # keys are stable


def test_a_cursor_skips_only_what_came_before_it(mailbox):
    mailbox.deliver(message(1))
    source = mailbox.source()
    [first] = source.list_new(None)
    mailbox.deliver(message(2))
    later = source.list_new(source.cursor_after(first))
    # A source without a cursor (None) lists everything again: the caller's records skip the rest.
    assert [m.raw for m in source.fetch(later)][-1] == mailbox.stored(message(2))
    assert source.cursor_after(first) is None or first not in later


def test_a_fetch_leaves_out_keys_that_are_gone(mailbox):
    for n in (1, 2):
        mailbox.deliver(message(n))
    source = mailbox.source()
    first, second = source.list_new(None)
    mailbox.remove(source, first)
    assert [m.key for m in source.fetch([first, second])] == [second]


def test_acknowledging_can_be_repeated_and_never_deletes(mailbox):
    for n in (1, 2):
        mailbox.deliver(message(n))
    source = mailbox.source()
    processed, quarantined = source.list_new(None)
    source.acknowledge([processed], [quarantined])
    source.acknowledge([processed], [quarantined])  # after a crash the caller may say it again
    assert mailbox.count() == 2


def test_a_wait_ends_at_once_when_stopped(mailbox):
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    mailbox.source().wait(3600, stop)
    assert time.monotonic() - started < 5


def test_a_closed_source_can_be_used_again(mailbox):
    mailbox.deliver(message(1))
    source = mailbox.source()
    keys = source.list_new(None)
    source.close()
    source.close()
    assert [m.raw for m in source.fetch(source.list_new(None))] == [mailbox.stored(message(1))]
    assert source.list_new(None) == keys
