"""The worker: one pass (``tick(now)``) at a fixed time; the loop around it driven without threads
(its waits return at once, its clock moves only when they say so); one real SIGTERM to a real process."""
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from freezegun import freeze_time
from support.app import plain_intake
from support.fakes import FakeSource
from support.mail import make_message

from mailer.errors import MailboxAuthError, MailboxConnectError
from ticketing.app.worker import Backoff, Job, Worker

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 18, 17, 0, tzinfo=timezone.utc)


def wait_until(predicate, timeout=20.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


class RecordedPauses(threading.Event):
    """A stop event whose backoff pauses are recorded, not waited."""

    def __init__(self):
        super().__init__()
        self.pauses: list[float | None] = []

    def wait(self, timeout=None):
        self.pauses.append(timeout)
        return False


class FlakySource(FakeSource):
    """Refuses ``failures`` connections, then behaves."""

    def __init__(self, failures: int, error=MailboxConnectError("imap.example.com:993: connection refused")):
        super().__init__()
        self.failures = failures
        self.error = error
        self.closed = 0

    def list_new(self, cursor):
        if self.failures:
            self.failures -= 1
            raise self.error
        return super().list_new(cursor)

    def close(self):
        self.closed += 1


def test_backoff_grows_exponentially_with_jitter_up_to_a_ceiling():
    backoff = Backoff(initial=1, maximum=8)
    delays = [backoff.next_delay() for _ in range(6)]
    for delay, ceiling in zip(delays, [1, 2, 4, 8, 8, 8]):
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert backoff.next_delay() <= 1


def test_a_pass_on_a_dropped_server_reports_it_drops_the_connection_and_a_later_pass_takes_the_mail(store):
    source = FlakySource(failures=2)
    source.add(make_message())
    worker = Worker(plain_intake(store, lambda: NOW), source, poll_seconds=60)

    first, second, third = worker.tick(NOW), worker.tick(NOW), worker.tick(NOW)

    assert isinstance(first.error, MailboxConnectError) and isinstance(second.error, MailboxConnectError)
    assert source.closed == 2  # each failure dropped the connection, to be made again next time
    assert third.error is None and third.intake.processed == 1
    assert source.processed == ["00000001"] and len(store.list_tickets()) == 1


def test_a_failing_intake_pass_still_sends_the_outbox_and_runs_the_jobs(store):
    ran = []
    sent = []

    class Outbox:
        def send_due(self, now):
            from ticketing.services.outbox_sender import SendSummary

            sent.append(now)
            return SendSummary()

    worker = Worker(plain_intake(store, lambda: NOW), FlakySource(failures=1), poll_seconds=60, outbox=Outbox(),
                    jobs=[Job("sweep", 60, ran.append)])
    tick = worker.tick(NOW)
    assert isinstance(tick.error, MailboxConnectError)
    assert ran == [NOW] and sent == [NOW, NOW]  # before the jobs, and after them for what they queued


def test_the_worker_backs_off_after_a_dropped_server_and_carries_on(store):
    source = FlakySource(failures=2)
    source.add(make_message())
    stop = RecordedPauses()
    pauses = stop.pauses
    worker = Worker(plain_intake(store, lambda: NOW), source, poll_seconds=60, stop=stop,
                    backoff=Backoff(initial=1, maximum=8))
    source.wait = lambda timeout, stop_event: stop.set()  # the first quiet wait ends the loop
    worker.run_forever()
    assert len(pauses) == 2 and 0.5 <= pauses[0] <= 1 and 1 <= pauses[1] <= 2  # exponential, with jitter
    assert source.processed == ["00000001"] and worker.backoff.attempts == 0  # reset once healthy


def test_a_refused_login_at_start_stops_the_worker_with_the_error(store):
    source = FlakySource(failures=1, error=MailboxAuthError("imap.example.com refused the login of support@example.com"))
    worker = Worker(plain_intake(store, lambda: NOW), source, poll_seconds=0.05)
    with pytest.raises(MailboxAuthError):
        worker.run_forever()


def test_a_host_that_does_not_resolve_at_start_stops_the_worker_but_a_refused_connection_is_waited_for(store):
    hopeless = FlakySource(failures=1, error=MailboxConnectError("the host name imap.nowhere.invalid does not resolve",
                                                                 permanent=True))
    worker = Worker(plain_intake(store, lambda: NOW), hopeless, poll_seconds=0.05)
    with pytest.raises(MailboxConnectError, match="does not resolve"):
        worker.run_forever()

    stop = RecordedPauses()
    pauses = stop.pauses
    refused = FlakySource(failures=2)  # "connection refused": the server may be starting
    refused.add(make_message())
    worker = Worker(plain_intake(store, lambda: NOW), refused, poll_seconds=60, stop=stop,
                    backoff=Backoff(initial=1, maximum=8))
    refused.wait = lambda timeout, stop_event: stop.set()
    worker.run_forever()
    assert len(pauses) == 2 and refused.processed == ["00000001"]


def test_once_the_mailbox_was_reached_even_a_permanent_connect_error_is_retried(store):
    pauses = []

    class Stop(threading.Event):
        def wait(self, timeout=None):
            pauses.append(timeout)
            if len(pauses) == 2:
                self.set()
            return self.is_set()

    class LaterUnresolvable(FakeSource):
        calls = 0

        def list_new(self, cursor):
            self.calls += 1
            if self.calls > 1:  # the name server lost the record after start: keep trying, managers are told
                raise MailboxConnectError("the host name imap.example.com does not resolve", permanent=True)
            return super().list_new(cursor)

    stop = Stop()
    source = LaterUnresolvable()
    worker = Worker(plain_intake(store, lambda: NOW), source, poll_seconds=60, stop=stop,
                    backoff=Backoff(initial=1, maximum=8))
    source.wait = lambda timeout, stop_event: None
    worker.run_forever()
    assert len(pauses) == 2 and source.calls == 3


def test_a_stop_request_during_the_wait_ends_the_loop_without_another_pass(store):
    waits = []

    class StoppingSource(FakeSource):
        def wait(self, timeout, stop):
            waits.append(timeout)
            stop.set()  # as SIGTERM does while the worker waits

    worker = Worker(plain_intake(store, lambda: NOW), StoppingSource(), poll_seconds=3600)
    polls = []
    original = worker.intake.poll
    worker.intake.poll = lambda *a, **kw: polls.append(1) or original(*a, **kw)
    worker.run_forever()
    assert waits == [3600] and polls == [1]  # one pass, one wait given the stop event, no pass after it


def test_sigterm_stops_the_running_worker_cleanly(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    config = tmp_path / "config.toml"
    config.write_text((ROOT / "config.example.toml").read_text().replace("poll_seconds = 60", "poll_seconds = 1"))
    script = Path(sys.executable).parent / "whiteglove"
    proc = subprocess.Popen([str(script), "run", "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def tickets_made():
            result = subprocess.run([str(script), "tickets", "--json", "--config", str(config)], capture_output=True, text=True)
            return result.returncode == 0 and result.stdout.count('"id"') == 3
        try:
            wait_until(tickets_made)
        except AssertionError:
            proc.kill()
            raise AssertionError(f"no tickets after 20 s; the worker said:\n{proc.communicate()[1]}") from None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "worker stopped" in err
    assert "Traceback" not in err


def test_periodic_jobs_run_on_their_timetable_and_a_failing_one_never_stops_the_others(store):
    ran: list[str] = []

    def broken(now):
        ran.append("broken")
        raise RuntimeError("the summary query failed")

    with freeze_time(NOW) as frozen:  # the schedule package reads the wall clock; here it moves only in wait()
        waits = []

        class QuietSource(FakeSource):
            def wait(self, timeout, stop):
                waits.append(timeout)
                frozen.tick(timedelta(seconds=timeout))
                if len(waits) == 10:
                    stop.set()

        worker = Worker(plain_intake(store, lambda: NOW), QuietSource(), poll_seconds=3600,
                        jobs=[Job("sweep", 60, lambda now: ran.append("sweep")), Job("broken", 60, broken),
                              Job("every pass", 0, lambda now: ran.append("pass"))])
        worker.run_forever()
    # each ran at the start and then every 60 s: the worker woke when the next was due, not after an hour
    assert waits == [60] * 10
    assert ran.count("sweep") == ran.count("broken") == 10 and ran.count("pass") == 10


def test_run_once_runs_every_job_once(store):
    ran = []
    worker = Worker(plain_intake(store, lambda: NOW), FakeSource(), poll_seconds=60, clock=lambda: NOW,
                    jobs=[Job("a", 60, lambda now: ran.append(("a", now))), Job("b", 60, lambda now: ran.append(("b", now)))])
    worker.tick()
    assert ran == [("a", NOW), ("b", NOW)]


def test_a_busy_server_is_left_alone_as_long_as_it_asks(store):
    busy = MailboxConnectError("mail.contoso.com is busy; it asks to wait 90 s")
    busy.retry_after = 90.0
    source = FlakySource(failures=1, error=busy)
    stop = RecordedPauses()
    pauses = stop.pauses
    worker = Worker(plain_intake(store, lambda: NOW), source, poll_seconds=60, stop=stop,
                    backoff=Backoff(initial=1, maximum=8))
    source.wait = lambda timeout, stop_event: stop.set()
    worker.run_forever()
    assert pauses == [90.0]
