"""Several workers on one database: who takes a mailbox's intake, and who runs a periodic job.

Any number of ``whiteglove run`` processes may share one PostgreSQL database. Each mailbox's intake
is a lease (``[mailbox] lease_seconds``, 20 by default) that one worker holds and renews on every
pass and before every batch; the others skip intake (and say so once, then at DEBUG) until it runs
out. On a shared database every worker passes at least every third of the lease, so a live holder
never lets it lapse and a worker that dies is replaced within 30 s (the lease, then a standby's next
pass), and on the next pass when it died on this host (:func:`~ticketing.app.claims.claim_is_dead`). Intake's row lock on the mailbox stays underneath:
even two holders at once (a pass longer than the lease on a stalled host) never handle a message
twice.

A periodic job runs once per due time across workers: the first worker whose timetable finds it
due records the run (:meth:`~ticketing.store.leases.LeasesMixin.claim_run`), and the others, finding
that it ran less than an interval ago, skip it. ``run --once`` runs every job, as the operator
asked, but never beside the same job running in another worker (PostgreSQL's advisory lock per job).
The mail a job queues takes its Message-ID from its cause, so even a twin that ran anyway sends
nothing twice.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Callable, Iterator

from ticketing.store import SqlStore

log = logging.getLogger(__name__)

#: A job's due time allows this much of its interval early: timetables of two workers drift.
_SLACK = 0.1


class Leases:
    """The leases of one worker (``holder``: its :func:`~ticketing.app.claims.worker_name`)."""

    def __init__(self, store: SqlStore, holder: str, seconds: float = 20.0,
                 is_dead: Callable[[str], bool] | None = None, shared: bool = True):
        self.store = store
        self.holder = holder
        self.seconds = seconds
        self.is_dead = is_dead
        #: Whether other workers may share the database (PostgreSQL): then the worker passes at least
        #: every :attr:`renew_seconds`, renewing its lease (holder) or looking whether it lapsed (standby).
        self.shared = shared
        self._held: set[str] = set()
        self._said: set[str] = set()  # mailboxes whose "held by another worker" was logged at INFO

    @property
    def renew_seconds(self) -> float | None:
        """The longest wait between passes: a third of the lease where workers may share the database."""
        return self.seconds / 3 if self.shared else None

    def intake(self, mailbox: str, now: datetime) -> bool:
        """Take or renew the intake lease of ``mailbox``; whether this worker is to do its intake."""
        name = f"intake:{mailbox}"
        other = self.store.hold_lease(name, self.holder, now, self.seconds, self.is_dead)
        if other is None:
            if name not in self._held and name in self._said:
                log.info("intake of %s: taken over from the worker that held it", mailbox)
            self._held.add(name)
            return True
        self._held.discard(name)
        level = logging.DEBUG if name in self._said else logging.INFO
        self._said.add(name)
        log.log(level, "intake of %s: another worker has it (%s); this one sends, runs jobs and stands by",
                mailbox, other)
        return False

    def release(self) -> None:
        """Give back every intake lease this worker holds (it stops cleanly: another takes over at once)."""
        for name in sorted(self._held):
            try:
                self.store.release_lease(name, self.holder)
            except Exception:  # noqa: BLE001 - it runs out by itself; stopping must not fail for it
                log.warning("could not give back the lease %s; it runs out in %.0f s", name, self.seconds)
        self._held.clear()

    @contextmanager
    def job(self, name: str, every: float, now: datetime, scheduled: bool) -> Iterator[bool]:
        """Whether this worker is to run the job ``name`` now; while the block runs, no other worker
        runs it. ``scheduled``: the worker's timetable found it due (``run_forever``), so it runs only
        if no worker ran it within ``every`` seconds; otherwise (``run --once``) it runs unless it
        runs elsewhere at this moment."""
        if not self.store.try_job_lock(name):
            log.debug("job %s runs in another worker now: skipped", name)
            yield False
            return
        try:
            if scheduled and every > 0:
                since = now - timedelta(seconds=every * (1 - _SLACK))
                if not self.store.claim_run(f"job:{name}", self.holder, now, since):
                    log.debug("job %s ran in another worker less than %.0f s ago: skipped", name, every)
                    yield False
                    return
            yield True
        finally:
            try:
                self.store.job_unlock(name)
            except Exception:  # noqa: BLE001 - a lost connection dropped the lock with it
                log.debug("could not unlock job %s", name, exc_info=True)
