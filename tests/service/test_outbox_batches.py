"""The outbox sends a claimed batch with few disk flushes, and never risks more than one resend per
message where a resend would reach someone twice."""
from __future__ import annotations

import importlib
from datetime import datetime, timezone

import pytest

from mailer.directory_sender import DirectorySender
from mailer.message import parse_message
from ticketing.core.mails import Draft, Support
from ticketing.files.templates import Renderer
from ticketing.services.outbox import Outbox
from ticketing.services.outbox_sender import OutboxSender

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)
SUPPORT = Support("support@northwind.example", "Northwind Support")
sending = importlib.import_module("mailer.directory_sender")


def queue(store, count: int) -> None:
    from mailer.message import Address

    outbox = Outbox(store, SUPPORT)
    with store.transaction():
        for n in range(count):
            outbox.queue(Draft(purpose="acknowledgement", token=f"ack.{n}", to=(Address("Bob", f"bob{n}@globex.example"),),
                               subject=f"Re: SSO loop [WG-{n}]", body=(f"We have opened ticket [WG-{n}].\n", None)), NOW)


def test_a_directory_batch_is_flushed_once_before_it_counts_as_sent(store, tmp_path, monkeypatch):
    queue(store, 25)
    flushed = []
    real_fsync = sending.os.fsync
    monkeypatch.setattr(sending.os, "fsync", lambda fd: (flushed.append(fd), real_fsync(fd)))

    class Watched(DirectorySender):
        def sync(self):
            # Nothing of the batch is recorded as sent before its files are on disk.
            assert sum(m.status == "sent" for m in store.outbox()) == len(syncs) * 10
            syncs.append(len(flushed))
            super().sync()

    syncs: list[int] = []
    summary = OutboxSender(store, Watched(tmp_path / "out"), Renderer(), batch=10).send_due(NOW)
    assert summary.sent == 25
    assert len(syncs) == 3  # one directory flush per batch of ten, not one per file
    assert len(flushed) == 25 + 3  # each file, then the directory once per batch (it was 2 per file)
    assert {m.status for m in store.outbox()} == {"sent"}
    files = sorted((tmp_path / "out").glob("*.eml"))
    assert sorted(parse_message(f.read_bytes()).to[0].email for f in files) == sorted(
        f"bob{n}@globex.example" for n in range(25))


class CountingServer:
    """A server that remembers what it took, and what the outbox had recorded as sent by then."""

    def __init__(self, store):
        self.store = store
        self.took: list[str] = []

    def send(self, raw, envelope_from, recipients):
        sent = {m.message_id for m in self.store.outbox() if m.status == "sent"}
        assert sent == set(self.took)  # every message the server took before is recorded already
        self.took.append(parse_message(raw).message_id)

    def close(self):
        pass


def test_a_server_that_would_deliver_twice_has_each_message_recorded_before_the_next(store):
    queue(store, 12)
    summary = OutboxSender(store, CountingServer(store), Renderer(), batch=10).send_due(NOW)
    assert summary.sent == 12 and {m.status for m in store.outbox()} == {"sent"}


def test_a_kill_in_a_directory_batch_writes_no_file_twice_when_sent_again(store, tmp_path, monkeypatch):
    queue(store, 10)

    class Crashing(DirectorySender):
        def send_many(self, messages):
            super().send_many(messages[:4])  # killed after four files of the batch were written
            raise SystemExit("killed")

    with monkeypatch.context() as m, pytest.raises(SystemExit):
        m.setattr(store, "mark_sent", lambda *a, **k: None)  # killed: nothing of the batch was recorded
        OutboxSender(store, Crashing(tmp_path / "out"), Renderer(), batch=10, owner="dead").send_due(NOW)
    assert {m.status for m in store.outbox()} == {"sending"}
    assert len(list((tmp_path / "out").glob("*.eml"))) == 4
    store.release_claims("dead", NOW)
    before = {f.name: f.stat().st_mtime_ns for f in (tmp_path / "out").glob("*.eml")}
    assert OutboxSender(store, DirectorySender(tmp_path / "out"), Renderer(), batch=10).send_due(NOW).sent == 10
    after = {f.name: f.stat().st_mtime_ns for f in (tmp_path / "out").glob("*.eml")}
    assert len(after) == 10 and all(after[name] == stamp for name, stamp in before.items())
