"""The worker: one :meth:`Worker.tick` is one pass of everything; :meth:`Worker.run_forever` keeps going.

A pass is intake over the mailbox, then the outbox (so what intake queued goes out at once).
The periodic jobs (the SLA sweep every minute, the weekly summaries) run on the ``schedule``
package's timetable; a job that fails is logged and runs again at its next time, and never stops
the others. Between passes the worker waits on the mailbox (IMAP IDLE, or a poll interval), at
most until the next job is due. A dropped or unreachable server is retried with exponential
backoff and jitter. SIGTERM or Ctrl-C sets a flag: the batch in hand is finished and committed,
then the loop ends; a second signal stops at once.
"""
from __future__ import annotations

import logging
import random
import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Sequence

import schedule

from mailer import MailboxAuthError, MailboxError, MailboxSource
from ticketing.app.clock import utcnow
from ticketing.services.intake import Intake, IntakeSummary
from ticketing.services.outbox import OutboxSender, SendSummary

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
    """What one pass did."""

    intake: IntakeSummary
    outbox: SendSummary | None = None

    def __iter__(self):  # ``summary, sent = worker.tick()``
        return iter((self.intake, self.outbox))


@dataclass(frozen=True)
class Job:
    """A periodic job: ``action(now)`` every ``seconds``."""

    name: str
    seconds: float
    action: Callable[[datetime], object]


class Worker:
    def __init__(self, intake: Intake, source: MailboxSource, poll_seconds: float, stop: threading.Event | None = None,
                 backoff: Backoff | None = None, outbox: OutboxSender | None = None,
                 clock: Callable[[], datetime] = utcnow, jobs: Sequence[Job] = ()):
        self.intake = intake
        self.source = source
        self.poll_seconds = poll_seconds
        self.stop = stop or threading.Event()
        self.backoff = backoff or Backoff()
        self.outbox = outbox
        self.clock = clock
        self.jobs = tuple(jobs)
        self._signals = 0

    def tick(self) -> Tick:
        """One pass of everything: intake, the outbox, then every periodic job once (``run --once``).

        A failing outbox pass or job is logged and retried on the next pass; it never stops intake.
        """
        summary = self._intake()
        sent = self._send()
        for job in self.jobs:
            self._run_job(job)
        if self.jobs and sent is not None:
            sent = sent + self._send()  # what the jobs queued (warnings, summaries) goes out too
        return Tick(summary, sent)

    def _intake(self) -> IntakeSummary:
        summary = self.intake.poll(self.source, stop=self.stop)
        if summary.processed or summary.duplicates or summary.quarantined:
            log.info("intake: %s", summary)
        return summary

    def _send(self) -> SendSummary | None:
        if self.outbox is None:
            return None
        try:
            sent = self.outbox.send_due(self.clock())
        except Exception:  # noqa: BLE001 - a database hiccup must not stop intake; the rows wait
            log.exception("outbox pass failed")
            return None
        if sent.sent or sent.retrying or sent.failed:
            log.info("outbox: %s", sent)
        return sent

    def _run_job(self, job: Job) -> None:
        try:
            job.action(self.clock())
        except Exception:  # noqa: BLE001 - one job failing must not stop the others; it runs again next time
            log.exception("job %s failed; it runs again at its next time", job.name)

    def _scheduler(self) -> schedule.Scheduler:
        scheduler = schedule.Scheduler()
        for job in self.jobs:
            scheduler.every(job.seconds).seconds.do(self._run_job, job)
        if self.outbox is not None:
            # Retries fall due while the mailbox is quiet: look at the outbox at least this often.
            scheduler.every(max(1.0, min(30.0, self.poll_seconds))).seconds.do(self._send)
        return scheduler

    def run_forever(self) -> None:
        """Tick until stopped. Raises :class:`MailboxAuthError` if the very first login fails."""
        healthy = False
        scheduler = self._scheduler()
        for job in self.jobs:  # once at start: a sweep or summary missed while stopped is not left for later
            self._run_job(job)
        try:
            while not self.stop.is_set():
                scheduler.run_pending()  # first: a mailbox that keeps failing must not hold up the jobs
                try:
                    self._intake()
                    self._send()
                    healthy = True
                    self.backoff.reset()
                except MailboxAuthError:
                    if not healthy:
                        raise
                    self._pause("the mailbox refused the login")
                    continue
                except MailboxError as exc:
                    self.source.close()
                    self._pause(str(exc))
                    continue
                except Exception:  # a bug or a database outage: log it and try again later
                    log.exception("intake pass failed")
                    self._pause("intake pass failed")
                    continue
                idle = scheduler.idle_seconds
                wait = self.poll_seconds if idle is None else max(0.0, min(self.poll_seconds, idle))
                try:
                    self.source.wait(wait, self.stop)
                except MailboxError as exc:
                    self.source.close()
                    self._pause(str(exc))
        finally:
            self.source.close()
        log.info("worker stopped")

    def _pause(self, why: str) -> None:
        delay = self.backoff.next_delay()
        log.warning("%s; retrying in %.0f s", why, delay)
        self.stop.wait(delay)

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT ask for a clean stop; a second one stops at once."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self._signals += 1
        if self._signals > 1:
            raise SystemExit(130)
        self.stop.set()
