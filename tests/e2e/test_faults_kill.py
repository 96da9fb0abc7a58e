"""SIGKILL at random points while a real ``whiteglove run`` drains a Dovecot mailbox of a few hundred
mixed messages, restarted after each kill, on SQLite and on PostgreSQL.

What the support team relies on, however often the worker is killed: every customer's question is
one ticket (never two), every follow-up lands in its question's ticket, every message is stored once
and filed out of the inbox, and every acknowledgement and notification reaches the SMTP server
once, counted by Message-ID there. The one allowance: a kill between the server's yes and the
commit sends that mail again with the same Message-ID (at most one per kill). Nothing is left in
the outbox. The kill points come from a seeded random generator; the seed is in every assertion
message (set ``WG_FAULT_SEED`` to replay a run).
"""
from __future__ import annotations

import os
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from support.workers import (
    PASSWORD_ENV,
    WorkerProcess,
    delivered_ids,
    imap_mailbox,
    mail_config,
    question,
    smtp_outgoing,
    wait_until,
)

from ticketing.core.domain import MessageKind, OutboxStatus
from ticketing.store import SqlStore

pytestmark = pytest.mark.dovecot

KILLS = 5
QUESTIONS = 150
WHEN = format_datetime(datetime.now(timezone.utc) - timedelta(minutes=5))


def raw(headers: dict[str, str], body: str) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n" + body + "\r\n").encode()


def follow_up(i: int) -> bytes:
    return raw({"From": f"Customer {i} <customer{i}@client{i % 9}.example>", "To": "support@northwind.example",
                "Subject": f"Re: Question {i}", "Message-ID": f"<f{i}@client.example>", "Date": WHEN,
                "In-Reply-To": f"<q{i}@client.example>", "References": f"<q{i}@client.example>"},
               f"One more detail for team {i}: we use Okta.")


def out_of_office(j: int) -> bytes:
    return raw({"From": f"Away {j} <away{j}@client{j % 9}.example>", "To": "support@northwind.example",
                "Subject": "Automatic reply: out of the office", "Message-ID": f"<ooo{j}@client.example>",
                "Date": WHEN, "Auto-Submitted": "auto-replied"},
               "I am out of the office until Monday.")


END_OF_TIME = raw({"From": "Mallory <mallory@example.net>", "To": "support@northwind.example",
                   "Subject": "from the future", "Date": "Fri, 31 Dec 9999 23:59:59 -0800",
                   "Message-ID": "<future@example.net>"}, "hello")


def mixed_stream(rng: random.Random) -> list[bytes]:
    """Questions, out-of-office replies and a poison message in random order; each follow-up after
    its question; a few questions delivered twice (a mail server's retry)."""
    stream = [question(i) for i in range(QUESTIONS)] + [out_of_office(j) for j in range(30)] + [END_OF_TIME]
    rng.shuffle(stream)
    for i in range(0, QUESTIONS, 2):
        after = stream.index(question(i)) + 1
        stream.insert(rng.randrange(after, len(stream) + 1), follow_up(i))
    for i in rng.sample(range(QUESTIONS), 20):
        after = stream.index(question(i)) + 1
        stream.insert(rng.randrange(after, len(stream) + 1), question(i))
    return stream


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_killed_at_random_points_while_draining_every_message_is_handled_once_and_every_mail_sent_once(
        database, request, tmp_path, dovecot, imap_account, smtp_server, monkeypatch):
    seed = int(os.environ.get("WG_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    why = f"(seed {seed}; WG_FAULT_SEED={seed} replays it)"
    db_url = f"sqlite:///{tmp_path / 'wg.db'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    address, password = imap_account
    smtp_server.data_delay = 0.003  # a kill lands mid-send now and then
    config = mail_config(
        tmp_path / "config.toml", db_url=db_url,
        mailbox=imap_mailbox(dovecot.host, dovecot.imap_port, address, PASSWORD_ENV)
        + '\nprocessed_folder = "Processed"\nquarantine_folder = "Quarantine"',
        outgoing=smtp_outgoing(smtp_server.host, smtp_server.port))
    stream = mixed_stream(rng)
    dovecot.deliver_many(address, stream)
    worker = WorkerProcess(config, tmp_path / "worker.log", env={PASSWORD_ENV: password})
    store = SqlStore.open(db_url)

    def progress() -> int:
        return store.count_messages() + len(smtp_server.received)

    def inbox_empty() -> bool:
        with dovecot.client(address) as client:
            return client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0

    def drained() -> bool:
        counts = store.outbox_counts()
        return counts[OutboxStatus.QUEUED] == counts[OutboxStatus.SENDING] == 0 and inbox_empty() and (
            store.count_messages() > 0)

    # Roughly what a whole drain does: a message stored, then two mails sent, per question.
    expected_progress = len(set(stream)) + 2 * QUESTIONS
    kill_points = sorted(rng.sample(range(10, int(expected_progress * 0.85)), KILLS))
    try:
        for point in kill_points:
            worker.start()
            wait_until(lambda: progress() >= point or not worker.running, timeout=90,
                       what=f"progress to {point} {why}")
            worker.assert_alive()
            worker.kill()
        worker.start()
        wait_until(drained, timeout=120, what=f"the mailbox and the outbox drained {why}\n{worker.tail()}")
        assert worker.stop() == 0, worker.tail()

        tickets = store.list_tickets()
        messages = store.messages()
        outbox = store.outbox()
    finally:
        worker.kill()
        store.close()

    subjects = Counter(t.subject for t in tickets if t.requester.startswith("customer"))
    assert subjects == Counter(f"Question {i}" for i in range(QUESTIONS)), f"a ticket lost or doubled {why}"
    assert not [t for t in tickets if t.requester.startswith("away")], f"an out-of-office opened a ticket {why}"
    stored = Counter(m.message_id for m in messages)
    distinct = {m.split(b"Message-ID: <")[1].split(b">")[0].decode() for m in stream}
    assert stored == Counter(distinct), f"a message not stored, or stored twice {why}"
    ticket_of = {m.message_id: m.ticket_id for m in messages}
    for i in range(0, QUESTIONS, 2):
        assert ticket_of[f"f{i}@client.example"] == ticket_of[f"q{i}@client.example"], f"follow-up {i} astray {why}"
    assert {m.kind for m in messages if m.message_id.startswith("ooo")} <= {MessageKind.AUTOMATED}, why

    assert {m.status for m in outbox} == {OutboxStatus.SENT}, f"mail left in the outbox {why}"
    arrived = delivered_ids(smtp_server.received)
    assert set(arrived) == {m.message_id for m in outbox}, f"mail lost, or sent that was never queued {why}"
    resent = sum(arrived.values()) - len(arrived)
    assert resent <= KILLS, f"{resent} mails arrived twice after {KILLS} kills {why}"
    acks = Counter(r for m in outbox if m.purpose == "acknowledgement" for r in m.recipients if r.startswith("customer"))
    assert len(acks) == QUESTIONS and set(acks.values()) == {1}, f"a customer acknowledged twice {why}"
    assert worker.traceback_free(), worker.tail()
    with dovecot.client(address) as client:
        filed = sum(client.select_folder(f, readonly=True)[b"EXISTS"] for f in ("Processed", "Quarantine"))
    assert filed == len(stream), f"a message not filed out of the inbox {why}"
    print(f"seed {seed}: {worker.starts} starts, {KILLS} kills at progress {kill_points}, {resent} resent")
