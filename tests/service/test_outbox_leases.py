"""Claimed outgoing mail is a lease of seconds: a worker killed while sending strands its batch for
seconds, not ten minutes; a live worker's claims are never taken; nothing goes twice but the one
message a kill caught between the server's yes and the commit."""
from __future__ import annotations

import os
import random
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from mailer.message import Address
from ticketing.app.claims import claim_is_dead, worker_name
from ticketing.core.mails import Draft, Support
from ticketing.files.templates import Renderer
from ticketing.services.outbox import Outbox
from ticketing.services.outbox_sender import OutboxSender, RetryPolicy

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)
SUPPORT = Support("support@northwind.example", "Northwind Support")
RENDERER = Renderer()


class Killed(BaseException):
    """SIGKILL, as far as the sending code can tell: nothing after it runs."""


class Server:
    """An SMTP server as the outbox sees it: counts what it accepted, by Message-ID."""

    def __init__(self, kill_at: int | None = None, on_send=None):
        self.received: Counter[str] = Counter()
        self.kill_at = kill_at
        self.on_send = on_send

    def send(self, raw: bytes, envelope_from: str, recipients: list[str]) -> None:
        message_id = next(line for line in raw.split(b"\r\n") if line.lower().startswith(b"message-id:"))
        self.received[message_id.split(b"<")[1].split(b">")[0].decode()] += 1
        if self.on_send is not None:
            self.on_send()
        if self.kill_at is not None and sum(self.received.values()) == self.kill_at:
            raise Killed  # the server took it; the worker dies before recording that

    def close(self) -> None:
        pass


def queue(store, count: int) -> list[str]:
    outbox = Outbox(store, SUPPORT)
    with store.transaction():
        return [outbox.queue(Draft(purpose="notification", token=f"p0.{n}", to=(Address("", "eng@northwind.example"),),
                                   subject=f"P0: SSO down [WG-{n}]", body=("Down.\n", "<p>Down.</p>")), NOW)
                for n in range(count)]


def sender(store, server, **kw) -> OutboxSender:
    return OutboxSender(store, server, RENDERER, RetryPolicy(rng=random.Random(7)), **kw)


def test_mail_claimed_by_a_worker_killed_while_sending_goes_out_within_seconds_not_ten_minutes(store):
    ids = queue(store, 15)
    with pytest.raises(Killed):
        sender(store, Server(kill_at=2)).send_due(NOW)  # killed as the second mail is accepted
    server = Server()
    survivor = sender(store, server)
    survivor.send_due(NOW + timedelta(seconds=5))
    claimed_by_the_dead = {mail.message_id for mail in store.outbox(status="sending")}
    assert claimed_by_the_dead and set(server.received).isdisjoint(claimed_by_the_dead)  # a lease of seconds
    assert survivor.send_due(NOW + timedelta(seconds=45)).sent == len(claimed_by_the_dead)
    assert store.outbox(status="sending") == [] and {m.status for m in store.outbox()} == {"sent"}
    # every P0 arrived; the one caught between the server's yes and the commit twice, the rest once
    everything = Counter(server.received) + Counter({ids[0]: 1, ids[1]: 1})
    assert set(everything) == set(ids)
    assert [mid for mid, n in everything.items() if n > 1] == [ids[1]]


def test_a_live_worker_renews_its_lease_while_it_sends_and_no_other_worker_takes_its_mail(store):
    ids = queue(store, 8)
    clock = [NOW]
    other_server = Server()
    other = sender(store, other_server, owner="host-b:2:1")
    took = []

    def slow_send():  # each mail takes the server 20 s; meanwhile the other worker makes a pass
        clock[0] += timedelta(seconds=20)
        took.append(other.send_due(clock[0]).sent)

    server = Server(on_send=slow_send)
    summary = sender(store, server, owner="host-a:1:1", clock=lambda: clock[0]).send_due(NOW)
    assert summary.sent == 8 and took == [0] * 8  # 160 s of sending, longer than any one lease
    assert server.received == Counter(ids) and not other_server.received


def test_a_restarted_worker_gives_back_its_dead_predecessors_claims_at_once_and_leaves_a_live_ones(store):
    ids = queue(store, 4)
    assert len(store.claim_due_mail(NOW, 2, timedelta(seconds=30), owner="vm:100:5")) == 2  # then it was killed
    assert len(store.claim_due_mail(NOW, 2, timedelta(seconds=30), owner="vm:200:5")) == 2  # still sending
    server = Server()
    restarted = sender(store, server, owner="vm:300:9", is_dead=lambda owner: owner == "vm:100:5")
    assert restarted.send_due(NOW + timedelta(seconds=1)).sent == 2
    assert set(server.received) == set(ids[:2])
    assert [m.message_id for m in store.outbox(status="sending")] == ids[2:]


def test_a_worker_knows_its_own_name_alive_and_a_finished_process_of_this_host_dead():
    me = worker_name()
    host, pid, start = me.rsplit(":", 2)
    assert int(pid) == os.getpid() and not claim_is_dead(me)
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert claim_is_dead(f"{host}:{gone.pid}:{start}")
    assert claim_is_dead(f"{host}:{os.getpid()}:{start}0")  # our pid, an earlier process (a restarted container)
    assert not claim_is_dead(f"elsewhere.example:{gone.pid}:1")  # another host's: its lease decides
    assert not claim_is_dead("not a worker name")


def test_one_send_slower_than_the_lease_keeps_its_claim_by_the_heartbeat_thread(store):
    [mid] = queue(store, 1)
    clock = [NOW]
    other_server = Server()
    other = sender(store, other_server, owner="host-b:2:1")
    took = []

    def a_minute_on_one_message():
        clock[0] += timedelta(seconds=60)  # the server takes a minute (its socket timeout is per read)
        deadline = time.monotonic() + 10
        while store.outbox(status="sending")[0].next_attempt_at <= clock[0]:  # until the heartbeat renewed it
            assert time.monotonic() < deadline, "the lease was not renewed while the message was being sent"
            time.sleep(0.01)
        took.append(other.send_due(clock[0]).sent)

    server = Server(on_send=a_minute_on_one_message)
    assert sender(store, server, owner="host-a:1:1", clock=lambda: clock[0], heartbeat=0.02).send_due(NOW).sent == 1
    assert took == [0] and server.received == Counter([mid]) and not other_server.received
    assert store.outbox(status="sending") == []
