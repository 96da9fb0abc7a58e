"""Sending what the outbox queued, with retries.

:class:`OutboxSender` composes a queued draft when it is first sent and sends what is due through a
:class:`~mailer.MailSender`: a transient failure is retried with exponential backoff and jitter
(:class:`RetryPolicy`; the delay is data on the row, not a sleep), a permanent one or the last
attempt marks the message failed, for ``whiteglove outbox --failed``. Nothing is dropped.
Recipients the server refused for good are recorded, for
:meth:`ticketing.services.bounces.Bounces.alert_refusals`.

Delivery is at least once: a crash after the server accepted a message and before the database
recorded it sends it again on restart, with the same Message-ID (the directory backend finds the
file it wrote and writes nothing, so it is exactly once there).
"""
from __future__ import annotations

import logging
import random
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Callable, Iterator

import jinja2

from mailer import (
    MailSender,
    PartiallySentError,
    PermanentSendError,
    SendError,
    ServerUnavailableError,
    TransientSendError,
)
from ticketing.core.domain import OutboxStatus, OutgoingMail
from ticketing.core.mails import Templates
from ticketing.services.outbox import compose_draft
from ticketing.store import SqlStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Delays between attempts: ``first``, doubling up to ``ceiling``, with ±25 % jitter."""

    max_attempts: int = 8
    first: timedelta = timedelta(minutes=1)
    ceiling: timedelta = timedelta(hours=2)
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempts_so_far: int) -> timedelta:
        base = min(self.ceiling, self.first * (2 ** min(attempts_so_far, 30)))
        return base * self.rng.uniform(0.75, 1.25)


@dataclass
class SendSummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    #: Why the server took nothing in this pass (it refused our login or our TLS), if it did not.
    error: str | None = None

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed"

    def __add__(self, other: "SendSummary | None") -> "SendSummary":
        if other is None:
            return self
        return SendSummary(self.sent + other.sent, self.retrying + other.retrying, self.failed + other.failed,
                           other.error if other.error is not None else self.error)


class _ServerRefusesUs(Exception):
    """The server refused our login or our TLS: no message of this pass can go."""

    def __init__(self, error: str, retry_at: datetime):
        super().__init__(error)
        self.retry_at = retry_at


class OutboxSender:
    """Sends due mail; one :meth:`send_due` is one pass.

    Mail is claimed in small batches under a lease (``lease``), in the name of ``owner`` (see
    :mod:`ticketing.app.claims`): a worker killed while sending strands a batch for at most the
    lease, and every pass releases at once the claims of owners ``is_dead`` says died (this host's
    workers before a restart). While a batch is sent its lease is renewed before each message when
    half of it has gone by (by ``clock``), and every ``heartbeat`` seconds by a thread, so that one
    slow send does not let another worker take mail that is still being sent.
    """

    def __init__(self, store: SqlStore, sender: MailSender, renderer: Templates, policy: RetryPolicy | None = None,
                 lease: timedelta = timedelta(seconds=30), batch: int = 50, *, owner: str = "",
                 clock: Callable[[], datetime] | None = None, is_dead: Callable[[str], bool] | None = None,
                 heartbeat: float | None = None):
        self.store = store
        self.sender = sender
        self.renderer = renderer
        self.policy = policy or RetryPolicy()
        self.lease = lease
        self.batch = batch
        self.owner = owner
        #: Read while a batch is sent, to renew its lease in time (None: the pass's ``now`` throughout).
        self.clock = clock
        self.is_dead = is_dead
        #: Seconds between a thread's renewals of the lease while a batch is sent (None: no thread).
        self.heartbeat = heartbeat

    def send_due(self, now: datetime) -> SendSummary:
        """Send what is due. When the server refuses our login or TLS, the pass ends: what it had
        claimed waits for the retry (its attempts untouched: not the messages' fault), and
        :attr:`SendSummary.error` says why, once."""
        summary = SendSummary()
        self._release_dead(now)
        while True:
            claimed = self.store.claim_due_mail(now, self.batch, self.lease, self.owner)
            if not claimed:
                return summary
            with self._heartbeat([m.id for m, *_ in claimed]):
                if self._send_batch(claimed, now, summary):
                    return summary
            if len(claimed) < self.batch:
                return summary

    def _send_batch(self, claimed: list, now: datetime, summary: SendSummary) -> bool:
        """Send a claimed batch; True when the server refuses us and the pass must end.

        The batch's messages are composed and their bytes kept in one transaction before the first
        is sent. A message is recorded as sent after the server took it: at once, one by one, for a
        server that a resend would give a second copy (a kill between its yes and the commit is the
        one resend); together at the end of the batch, after one :meth:`sync`, for a sender where
        a resend delivers nothing twice (``resend_is_harmless``: the directory outbox).
        """
        ready = self._compose_batch(claimed, summary)
        together = getattr(self.sender, "resend_is_harmless", False)
        # A sender that writes a batch faster than one by one (the directory outbox flushes its
        # files together) is handed the whole batch at once; each outcome is then recorded below
        # exactly as if it had come from its own send.
        outcomes = self._send_together(ready, now) if together and hasattr(self.sender, "send_many") else None
        sent: list[int] = []
        renew_at = now + self.lease / 2
        try:
            for index, (mail, raw, envelope_from) in enumerate(ready):
                at = self.clock() if self.clock is not None else now
                if outcomes is None and at >= renew_at:  # the rest of the batch stays ours while we send
                    ours = self.store.renew_claims([m.id for m, *_ in ready[index:]], self.owner, at + self.lease)
                    renew_at = at + self.lease / 2
                    if mail.id not in ours:
                        log.warning("mail %s was taken over by another worker; not sending it here", mail.message_id)
                        continue
                deliver = (partial(self.sender.send, raw, envelope_from, list(mail.recipients)) if outcomes is None
                           else partial(_replay, outcomes[index]))
                try:
                    if self._send_one(mail, deliver, now, summary):
                        if together:
                            sent.append(mail.id)
                        else:
                            self.store.mark_sent([mail.id], now)
                except _ServerRefusesUs as stop:
                    rest = [m.id for m, *_ in ready[index + 1:]]
                    self.store.postpone_mail(rest, stop.retry_at)
                    summary.retrying += len(rest)
                    summary.error = str(stop)
                    # Every queued message waits, not only this batch's: say how many.
                    waiting = max(summary.retrying, self.store.outbox_counts()[OutboxStatus.QUEUED])
                    log.error("cannot send: %s; %d message(s) wait until %s", stop, waiting,
                              stop.retry_at.isoformat(timespec="seconds"))
                    return True
        finally:
            if sent:
                getattr(self.sender, "sync", lambda: None)()
                self.store.mark_sent(sent, now)
        return False

    def _send_together(self, ready: list[tuple[OutgoingMail, bytes, str]], now: datetime) -> list[Exception | None]:
        """Hand the whole batch to the sender's ``send_many``, after renewing the claims if half the
        lease has gone by (the batch is written in milliseconds); drop from ``ready`` what another
        worker took over meanwhile."""
        at = self.clock() if self.clock is not None else now
        if ready and at >= now + self.lease / 2:
            ours = self.store.renew_claims([m.id for m, *_ in ready], self.owner, at + self.lease)
            taken = [m for m, *_ in ready if m.id not in ours]
            for mail in taken:
                log.warning("mail %s was taken over by another worker; not sending it here", mail.message_id)
            ready[:] = [r for r in ready if r[0].id in ours]
        return self.sender.send_many([(raw, envelope_from, list(mail.recipients)) for mail, raw, envelope_from in ready])

    def _compose_batch(self, claimed: list, summary: SendSummary) -> list[tuple[OutgoingMail, bytes, str]]:
        """The claimed messages with their bytes: composed where not yet, and kept, in one transaction
        (so that every attempt sends the same bytes); one that cannot be composed is marked failed."""
        ready = []
        with self.store.transaction():
            for mail, raw, envelope_from, draft in claimed:
                if not raw:
                    try:
                        raw = compose_draft(draft, self.renderer)
                    except (ValueError, jinja2.TemplateError) as exc:
                        log.error("mail %s cannot be composed: %s", mail.message_id, exc)
                        self.store.mark_failed(mail.id, f"cannot be composed: {exc}")
                        summary.failed += 1
                        continue
                    self.store.set_raw(mail.id, raw)
                ready.append((mail, raw, envelope_from))
        return ready

    @contextmanager
    def _heartbeat(self, mail_ids: list[int]) -> Iterator[None]:
        """While inside, a thread renews the lease on ``mail_ids`` every ``heartbeat`` seconds (those
        sent meanwhile are no longer claimed, and left alone), on its own database connection."""
        if not self.heartbeat or self.clock is None:
            yield
            return
        done = threading.Event()
        clock = self.clock

        def beat() -> None:
            try:
                while not done.wait(self.heartbeat):
                    try:
                        self.store.renew_claims(mail_ids, self.owner, clock() + self.lease)
                    except Exception:  # noqa: BLE001 - a missed beat is retried; the lease is twice the beat
                        log.warning("could not renew the lease on outgoing mail", exc_info=True)
            finally:
                self.store.close()  # this thread's connection

        thread = threading.Thread(target=beat, name="outbox-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _release_dead(self, now: datetime) -> None:
        """Give back at once the claims of workers known to be dead (their lease would free them too,
        in seconds): one indexed query a pass."""
        if self.is_dead is None:
            return
        for owner in sorted(self.store.claim_owners()):
            if owner and owner != self.owner and self.is_dead(owner):
                released = self.store.release_claims(owner, now)
                if released:
                    log.warning("%d outgoing message(s) claimed by %s, which is no longer running, go again now",
                                released, owner)

    def _send_one(self, mail, deliver: Callable[[], None], now: datetime, summary: SendSummary) -> bool:
        """Hand one message to the server (``deliver`` does); True when it took it for everyone (the
        caller records that); every other outcome is recorded here."""
        try:
            deliver()
        except PartiallySentError as exc:
            # Some recipients got it: sending again would give them a second copy.
            log.warning("mail %s reached only some recipients: %s", mail.message_id, exc)
            self.store.mark_sent([mail.id], now, note=f"refused: {exc}")
            summary.sent += 1
            self._refused(mail, exc.refused, now)
        except ServerUnavailableError as exc:
            # The server is down (an outage of hours must not fail the queue): every message waits,
            # none loses an attempt.
            retry_at = now + self.policy.first
            self.store.postpone_mail([mail.id], retry_at, error=str(exc))
            summary.retrying += 1
            raise _ServerRefusesUs(str(exc), retry_at) from exc
        except TransientSendError as exc:
            attempts = mail.attempts + 1
            if attempts >= self.policy.max_attempts:
                log.error("giving up on mail %s after %d attempts: %s", mail.message_id, attempts, exc)
                self.store.mark_failed(mail.id, f"gave up after {attempts} attempts: {exc}")
                summary.failed += 1
            else:
                retry_at = now + self.policy.delay(mail.attempts)
                log.warning("mail %s not sent (%s); retrying at %s", mail.message_id, exc, retry_at.isoformat())
                self.store.mark_retry(mail.id, str(exc), retry_at)
                summary.retrying += 1
        except PermanentSendError as exc:
            log.error("mail %s refused for good: %s", mail.message_id, exc)
            self.store.mark_failed(mail.id, str(exc))
            summary.failed += 1
            self._refused(mail, exc.refused, now)
        except SendError as exc:  # the server refused our login or our TLS: not this message's fault
            retry_at = now + self.policy.delay(mail.attempts)
            self.store.mark_retry(mail.id, str(exc), retry_at)
            summary.retrying += 1
            raise _ServerRefusesUs(str(exc), retry_at) from exc
        else:
            summary.sent += 1
            return True
        return False

    def _refused(self, mail: OutgoingMail, refused: dict[str, tuple[int, str]], now: datetime) -> None:
        """Keep the recipients refused for good (5xx): the bounce alerts turn them into mail to
        their engineers on the next pass, as if a bounce had come back."""
        permanent = {r: v for r, v in refused.items() if 500 <= v[0] < 600}
        if permanent:
            said = "; ".join(f"{code} {reply}" for code, reply in permanent.values())
            self.store.record_refusal(mail.id, list(permanent), said, now)


def _replay(outcome: Exception | None) -> None:
    """What a send of a batch said about one message, as its own send would have said it."""
    if outcome is not None:
        raise outcome
