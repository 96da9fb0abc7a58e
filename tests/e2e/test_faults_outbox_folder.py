"""The outbox folder (``[outgoing] backend = "directory"``) not writable under a running worker.

The test runs as root, whom a folder's mode does not stop: the worker runs without root's power to
override file modes (its capabilities CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER dropped),
so a folder of mode 555 is read-only for it, as for a service account.

What the team relies on: the mail stays queued (nothing marked sent, nothing failed, no attempt
counted against a message: it is not the message's fault); the log says in one line what is wrong
and how to fix it, and so does ``whiteglove status``; once the folder is writable, every mail is
written, once.
"""
from __future__ import annotations

import re

import pytest
from support.workers import (
    PASSWORD_ENV,
    WorkerProcess,
    imap_mailbox,
    mail_config,
    question,
    wait_until,
    worker_status,
)

from mailer import parse_message
from ticketing.core.domain import OutboxStatus
from ticketing.store import SqlStore

pytestmark = pytest.mark.dovecot

BEFORE, DURING = 5, 10


def test_a_read_only_outbox_folder_keeps_the_mail_queued_says_why_once_and_it_goes_when_writable(
        dovecot, imap_account, tmp_path):
    address, password = imap_account
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    db_url = f"sqlite:///{tmp_path / 'wg.db'}"
    config = mail_config(tmp_path / "config.toml", db_url=db_url,
                         mailbox=imap_mailbox(dovecot.host, dovecot.imap_port, address, PASSWORD_ENV),
                         outgoing=f'backend = "directory"\npath = "{outbox}"\nretry_seconds = 1\nmax_attempts = 2')
    health = tmp_path / "health.json"
    worker = WorkerProcess(config, tmp_path / "worker.log", env={PASSWORD_ENV: password},
                           args=["--health-file", str(health)], obey_file_modes=True)
    store = SqlStore.open(db_url)

    def status() -> dict:
        return worker_status(config, health)

    try:
        worker.start()
        dovecot.deliver_many(address, [question(i) for i in range(BEFORE)])
        wait_until(lambda: len(list(outbox.glob("*.eml"))) == 2 * BEFORE or not worker.running,
                   what="the first mail written")
        worker.assert_alive()
        outbox.chmod(0o555)  # read-only, for the worker, from now on
        dovecot.deliver_many(address, [question(i) for i in range(BEFORE, BEFORE + DURING)])
        wait_until(lambda: store.count_messages() == BEFORE + DURING, what="intake going on")
        wait_until(lambda: worker.text().count("outbox folder") >= 3, what=f"three passes\n{worker.tail()}")
        counts = store.outbox_counts()
        assert counts[OutboxStatus.SENT] == 2 * BEFORE and counts[OutboxStatus.FAILED] == 0, worker.tail()
        waiting = [m for m in store.outbox() if m.status != OutboxStatus.SENT]
        assert len(waiting) == 2 * DURING and {m.attempts for m in waiting} == {0}  # not the messages' fault
        assert len(list(outbox.glob("*.eml"))) == 2 * BEFORE
        said = [line for line in worker.text().splitlines() if "outbox folder" in line]
        assert f"cannot write in the outbox folder {outbox}" in said[0] and "fix:" in said[0], said[0]
        assert "Traceback" not in worker.text()
        # the same line each pass (but for when the mail goes next), not one per mail
        assert len({re.sub(r" until \S+$", "", line.split(" ", 2)[2]) for line in said}) <= 2, said
        problem = wait_until(lambda: (s := status())["connections"].get("outgoing", {}).get("state") == "failing" and s,
                             what="status saying the outbox fails")
        assert "outbox folder" in problem["connections"]["outgoing"]["last_error"]
        assert problem["outbox"]["failed"] == 0

        outbox.chmod(0o755)
        wait_until(lambda: store.outbox_counts()[OutboxStatus.SENT] == 2 * (BEFORE + DURING), timeout=30,
                   what=f"the mail written once the folder is writable\n{worker.tail()}")
        assert worker.stop() == 0, worker.tail()
        mails = store.outbox()
    finally:
        worker.kill()
        store.close()
    written = sorted(parse_message(f.read_bytes()).message_id for f in outbox.glob("*.eml"))
    assert written == sorted(m.message_id for m in mails)  # each once
    assert {m.status for m in mails} == {OutboxStatus.SENT}
