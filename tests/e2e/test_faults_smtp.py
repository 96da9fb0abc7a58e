"""The SMTP server down for a while, then back, under a real ``whiteglove run`` process.

(tests/service/test_outbox.py covers the same promise for ``OutboxSender`` with a fake server and
a hand-driven clock; this drives the worker as an operator runs it, against a real aiosmtpd that
is stopped, so connections are refused, and started again on the same port.)

What the team relies on: while the server is down nothing is marked failed and no attempt is
counted against a message (``max_attempts = 2`` here: two counted attempts would fail them), the
worker keeps taking mail in, ``whiteglove status`` says what fails; once the server is back every
mail goes out, once.
"""
from __future__ import annotations

import pytest
from support.workers import (
    PASSWORD_ENV,
    WorkerProcess,
    assert_each_question_once,
    imap_mailbox,
    mail_config,
    question,
    smtp_outgoing,
    wait_until,
    worker_status,
)

from ticketing.core.domain import OutboxStatus
from ticketing.store import SqlStore

pytestmark = pytest.mark.dovecot

BEFORE, DURING = 10, 20


def test_smtp_down_for_a_while_fails_nothing_and_everything_goes_once_when_it_is_back(
        dovecot, imap_account, smtp_server, tmp_path):
    address, password = imap_account
    db_url = f"sqlite:///{tmp_path / 'wg.db'}"
    config = mail_config(tmp_path / "config.toml", db_url=db_url,
                         mailbox=imap_mailbox(dovecot.host, dovecot.imap_port, address, PASSWORD_ENV),
                         outgoing=smtp_outgoing(smtp_server.host, smtp_server.port, retry_seconds=1, max_attempts=2))
    health = tmp_path / "health.json"
    worker = WorkerProcess(config, tmp_path / "worker.log", env={PASSWORD_ENV: password},
                           args=["--health-file", str(health)])
    store = SqlStore.open(db_url)

    def status() -> dict:
        return worker_status(config, health)

    try:
        worker.start()
        dovecot.deliver_many(address, [question(i) for i in range(BEFORE)])
        wait_until(lambda: len(smtp_server.received) == 2 * BEFORE, what="the first mail sent")

        smtp_server.stop()  # connections refused from now on
        dovecot.deliver_many(address, [question(i) for i in range(BEFORE, BEFORE + DURING)])
        wait_until(lambda: store.count_messages() == BEFORE + DURING, what="intake going on without SMTP")
        wait_until(lambda: worker.text().count("cannot send: ") >= 3, what="three passes finding the server down")
        counts = store.outbox_counts()
        assert counts[OutboxStatus.FAILED] == 0 and counts[OutboxStatus.SENT] == 2 * BEFORE
        waiting = [m for m in store.outbox() if m.status != OutboxStatus.SENT]
        assert len(waiting) == 2 * DURING and {m.attempts for m in waiting} == {0}  # not the messages' fault
        said = wait_until(lambda: (s := status())["connections"].get("outgoing", {}).get("state") == "failing" and s,
                          what="status saying the outgoing server fails")
        assert "Connection refused" in said["connections"]["outgoing"]["last_error"]
        assert said["outbox"]["failed"] == 0 and said["outbox"]["queued"] == 2 * DURING

        smtp_server.start()  # back, on the same port
        wait_until(lambda: store.outbox_counts()[OutboxStatus.SENT] == 2 * (BEFORE + DURING), timeout=60,
                   what=f"the waiting mail sent once the server is back\n{worker.tail()}")
        worker.assert_alive()
        assert worker.stop() == 0, worker.tail()
        assert_each_question_once(store, smtp_server.received, BEFORE + DURING)
        assert store.outbox_counts()[OutboxStatus.FAILED] == 0
    finally:
        worker.kill()
        store.close()
    assert worker.traceback_free(), worker.tail()
