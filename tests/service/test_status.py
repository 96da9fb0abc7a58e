"""``whiteglove status`` for monitoring: exit 0 healthy, 1 degraded, 2 down, and its --json fields,
against a real running worker, a worker whose mailbox is refused, and a worker that is gone."""
import json
import random
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
from support.fakes import FakeSource

from mailer.errors import MailboxConnectError
from ticketing.app.bootstrap import build_app
from ticketing.app.cli import main
from ticketing.app.worker import Backoff, Worker
from ticketing.config import load_config

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)  # Friday 09:00 in Los Angeles


@pytest.fixture
def example(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text((ROOT / "config.example.toml").read_text().replace("poll_seconds = 60", "poll_seconds = 1"))
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return config


def status(capsys, config, health=None):
    argv = ["status", "--json", "--config", str(config)] + (["--health-file", str(health)] if health else [])
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def wait_until(predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def test_a_running_healthy_worker_is_0_and_once_stopped_it_is_2(capsys, example, tmp_path):
    health = tmp_path / "health.json"
    script = Path(sys.executable).parent / "whiteglove"
    proc = subprocess.Popen([str(script), "run", "--config", str(example), "--health-file", str(health)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def healthy():
            if not health.exists():
                return None
            code, data = status(capsys, example, health)
            return (code, data) if data["worker"]["state"] == "running" and data["last_poll_ok"] else None
        try:
            code, data = wait_until(healthy)
        except AssertionError:
            proc.kill()
            raise AssertionError(f"no healthy status after 20 s; the worker said:\n{proc.communicate()[1]}") from None
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0 and data["status"] == "healthy" and data["problems"] == []
    assert data["worker"]["pid"] == proc.pid
    assert data["connections"]["mailbox"]["state"] == "works"
    assert data["outbox"] == {"queued": 0, "failed": 0} and data["quarantined"] == 0
    assert data["last_send"] is not None  # the example's acknowledgements and notifications went out
    assert data["next_sla_sweep"] is not None and data["next_weekly_summary"] is not None

    code, data = status(capsys, example, health)
    assert code == 2 and data["status"] == "down" and data["worker"]["state"] == "stopped"
    assert data["problems"] == [f"the worker is not running: {data['worker']['detail']}"]


class RefusedSource(FakeSource):
    """A mailbox whose server refuses every connection, as a stopped IMAP server on loopback does."""

    def list_new(self, cursor):
        raise MailboxConnectError("127.0.0.1:1: connection refused")


def test_a_worker_whose_mailbox_is_refused_is_1_and_2_once_it_has_failed_past_the_alert_time(capsys, example, tmp_path):
    health = tmp_path / "health.json"
    seen = {}
    with freeze_time(NOW) as frozen:
        app = build_app(load_config(example))

        class Pauses(threading.Event):
            def wait(self, timeout=None):  # the backoff pause: the clock moves, nobody sleeps
                frozen.tick(timedelta(seconds=timeout))
                minutes = (datetime.now(timezone.utc) - NOW) / timedelta(minutes=1)
                if minutes >= 10 and "early" not in seen:
                    seen["early"] = status(capsys, example, health)
                if minutes >= 35:
                    seen["late"] = status(capsys, example, health)
                    self.set()
                return self.is_set()

        worker = Worker(app.intake, RefusedSource(), poll_seconds=60, stop=Pauses(), health=app.health(),
                        backoff=Backoff(initial=60, maximum=300, rng=random.Random(7)), health_file=health)
        try:
            worker.run_forever()
        finally:
            app.close()
    code, data = seen["early"]
    assert code == 1 and data["status"] == "degraded"
    assert data["worker"]["state"] == "retrying"
    assert data["connections"]["mailbox"]["state"] == "failing"
    assert data["connections"]["mailbox"]["last_error"] == "127.0.0.1:1: connection refused"
    assert data["connections"]["mailbox"]["failing_since"] == NOW.isoformat()
    assert "the mailbox fails since 2026-11-20 17:00 UTC: 127.0.0.1:1: connection refused" in data["problems"]
    code, data = seen["late"]
    assert code == 2 and data["status"] == "down"  # past the 30 minutes of support.connection_alert_minutes
    assert data["worker"]["state"] == "retrying"  # alive: down because the mailbox is
    assert data["connections"]["mailbox"]["managers_told_at"] is not None


def test_a_worker_that_died_or_never_wrote_its_heartbeat_is_2(capsys, example, tmp_path):
    health = tmp_path / "health.json"
    left = tmp_path / "left-behind.json"
    with freeze_time(NOW) as frozen:
        app = build_app(load_config(example))
        source = FakeSource()

        def wait(timeout, stop):
            shutil.copy(health, left)  # what a worker killed now (kill -9, a crash) leaves behind
            stop.set()

        source.wait = wait
        try:
            Worker(app.intake, source, poll_seconds=60, health_file=health).run_forever()
        finally:
            app.close()
        shutil.copy(left, health)
        assert status(capsys, example, health)[0] == 0  # just written: running
        frozen.tick(timedelta(minutes=3))
        assert status(capsys, example, health)[0] == 0  # the pass it promised for 1 min is late, not yet given up
        frozen.tick(timedelta(minutes=1))
        code, data = status(capsys, example, health)
        assert code == 2 and data["worker"]["state"] == "stopped"
        assert data["worker"]["detail"].endswith("last wrote its heartbeat 4 min ago")

        code, data = status(capsys, example, tmp_path / "nothing-here.json")
        assert code == 2 and data["worker"]["detail"] == f"no heartbeat file at {tmp_path / 'nothing-here.json'}"

        code, data = status(capsys, example)  # no heartbeat file given: the worker is not judged
        assert code == 0 and data["worker"]["state"] == "unknown"


def test_status_counts_quarantined_and_failed_mail_as_degraded_and_prints_one_screen(capsys, example, tmp_path):
    from ticketing.store import SqlStore

    bad = tmp_path / "nobody.eml"
    bad.write_bytes(b"Subject: no sender here\r\nMessage-ID: <nobody@x.example>\r\n\r\nhello\r\n")
    with freeze_time(NOW):
        assert main(["run", "--once", "--config", str(example)]) == 0
        main(["ingest", str(bad), "--config", str(example)])
        store = SqlStore.open(load_config(example).database_url())
        try:
            store.db.execute_sql("UPDATE outbound_message SET status = 'failed' WHERE id IN (3, 4)")
        finally:
            store.close()
        capsys.readouterr()
        code = main(["status", "--config", str(example)])
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines()[:3] == [
        "status           DEGRADED",
        "                 - 2 outgoing message(s) failed (whiteglove outbox --failed)",
        "                 - 1 quarantined message(s) (whiteglove quarantine list)",
    ]
    assert "outbox           0 waiting, 2 failed" in out and "quarantined      1" in out
    assert "weekly summary   2026-11-23 16:00 UTC" in out  # Monday 08:00 in Los Angeles


def test_a_file_that_is_not_a_heartbeat_is_one_line(capsys, example, tmp_path):
    with freeze_time(NOW):
        main(["db", "upgrade", "--config", str(example)])
        capsys.readouterr()
        code = main(["status", "--config", str(example), "--health-file", str(example)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"cannot read the health file {example}" in err
