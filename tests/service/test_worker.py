"""The worker loop: ticks, backoff after a dropped server, a clean stop."""
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from support.app import plain_intake
from support.fakes import FakeSource
from support.mail import make_message

from mailer.errors import MailboxAuthError, MailboxConnectError
from ticketing.app.worker import Backoff, Worker

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 18, 17, 0, tzinfo=timezone.utc)


def wait_until(predicate, timeout=20.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


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


def test_the_worker_reconnects_after_a_dropped_server_and_then_takes_the_mail(store):
    source = FlakySource(failures=2)
    source.add(make_message())
    worker = Worker(plain_intake(store, lambda: NOW), source, poll_seconds=0.05, backoff=Backoff(initial=0.01, maximum=0.05))
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    try:
        wait_until(lambda: source.processed == ["00000001"])
    finally:
        worker.stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert source.failures == 0 and source.closed >= 2  # each failure dropped the connection
    assert len(store.list_tickets()) == 1


def test_a_refused_login_at_start_stops_the_worker_with_the_error(store):
    source = FlakySource(failures=1, error=MailboxAuthError("imap.example.com refused the login of support@example.com"))
    worker = Worker(plain_intake(store, lambda: NOW), source, poll_seconds=0.05)
    with pytest.raises(MailboxAuthError):
        worker.run_forever()


def test_a_stop_request_ends_the_loop_promptly_even_in_a_long_wait(store):
    waiting = threading.Event()

    class WaitingSource(FakeSource):
        def wait(self, timeout, stop):
            waiting.set()
            super().wait(timeout, stop)

    worker = Worker(plain_intake(store, lambda: NOW), WaitingSource(), poll_seconds=3600)
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    assert waiting.wait(10)
    started = time.monotonic()
    worker.stop.set()
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - started < 5


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
    from ticketing.app.worker import Job

    ran: list[str] = []

    def sweep(now):
        ran.append("sweep")

    def broken(now):
        ran.append("broken")
        raise RuntimeError("the summary query failed")

    worker = Worker(plain_intake(store, lambda: NOW), FakeSource(), poll_seconds=3600,
                    jobs=[Job("sweep", 0.05, sweep), Job("broken", 0.05, broken)])
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    try:
        # both keep running, each several times, though one fails every time and the mailbox is quiet
        wait_until(lambda: ran.count("sweep") >= 3 and ran.count("broken") >= 3)
    finally:
        worker.stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_run_once_runs_every_job_once(store):
    from ticketing.app.worker import Job

    ran = []
    worker = Worker(plain_intake(store, lambda: NOW), FakeSource(), poll_seconds=60, clock=lambda: NOW,
                    jobs=[Job("a", 60, lambda now: ran.append(("a", now))), Job("b", 60, lambda now: ran.append(("b", now)))])
    worker.tick()
    assert ran == [("a", NOW), ("b", NOW)]
