"""The worker: one :meth:`Worker.tick` is one pass of intake; :meth:`Worker.run_forever` repeats it.

Between passes the worker waits on the mailbox (IMAP IDLE, or a poll interval). A dropped or
unreachable server is retried with exponential backoff and jitter. SIGTERM or Ctrl-C sets a flag:
the batch in hand is finished and committed, then the loop ends; a second signal stops at once.
"""
from __future__ import annotations

import logging
import random
import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from mailer.errors import MailboxAuthError, MailboxError
from mailer.source import MailboxSource

from .clock import utcnow
from .intake import Intake, IntakeSummary
from .outbox import OutboxSender, SendSummary

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


class Worker:
    def __init__(self, intake: Intake, source: MailboxSource, poll_seconds: float, stop: threading.Event | None = None,
                 backoff: Backoff | None = None, outbox: OutboxSender | None = None,
                 clock: Callable[[], datetime] = utcnow):
        self.intake = intake
        self.source = source
        self.poll_seconds = poll_seconds
        self.stop = stop or threading.Event()
        self.backoff = backoff or Backoff()
        self.outbox = outbox
        self.clock = clock
        self._signals = 0

    def tick(self) -> Tick:
        """One pass: intake over the mailbox, then the outbox (whatever intake queued goes out now).

        A failing outbox pass is logged and retried on the next tick; it never stops intake.
        """
        summary = self.intake.poll(self.source, stop=self.stop)
        if summary.processed or summary.duplicates or summary.quarantined:
            log.info("intake: %s", summary)
        sent = None
        if self.outbox is not None:
            try:
                sent = self.outbox.send_due(self.clock())
            except Exception:  # noqa: BLE001 - a database hiccup must not stop intake; the rows wait
                log.exception("outbox pass failed")
            else:
                if sent.sent or sent.retrying or sent.failed:
                    log.info("outbox: %s", sent)
        return Tick(summary, sent)

    def run_forever(self) -> None:
        """Tick until stopped. Raises :class:`MailboxAuthError` if the very first login fails."""
        healthy = False
        try:
            while not self.stop.is_set():
                try:
                    self.tick()
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
                try:
                    self.source.wait(self.poll_seconds, self.stop)
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
