"""The IMAP server (a real Dovecot of the test's own) restarted while a real ``whiteglove run`` is in
the middle of draining the mailbox: the worker keeps running, says it is retrying, reconnects when
the server is back, and handles the rest; every message once, every mail once."""
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
)

from ticketing.core.domain import OutboxStatus
from ticketing.store import SqlStore

pytestmark = pytest.mark.dovecot

COUNT = 300
ADDRESS, PASSWORD = "support@example.test", "s3cret-imap"


def test_dovecot_restarted_mid_batch_the_worker_reconnects_and_handles_the_rest_once(
        private_dovecot, smtp_server, tmp_path):
    dovecot = private_dovecot
    dovecot.add_user(ADDRESS, PASSWORD)
    dovecot.deliver_many(ADDRESS, [question(i) for i in range(COUNT)])
    db_url = f"sqlite:///{tmp_path / 'wg.db'}"
    config = mail_config(tmp_path / "config.toml", db_url=db_url,
                         mailbox=imap_mailbox(dovecot.host, dovecot.imap_port, ADDRESS, PASSWORD_ENV, batch_size=20)
                         + '\nprocessed_folder = "Processed"',
                         outgoing=smtp_outgoing(smtp_server.host, smtp_server.port))
    worker = WorkerProcess(config, tmp_path / "worker.log", env={PASSWORD_ENV: PASSWORD})
    store = SqlStore.open(db_url)
    try:
        worker.start()
        wait_until(lambda: store.count_messages() >= 40, what="the first batches")
        worker.pause()  # frozen in the middle of its pass, its IMAP connection open
        down_at = store.count_messages()
        assert down_at < COUNT, "the worker drained the mailbox before the restart: nothing was tested"
        dovecot.stop()  # every connection gone, as when the server restarts
        worker.resume()
        wait_until(lambda: worker.said("retrying in"), what="the worker noticing the server is gone")
        dovecot.start(same_ports=True)

        def drained() -> bool:
            counts = store.outbox_counts()
            return (store.count_messages() == COUNT and counts[OutboxStatus.QUEUED] == 0
                    and counts[OutboxStatus.SENDING] == 0)

        wait_until(drained, timeout=90, what=f"the rest handled after the restart\n{worker.tail()}")
        worker.assert_alive()  # the same process throughout: it was never restarted
        assert worker.starts == 1
        assert_each_question_once(store, smtp_server.received, COUNT)
        with dovecot.client(ADDRESS) as client:
            assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
            assert client.select_folder("Processed", readonly=True)[b"EXISTS"] == COUNT
        assert worker.stop() == 0, worker.tail()
    finally:
        worker.kill()
        store.close()
    assert worker.traceback_free(), worker.tail()
    print(f"restarted after {down_at} of {COUNT} messages")
