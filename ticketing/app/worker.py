"""The worker: one :meth:`Worker.tick` is one pass of everything; :meth:`Worker.run_forever` keeps going.

A pass is intake over the mailbox, the outbox (so what intake queued goes out at once), the
periodic jobs that are due, and the outbox again. ``run_forever`` is glue around it: the
``schedule`` package's timetable says which jobs are due; between passes the worker waits on the
mailbox (IMAP IDLE, or a poll interval), at most until the next job is due. A job that fails is
logged and runs again at its next time, and never stops the others. A dropped or unreachable
server is retried with exponential backoff and jitter. SIGTERM, SIGHUP or Ctrl-C sets a flag: the
batch in hand is finished and committed, then the loop ends; a second signal stops at once. (SIGHUP
stops rather than reloads: the service manager starts whiteglove again, with the new configuration
read the one way a start reads it.)

What an operator follows: a line per message handled (intake's), ``idle: ...`` every
``heartbeat_seconds`` while nothing happens, and with ``health_file`` the heartbeat file
(:mod:`ticketing.app.heartbeat`) replaced after every pass for ``whiteglove status``.
"""
from __future__ import annotations

import logging
import os
import random
import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Sequence

import schedule

from mailer import MailboxAuthError, MailboxConnectError, MailboxError, MailboxSource
from ticketing.app.clock import utcnow
from ticketing.app.heartbeat import ago, write_heartbeat
from ticketing.app.leases import Leases
from ticketing.core.domain import OutboxStatus
from ticketing.errors import StorageError
from ticketing.services.health import Health
from ticketing.services.intake import Intake, IntakeSummary
from ticketing.services.outbox_sender import OutboxSender, SendSummary

log = logging.getLogger(__name__)


@dataclass
class Backoff:
    """Exponential backoff with full jitter: delays grow from ``initial`` to ``maximum`` seconds."""

    initial: float = 1.0
    maximum: float = 300.0
    attempts: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * 2**self.attempts)
        self.attempts += 1
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.attempts = 0


@dataclass
class Tick:
    """What one pass did; ``error`` is why intake failed, if it did (the rest of the pass still ran)."""

    intake: IntakeSummary
    outbox: SendSummary | None = None
    error: Exception | None = None

    def __iter__(self):  # ``summary, sent = worker.tick(now)``
        return iter((self.intake, self.outbox))


@dataclass(frozen=True)
class Job:
    """A periodic job: ``action(now)`` every ``seconds`` (0: on every pass)."""

    name: str
    seconds: float
    action: Callable[[datetime], object]


#: While the mailbox is quiet, a pass still comes at least this often, so that retries fall due.
_OUTBOX_WAKE = 30.0


class Worker:
    def __init__(self, intake: Intake, source: MailboxSource, poll_seconds: float, stop: threading.Event | None = None,
                 backoff: Backoff | None = None, outbox: OutboxSender | None = None,
                 clock: Callable[[], datetime] = utcnow, jobs: Sequence[Job] = (), health: Health | None = None,
                 heartbeat_seconds: float = 300.0, health_file: Path | None = None, leases: Leases | None = None):
        self.intake = intake
        self.source = source
        self.poll_seconds = poll_seconds
        self.stop = stop or threading.Event()
        self.backoff = backoff or Backoff()
        self.outbox = outbox
        self.clock = clock
        self.jobs = tuple(jobs)
        #: Told after each pass what it saw of the mailbox and the outgoing server.
        self.health = health
        #: While nothing happens, an ``idle: ...`` line this often (0: never).
        self.heartbeat_seconds = heartbeat_seconds
        #: Replaced after every pass of :meth:`run_forever` (see :mod:`ticketing.app.heartbeat`).
        self.health_file = health_file
        #: With several workers on one database: who does the mailbox's intake and runs a job when.
        self.leases = leases
        self._scheduled = False  # inside run_forever: jobs run when the timetable says, once across workers
        self.last_poll_ok: datetime | None = None
        self.last_message: datetime | None = None
        self.last_send: datetime | None = None
        self._job_runs: dict[str, datetime] = {}
        self._said_at: datetime | None = None  # the last idle line, message or start
        self._beat_failed = False
        self._signals = 0
        self._signal: int | None = None

    # -- one pass ---------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None, jobs: Sequence[Job] | None = None) -> Tick:
        """One pass at ``now`` (default: the clock's): intake, the outbox, the periodic jobs (all of
        them, or only ``jobs``), then the outbox again for what the jobs queued. ``run --once`` is one
        tick.

        Nothing raises: a failing mailbox or intake is logged and returned in :attr:`Tick.error`
        (the mailbox connection is dropped, to be made again next time); a failing outbox pass or
        job is logged and tried again on a later pass. None of them stops the others.
        """
        now = now or self.clock()
        summary, error = IntakeSummary(), None
        try:
            if self._holds_intake(now):
                summary = self.intake.poll(self.source, stop=self.stop, now=now, keep=self._keep_intake)
            self.last_poll_ok = now
            if summary.processed or summary.quarantined:
                self.last_message = now
            if summary.processed or summary.duplicates or summary.quarantined:
                log.info("intake: %s", summary)
        except MailboxError as exc:
            self.source.close()
            error = exc
        except StorageError as exc:  # the database is down or restarting: one line, retried with backoff
            log.error("intake pass failed: %s", exc)
            error = exc
        except Exception as exc:  # a bug: logged with its traceback, and the rest of the pass goes on
            log.exception("intake pass failed")
            error = exc
        sent = self._send(now)
        due = self.jobs if jobs is None else tuple(jobs)
        for job in due:
            self._run_job(job, now)
        self._observe("mailbox", now, error=str(error) if isinstance(error, MailboxError) else None,
                      worked=error is None)
        if sent is not None:
            # What the jobs and the mailbox's health queued (alerts, warnings, summaries) goes out too.
            sent = sent + self._send(now)
            self._observe("outgoing", now, error=sent.error, worked=sent.sent > 0 and sent.error is None)
        return Tick(summary, sent, error)

    def _holds_intake(self, now: datetime) -> bool:
        return self.leases is None or self.leases.intake(self.source.name, now)

    def _keep_intake(self) -> bool:
        """Before each batch: renew the lease; False (stop the pass) when another worker took it."""
        return self._holds_intake(self.clock())

    def _observe(self, component: str, now: datetime, *, error: str | None, worked: bool) -> None:
        if self.health is None:
            return
        try:
            self.health.observe(component, now, error=error, worked=worked)
        except StorageError as exc:
            log.warning("could not record whether the %s works: %s", component, exc)
        except Exception:  # noqa: BLE001 - keeping the score must never stop the work
            log.exception("could not record whether the %s works", component)

    def _send(self, now: datetime) -> SendSummary | None:
        if self.outbox is None:
            return None
        try:
            sent = self.outbox.send_due(now)
        except StorageError as exc:  # the rows wait for the database
            log.error("outbox pass failed: %s", exc)
            return None
        except Exception:  # noqa: BLE001 - a database hiccup must not stop intake; the rows wait
            log.exception("outbox pass failed")
            return None
        if sent.sent:
            self.last_send = now
        if sent.sent or sent.retrying or sent.failed:
            log.info("outbox: %s", sent)
        return sent

    def _run_job(self, job: Job, now: datetime) -> None:
        try:
            if self.leases is None:
                self._job_runs[job.name] = now
                job.action(now)
                return
            with self.leases.job(job.name, job.seconds, now, self._scheduled) as mine:
                if mine:
                    self._job_runs[job.name] = now
                    job.action(now)
        except StorageError as exc:
            log.error("job %s failed: %s; it runs again at its next time", job.name, exc)
        except Exception:  # noqa: BLE001 - one job failing must not stop the others; it runs again next time
            log.exception("job %s failed; it runs again at its next time", job.name)

    # -- the loop ---------------------------------------------------------------------------------

    def run_forever(self) -> None:
        """Tick until stopped, waiting on the mailbox in between; every job runs on the first pass,
        then on its timetable. Raises :class:`MailboxAuthError` if the very first login fails, and
        :class:`MailboxConnectError` if the very first connection fails for good (a host name that
        does not resolve, a certificate that fails verification): waiting mends neither, so an
        operator hears of it at once. Once the mailbox has been reached, every failure is retried."""
        healthy = False
        self._said_at = self.clock()
        due = {job.name for job in self.jobs}  # all at start: a sweep or summary missed while stopped is not left for later
        scheduler = schedule.Scheduler()
        for job in self.jobs:
            if job.seconds > 0:
                scheduler.every(job.seconds).seconds.do(due.add, job.name)
        self._scheduled = True
        try:
            while not self.stop.is_set():
                scheduler.run_pending()
                tick = self.tick(self.clock(), [j for j in self.jobs if j.seconds <= 0 or j.name in due])
                due.clear()
                if tick.error is not None:
                    if not healthy and _hopeless(tick.error):
                        raise tick.error
                    self._pause(str(tick.error) if isinstance(tick.error, (MailboxError, StorageError))
                                else "intake pass failed",
                                at_least=getattr(tick.error, "retry_after", None) or 0.0)
                    continue
                healthy = True
                self.backoff.reset()
                self._say_idle(self.clock())
                self._wait(scheduler.idle_seconds)
        finally:
            self._scheduled = False
            self.source.close()
            if self.leases is not None:
                self.leases.release()
            self._beat("stopped", 0.0)
        if self._signal == getattr(signal, "SIGHUP", None):
            log.info("SIGHUP: stopping; the service manager restarts whiteglove with the new configuration")
        elif self._signal is not None:
            log.info("%s: stopping", signal.Signals(self._signal).name)
        log.info("worker stopped")

    def _wait(self, idle: float | None) -> None:
        wait = self.poll_seconds if idle is None else max(0.0, min(self.poll_seconds, idle))
        if self.outbox is not None:
            wait = min(wait, _OUTBOX_WAKE)
        if self.leases is not None and self.leases.renew_seconds:
            wait = min(wait, self.leases.renew_seconds)  # renew the intake lease, or see that it lapsed
        self._beat("running", wait)
        try:
            self.source.wait(wait, self.stop)
        except MailboxError as exc:
            self.source.close()
            self._pause(str(exc))

    def _pause(self, why: str, at_least: float = 0.0) -> None:
        """Back off before the next pass; at least as long as the server asked (a busy Exchange does)."""
        delay = max(self.backoff.next_delay(), at_least)
        log.warning("%s; retrying in %.0f s", why, delay)
        self._beat("retrying", delay, error=why)
        self.stop.wait(delay)

    # -- what an operator sees ----------------------------------------------------------------------

    def _say_idle(self, now: datetime) -> None:
        """Every ``heartbeat_seconds`` without a message: one line saying the worker is alive."""
        if not self.heartbeat_seconds or self._said_at is None:
            return
        if self.last_message is not None and self.last_message > self._said_at:
            self._said_at = self.last_message
        if now - self._said_at < timedelta(seconds=self.heartbeat_seconds):
            return
        self._said_at = now
        last = f"last message {ago(now - self.last_message)} ago" if self.last_message else "no message since the start"
        try:
            counts = self.intake.store.outbox_counts()
            outbox = f"outbox {counts[OutboxStatus.QUEUED]} queued" + (
                f", {counts[OutboxStatus.FAILED]} failed" if counts[OutboxStatus.FAILED] else "")
        except Exception:  # noqa: BLE001 - a database hiccup must not stop the worker; the pass logs it
            outbox = "outbox unknown"
        log.info("idle: watching %s, %s, %s", self.source.name, last, outbox)

    def _beat(self, state: str, next_in: float, error: str | None = None) -> None:
        """Replace the heartbeat file, if there is one; a failure is logged once, never raised."""
        if self.health_file is None:
            return
        now = self.clock()
        data = {
            "pid": os.getpid(), "time": now, "state": state, "mailbox": self.source.name,
            "poll_seconds": self.poll_seconds, "next_pass_by": now + timedelta(seconds=next_in),
            "last_poll_ok": self.last_poll_ok, "last_message": self.last_message, "last_send": self.last_send,
            "jobs": {job.name: {"every": job.seconds, "last_run": self._job_runs.get(job.name)} for job in self.jobs},
        }
        if error:
            data["error"] = error
        try:
            write_heartbeat(self.health_file, data)
            self._beat_failed = False
        except OSError as exc:
            if not self._beat_failed:
                log.warning("cannot write the health file %s: %s", self.health_file, exc.strerror or exc)
            self._beat_failed = True

    # -- signals ------------------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """SIGTERM, SIGHUP and SIGINT ask for a clean stop; a second one stops at once."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        if hasattr(signal, "SIGHUP"):  # not on Windows
            signal.signal(signal.SIGHUP, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self._signals += 1
        if self._signals > 1:
            raise SystemExit(130)
        self._signal = signum  # said by the loop when it ends: a handler only sets flags
        self.stop.set()


def _hopeless(error: BaseException) -> bool:
    """A failure that waiting will not mend: a refused login, or a connection that cannot work as configured."""
    return isinstance(error, MailboxAuthError) or (isinstance(error, MailboxConnectError) and error.permanent)
