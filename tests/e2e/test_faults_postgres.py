"""PostgreSQL restarted under a running ``whiteglove run``: a private server (never the shared one on
5432), stopped (every session ended) while mail keeps arriving, then started again.

What the team relies on: the worker does not die; it says it is degraded (the heartbeat's state
and a log line) and keeps retrying; when the database is back it handles everything that arrived
meanwhile, once, and sends every mail once.
"""
from __future__ import annotations

import json

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
)

from ticketing.core.domain import OutboxStatus
from ticketing.store import SqlStore

pytestmark = [pytest.mark.dovecot, pytest.mark.postgres]

BEFORE, DURING = 10, 20


def test_postgresql_restarted_under_a_running_worker_it_survives_degraded_and_handles_everything_once(
        private_pg, dovecot, imap_account, smtp_server, tmp_path):
    address, password = imap_account
    config = mail_config(tmp_path / "config.toml", db_url=private_pg.url,
                         mailbox=imap_mailbox(dovecot.host, dovecot.imap_port, address, PASSWORD_ENV),
                         outgoing=smtp_outgoing(smtp_server.host, smtp_server.port))
    health = tmp_path / "health.json"
    worker = WorkerProcess(config, tmp_path / "worker.log", env={PASSWORD_ENV: password},
                           args=["--health-file", str(health)])

    def heartbeat() -> dict:
        try:
            return json.loads(health.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    try:
        worker.start()
        dovecot.deliver_many(address, [question(i) for i in range(BEFORE)])
        wait_until(lambda: len(smtp_server.received) == 2 * BEFORE, what="the first mail handled")

        private_pg.stop()  # every session ended, no new ones: the database is gone
        dovecot.deliver_many(address, [question(i) for i in range(BEFORE, BEFORE + DURING)])
        wait_until(lambda: heartbeat().get("state") == "retrying", what=f"the worker saying it is degraded\n{worker.tail()}")
        wait_until(lambda: worker.text().count("retrying in") >= 2, what="the worker retrying")
        worker.assert_alive()
        assert len(smtp_server.received) == 2 * BEFORE

        private_pg.start()
        store = SqlStore.open(private_pg.url, create=False)
        try:
            wait_until(lambda: store.outbox_counts()[OutboxStatus.SENT] == 2 * (BEFORE + DURING), timeout=60,
                       what=f"everything handled once the database is back\n{worker.tail()}")
            wait_until(lambda: heartbeat().get("state") == "running", what="the worker healthy again")
            worker.assert_alive()
            assert worker.starts == 1  # the same process throughout
            assert worker.stop() == 0, worker.tail()
            assert_each_question_once(store, smtp_server.received, BEFORE + DURING)
        finally:
            store.close()
    finally:
        worker.kill()
    print(worker.tail(60))
