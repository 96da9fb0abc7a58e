"""Several workers on one database: one does a mailbox's intake at a time and another takes over when
its lease runs out; a periodic job runs once per due time and never in two workers at once; a mail
queued by two workers at the same moment is queued once; two workers planning for one engineer at
the same moment never book her twice. Each worker has its own store (its own connection)."""
from __future__ import annotations

import copy
import logging
import signal
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from support.app import plain_intake
from support.desk import CONFIG, SLA, WED_8AM, Desk
from support.fakes import FakeSource
from support.mail import make_message, unsigned

from mailer.message import Address
from ticketing.app.claims import claim_is_dead
from ticketing.app.leases import Leases
from ticketing.app.worker import Job, Worker
from ticketing.core.mails import Draft, Support
from ticketing.services.outbox import Outbox
from ticketing.store import SqlStore

NOW = datetime(2026, 11, 18, 17, 0, tzinfo=timezone.utc)
A, B = "host-a.example:101:1", "host-b.example:202:2"  # workers on other hosts: only their leases tell


@pytest.fixture
def db(db_url):
    stores: list[SqlStore] = []

    def open_store() -> SqlStore:
        stores.append(SqlStore.open(db_url))
        return stores[-1]

    yield open_store
    for store in stores:
        store.close()


def worker(store: SqlStore, source: FakeSource, holder: str, jobs=(), clock=lambda: NOW) -> Worker:
    return Worker(plain_intake(store, clock), source, poll_seconds=60, jobs=jobs, clock=clock,
                  leases=Leases(store, holder, seconds=30, is_dead=claim_is_dead))


def test_one_worker_does_a_mailboxs_intake_and_another_takes_over_within_the_lease_when_it_stops(db, caplog):
    source = FakeSource("imap:support@northwind.example/INBOX")
    first, second = worker(db(), source, A), worker(db(), source, B)
    source.add(make_message(message_id="<m1@globex.example>"))
    assert first.tick(NOW).intake.processed == 1

    source.add(make_message(message_id="<m2@globex.example>"))
    with caplog.at_level(logging.DEBUG, logger="ticketing.app.leases"):
        assert second.tick(NOW + timedelta(seconds=5)).intake.processed == 0
        assert second.tick(NOW + timedelta(seconds=10)).intake.processed == 0
    said = [(r.levelno, r.getMessage()) for r in caplog.records if "another worker has it" in r.getMessage()]
    assert [level for level, _ in said] == [logging.INFO, logging.DEBUG]  # said once, then only at DEBUG
    assert A in said[0][1]
    assert first.tick(NOW + timedelta(seconds=20)).intake.processed == 1  # the holder renews and goes on

    # the holder stops renewing (dead on another host): its lease, renewed at +20 s, runs out at +50 s
    source.add(make_message(message_id="<m3@globex.example>"))
    assert second.tick(NOW + timedelta(seconds=49)).intake.processed == 0
    assert second.tick(NOW + timedelta(seconds=50)).intake.processed == 1
    assert first.tick(NOW + timedelta(seconds=55)).intake.processed == 0  # it came back: the other has it now
    assert len(first.intake.store.list_tickets()) == 3  # each message once


def test_an_idle_holder_keeps_its_lease_through_quiet_minutes_and_a_standby_never_takes_it(db):
    """The worker's quiet waits (60 s polls, 30 s outbox wakes) are shorter than the lease where
    workers may share the database: a live holder renews it before it lapses."""
    source = FakeSource()
    clock = [NOW]
    holder = worker(db(), source, A, clock=lambda: clock[0])
    holder.leases.seconds = 20
    standby = worker(db(), source, B, clock=lambda: clock[0])
    waits = []

    def quiet(timeout, stop):
        waits.append(timeout)
        clock[0] += timedelta(seconds=timeout + 0.5)  # the pass itself takes a moment too
        assert standby.tick(clock[0]).intake.processed == 0
        assert standby.intake.store.lease_holder(f"intake:{source.name}", clock[0]) == A
        if len(waits) == 40:  # ten quiet minutes or so
            source.add(make_message())
        if len(waits) > 41:
            stop.set()

    source.wait = quiet
    holder.run_forever()
    assert max(waits) <= 20 / 3 and len(holder.intake.store.list_tickets()) == 1
    assert holder.intake.store.lease_holder(f"intake:{source.name}", clock[0]) is None  # given back at the stop


def test_a_lease_whose_holder_died_on_this_host_is_taken_at_once(db):
    source = FakeSource()
    dead = f"{socket.gethostname()}:999999999:1"  # no such process
    store = db()
    assert store.hold_lease(f"intake:{source.name}", dead, NOW, 30) is None
    source.add(make_message())
    assert worker(store, source, B).tick(NOW + timedelta(seconds=1)).intake.processed == 1


def test_a_worker_killed_but_not_yet_reaped_by_its_parent_counts_as_dead():
    """A zombie still answers kill(pid, 0) and keeps its /proc entry: its lease must not wait 30 s."""
    from ticketing.app.claims import _started

    child = subprocess.Popen(["sleep", "30"])
    try:
        name = f"{socket.gethostname()}:{child.pid}:{_started(child.pid)}"
        assert not claim_is_dead(name)
        child.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert claim_is_dead(name)
    finally:
        child.kill()
        child.wait()


def test_a_worker_stopping_cleanly_gives_its_intake_back_at_once(db):
    source = FakeSource()
    store = db()
    first = worker(store, source, A)
    first.tick(NOW)
    first.leases.release()
    assert store.lease_holder(f"intake:{source.name}", NOW + timedelta(seconds=1)) is None
    source.add(make_message())
    assert worker(db(), source, B).tick(NOW + timedelta(seconds=1)).intake.processed == 1


@pytest.fixture
def sla_desks(pg_url):
    config = copy.deepcopy(CONFIG)
    config["sla"] = SLA
    desks = [Desk(SqlStore.open(pg_url), config), Desk(SqlStore.open(pg_url), config)]
    for desk in desks:
        desk.now = WED_8AM
    yield desks
    for desk in desks:
        desk.store.close()


@pytest.mark.postgres
def test_two_workers_sweeping_at_once_send_each_sla_warning_once(sla_desks):
    one, two = sla_desks
    one.receive(make_message(sender="bob@globex.example", subject="Outage of the API"), after=timedelta(0))
    [ticket] = one.store.list_tickets()
    at = WED_8AM + timedelta(hours=1)  # 50 % of the first response's 2 h: a warning is due
    runs = []
    second = worker(two.store, two.source, B, [Job("SLA sweep", 60, lambda now: runs.append("two") or
                                                     two.intake.desk.sla.sweep(now))])

    def sweep_in_one(now):
        runs.append("one")
        second.tick(now)  # the other worker's pass comes while this one's sweep runs
        one.intake.desk.sla.sweep(now)

    first = worker(one.store, one.source, A, [Job("SLA sweep", 60, sweep_in_one)])
    first.tick(at)
    assert runs == ["one"]  # the other skipped the job running here

    def warnings():
        return [m for m in one.store.outbox() if m.purpose == "sla"]

    assert [unsigned(m.message_id).split("@")[0] for m in warnings()] == [f"wg.sla.{ticket.id}.first_response.warning-50"]
    second.tick(at + timedelta(seconds=1))  # an operator's run --once: runs it, finds it sent
    assert runs == ["one", "two"] and len(warnings()) == 1


def test_a_periodic_job_runs_once_per_due_time_across_workers_whose_timetables_differ(db):
    runs = []
    workers = [worker(db(), FakeSource(), name, [Job("surveys", 900, lambda now, n=name: runs.append((n, now)))])
               for name in (A, B)]
    for w in workers:
        w._scheduled = True  # as inside run_forever: the timetable found the job due
    workers[0].tick(NOW)
    workers[1].tick(NOW + timedelta(minutes=4))  # its own timetable: due, but it ran 4 min ago elsewhere
    workers[0].tick(NOW + timedelta(minutes=15))
    workers[1].tick(NOW + timedelta(minutes=19))
    workers[1].tick(NOW + timedelta(minutes=34))  # the first one died: the second takes the job on
    assert runs == [(A, NOW), (A, NOW + timedelta(minutes=15)), (B, NOW + timedelta(minutes=34))]


@pytest.mark.postgres
def test_a_mail_two_workers_queue_at_the_same_moment_is_queued_once_and_the_second_is_told_so(pg_url):
    one, two = SqlStore.open(pg_url), SqlStore.open(pg_url)
    support = Support("support@northwind.example", "Northwind Support")
    draft = Draft(purpose="sla", token="sla.7.first_response.warning-50", subject="Ticket WG-7: 50 % of its time",
                  to=(Address("", "priya@northwind.example"),), body=("Due soon.\n", "<p>Due soon.</p>"))
    results = {}
    try:
        with one.transaction():
            assert Outbox(one, support).queue(draft, NOW) is not None
            twin = threading.Thread(target=lambda: results.update(two=_queue(two, support, draft)))
            twin.start()
            _wait_for_a_lock_wait(one)  # the twin's insert waits on ours
        twin.join(timeout=10)
        assert not twin.is_alive()
        assert results == {"two": None}  # "queued before", not an error
        assert len(one.outbox()) == 1
    finally:
        one.close()
        two.close()


def _queue(store, support, draft):
    try:
        with store.transaction():
            return Outbox(store, support).queue(draft, NOW)
    except Exception as exc:  # noqa: BLE001 - the test reports it
        return exc


def _wait_for_a_lock_wait(store, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # pg_locks, not pg_stat_activity: that one is a snapshot taken once per transaction
        waiting = store.db.execute_sql("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]
        if waiting:
            return
        time.sleep(0.01)
    raise AssertionError("the second insert never waited for the first")


NOTICE = """Closed Won.

Account: {account}
Domains: {domain}
Contract ID: SOW-{contract}
Close Date: 2026-11-17
Package: Enterprise
Timezone: America/New_York
Sales Rep: {rep} <{rep_email}>
Engineer: Priya Raman <priya@northwind.example>
Contact: Jane Doe <jane@{domain}>; role=project lead
Contact: Marcus Lee <marcus@{domain}>; role=IT
"""


@pytest.mark.postgres
@pytest.mark.parametrize("second_rep, locked", [("Rita Moreno", True), ("Sam Carter", True), ("Rita Moreno", False)],
                         ids=["another sales rep", "the same sales rep", "without the lock per engineer"])
def test_two_workers_planning_engagements_of_one_engineer_at_the_same_moment_never_book_her_twice(
        pg_url, second_rep, locked, caplog):
    """The second planner reads her meetings while the first has not committed its own: without the
    lock per engineer both take the same first free hours. (With the same sales rep on both notices,
    the second worker used to fail adding him as a contact, and its notice was quarantined.) Without
    the lock, the database's constraint (schema 16) refuses the later planner's first meeting; it
    plans again around the other's, and both engagements are planned in full."""
    caplog.set_level(logging.INFO, logger="ticketing.services.onboarding")
    desks = [Desk(SqlStore.open(pg_url), CONFIG), Desk(SqlStore.open(pg_url), CONFIG)]
    desks[1].source = FakeSource("another mailbox")  # one mailbox's lock would serialise them anyway
    if not locked:
        for desk in desks:
            desk.store.lock_engineer = lambda engineer: None
    first_read, second_read = threading.Event(), threading.Event()

    def reading(store, mine: threading.Event, then_wait: threading.Event | None):
        busy = store.busy

        def read(*args, **kwargs):
            found = busy(*args, **kwargs)
            mine.set()
            if then_wait is not None:
                then_wait.wait(1.5)  # give the other planner its chance to read before we commit
            return found
        store.busy = read

    reading(desks[0].store, first_read, second_read)
    reading(desks[1].store, second_read, None)

    def start(desk, n, account, rep):
        desk.receive(make_message(sender="CRM <crm@northwind.example>", subject=f"Closed Won: {account}",
                                  message_id=f"<n{n}@crm>",
                                  body=NOTICE.format(account=account, domain=f"{account.lower()}.example",
                                                     contract=7780 + n, rep=rep, rep_email=rep.split()[0].lower()
                                                     + "@northwind.example")))

    try:
        first = threading.Thread(target=start, args=(desks[0], 1, "Acme", "Sam Carter"))
        first.start()
        assert first_read.wait(10)
        start(desks[1], 2, "Initech", second_rep)
        first.join(timeout=10)
        assert not first.is_alive()
        engagements = desks[0].store.engagements()
        assert len(engagements) == 2
        booked = [(m.start, m.end, e.account) for e in engagements for m in desks[0].store.meetings(e.id)
                  if m.start is not None and m.status.value == "planned"]
        assert {account for _, _, account in booked} == {"Acme", "Initech"}
        clashes = [(a, b) for a in booked for b in booked
                   if a[2] < b[2] and a[0] < b[1] and b[0] < a[1]]
        assert clashes == []
        planned = [sum(1 for m in desks[0].store.meetings(e.id) if m.status.value == "planned") for e in engagements]
        assert planned[0] == planned[1] > 0  # the one planned again lost none of its meetings
        assert desks[0].store.list_quarantine() == []
        replanned = [r for r in caplog.records if "planning again" in r.getMessage()]
        assert bool(replanned) is not locked  # the lock spares the retry; without it the constraint forces one
    finally:
        for desk in desks:
            desk.store.close()
