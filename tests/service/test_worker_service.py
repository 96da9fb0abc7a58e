"""The worker run as a service: the idle line, the heartbeat file, and SIGHUP to a real process.

The loop is driven without threads: the source's wait moves a frozen clock (as in test_worker.py)."""
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from freezegun import freeze_time
from support.app import plain_intake
from support.fakes import FakeSource
from support.mail import make_message

from ticketing.app.worker import Job, Worker

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 18, 17, 0, tzinfo=timezone.utc)


def wait_until(predicate, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def test_an_idle_worker_says_so_every_five_minutes_counting_from_the_last_message(store, caplog):
    caplog.set_level(logging.INFO, logger="ticketing.app.worker")
    with freeze_time(NOW) as frozen:
        source = FakeSource()
        waits = []

        def wait(timeout, stop):
            waits.append(timeout)
            frozen.tick(timedelta(seconds=timeout))
            if len(waits) == 7:
                source.add(make_message(), received_at=NOW + timedelta(minutes=7))  # answered: after the start
            if len(waits) == 20:
                stop.set()

        source.wait = wait
        worker = Worker(plain_intake(store, lambda: NOW), source, poll_seconds=60, heartbeat_seconds=300)
        worker.run_forever()
    idle = [(round((r.created - NOW.timestamp()) / 60), r.getMessage()) for r in caplog.records
            if r.getMessage().startswith("idle")]
    assert idle == [
        (5, "idle: watching fake, no message since the start, outbox 0 queued"),
        (12, "idle: watching fake, last message 5 min ago, outbox 1 queued"),  # its acknowledgement: this worker sends nothing
        (17, "idle: watching fake, last message 10 min ago, outbox 1 queued"),
    ]


def test_the_heartbeat_file_is_replaced_after_every_pass_and_says_stopped_at_the_end(store, tmp_path):
    health = tmp_path / "run" / "whiteglove.health"
    health.parent.mkdir()
    seen = []
    with freeze_time(NOW) as frozen:
        source = FakeSource()

        def wait(timeout, stop):
            seen.append(json.loads(health.read_text()))
            frozen.tick(timedelta(seconds=timeout))
            if len(seen) == 2:
                stop.set()

        source.wait = wait
        worker = Worker(plain_intake(store, lambda: NOW), source, poll_seconds=60, health_file=health,
                        jobs=[Job("SLA sweep", 60, lambda now: None)])
        worker.run_forever()
    first, second = seen
    assert first["pid"] == os.getpid() and first["state"] == "running" and first["mailbox"] == "fake"
    assert first["time"] == NOW.isoformat() and first["last_poll_ok"] == NOW.isoformat()
    assert first["next_pass_by"] == (NOW + timedelta(seconds=60)).isoformat()
    assert first["jobs"]["SLA sweep"] == {"every": 60, "last_run": NOW.isoformat()}
    assert second["time"] == (NOW + timedelta(minutes=1)).isoformat()
    final = json.loads(health.read_text())
    assert final["state"] == "stopped" and final["time"] == (NOW + timedelta(minutes=2)).isoformat()
    assert [p.name for p in health.parent.iterdir()] == ["whiteglove.health"]  # no temporary file left behind


def test_sighup_stops_the_running_worker_cleanly_and_says_why(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    config = tmp_path / "config.toml"
    config.write_text((ROOT / "config.example.toml").read_text().replace("poll_seconds = 60", "poll_seconds = 1"))
    health = tmp_path / "health.json"
    script = Path(sys.executable).parent / "whiteglove"
    proc = subprocess.Popen([str(script), "run", "--config", str(config), "--health-file", str(health)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def running():
            try:
                return json.loads(health.read_text())["state"] == "running"
            except (FileNotFoundError, ValueError):
                return False
        try:
            wait_until(running)
        except AssertionError:
            proc.kill()
            raise AssertionError(f"no heartbeat after 20 s; the worker said:\n{proc.communicate()[1]}") from None
        proc.send_signal(signal.SIGHUP)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = err.splitlines()
    assert any(line.endswith("SIGHUP: stopping; the service manager restarts whiteglove with the new configuration")
               for line in lines), err
    assert lines[-1].endswith("worker stopped") and "Traceback" not in err
    assert json.loads(health.read_text())["state"] == "stopped"


def test_a_health_file_in_a_missing_folder_is_one_line_before_anything_starts(tmp_path, capsys):
    from ticketing.app.cli import main

    shutil.copy(ROOT / "config.example.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    code = main(["run", "--config", str(tmp_path / "config.toml"), "--health-file", str(tmp_path / "no" / "h.json")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"no folder {tmp_path / 'no'} for the health file (fix:" in err
    assert not (tmp_path / "whiteglove.db").exists()  # nothing started
