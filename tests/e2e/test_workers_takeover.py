"""Three real ``whiteglove run`` processes on one PostgreSQL database and one mailbox: one does the
intake, the others stand by; SIGKILL the one doing it, and another takes the mailbox (and the
outbox's work) over within seconds (the lease of a dead worker on this host is taken at once; on another host it runs out in
``lease_seconds``). Every message is handled once, every acknowledgement queued once."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from support.workers import WORKER, mail_config, wait_until, write_maildir_questions

from ticketing.store import SqlStore

STANDING_BY = "another worker has it"
TAKEN_OVER = "taken over from the worker that held it"


@pytest.mark.postgres
def test_three_workers_one_mailbox_the_holder_killed_another_takes_over_within_seconds(tmp_path, pg_url):
    inbox = tmp_path / "inbox"
    write_maildir_questions(inbox, 0, 10)
    config = tmp_path / "config.toml"
    mail_config(config, db_url=pg_url,
                mailbox=f'backend = "maildir"\npath = "{inbox}"\npoll_seconds = 1\nlease_seconds = 5\nstart_at = "2020-01-01"',
                outgoing=f'backend = "directory"\npath = "{tmp_path / "outbox"}"')
    store = SqlStore.open(pg_url)
    workers, logs = [], []

    def start(name: str) -> subprocess.Popen:
        log = tmp_path / f"{name}.log"
        logs.append(log)
        with open(log, "w") as err:
            workers.append(subprocess.Popen([sys.executable, "-c", WORKER, "run", "--config", str(config)],
                                            stdout=subprocess.DEVNULL, stderr=err, text=True))
        return workers[-1]

    def said(index: int, words: str) -> bool:
        return words in logs[index].read_text()

    try:
        holder = start("first")
        wait_until(lambda: len(store.list_tickets()) == 10, what="the first worker's intake")
        start("second"), start("third")
        wait_until(lambda: said(1, STANDING_BY) and said(2, STANDING_BY), what="the others standing by")
        write_maildir_questions(inbox, 10, 5)
        wait_until(lambda: len(store.list_tickets()) == 15, what="the holder's next pass")
        assert not said(1, TAKEN_OVER) and not said(2, TAKEN_OVER)

        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        killed = time.monotonic()
        write_maildir_questions(inbox, 15, 5)
        wait_until(lambda: len(store.list_tickets()) == 20, timeout=30, what="another worker taking over")
        took = time.monotonic() - killed
        assert took < 30
        wait_until(lambda: said(1, TAKEN_OVER) or said(2, TAKEN_OVER), what="the new holder saying so")
        # The outbox too: what the killed worker queued or had claimed is sent by the others.
        wait_until(lambda: {m.status for m in store.outbox()} == {"sent"}, what="the others sending everything")
        written = sorted((tmp_path / "outbox").glob("*.eml"))
        assert len(written) == len(store.outbox())  # each once
        assert [said(1, TAKEN_OVER), said(2, TAKEN_OVER)].count(True) == 1  # one took it, the other stands by
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=10)
        tickets = store.list_tickets()
        acks = [m for m in store.outbox() if m.purpose == "acknowledgement"]
        store.close()
    assert sorted(t.subject for t in tickets) == sorted(f"Question {n}" for n in range(20))  # each once
    assert len(acks) == 20 and len({m.recipients[0] for m in acks}) == 20
    print(f"taken over {took:.1f} s after the kill")
