"""SIGKILL while sending: a real worker process, a real (slow) SMTP server. The mail the killed
worker had claimed goes out as soon as the worker is started again, not ten minutes later, and
nothing arrives twice but the one message the kill caught between the server's yes and the commit."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter

from support.workers import WORKER, mail_config, wait_until, write_maildir_questions

from mailer import parse_message
from ticketing.store import SqlStore


def test_mail_a_killed_worker_had_claimed_goes_out_at_its_restart_once(tmp_path, db_url, smtp_server_factory):
    server = smtp_server_factory()
    server.data_delay = 0.15
    write_maildir_questions(tmp_path / "inbox", 0, 30)  # an acknowledgement and a notification each: 60 mails
    config = tmp_path / "config.toml"
    mail_config(config, db_url=db_url,
                mailbox=f'backend = "maildir"\npath = "{tmp_path / "inbox"}"\npoll_seconds = 3600\nstart_at = "2020-01-01"',
                outgoing=f'backend = "smtp"\nhost = "{server.host}"\nport = {server.port}\nsecurity = "none"')
    worker = subprocess.Popen([sys.executable, "-c", WORKER, "run", "--config", str(config)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(server.received) >= 5 or worker.poll() is not None, what="the worker sending")
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()  # reaped, as systemd or a container runtime would
    store = SqlStore.open(db_url)
    try:
        stranded = store.outbox(status="sending")
        assert stranded, "the kill found no claimed mail: nothing was tested"
        server.data_delay = 0.0
        started = time.monotonic()
        again = subprocess.run([sys.executable, "-c", WORKER, "run", "--once", "--config", str(config)],
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert time.monotonic() - started < 60  # seconds, not the ten minutes it was
        mails = store.outbox()
        assert {m.status.value for m in mails} == {"sent"} and len(mails) == 60
        assert "no longer running, go again now" in again.stderr
    finally:
        store.close()
    arrived = Counter(parse_message(r.content).message_id for r in server.received)
    assert set(arrived) == {m.message_id for m in mails}
    assert sum(arrived.values()) - len(arrived) <= 1  # the one a kill may catch after the server's yes
