"""Queueing outgoing mail with the change that caused it, and sending it with retries.

:class:`Outbox` queues a :class:`~ticketing.core.mails.Draft` as data in the same transaction as
the caller's change. :class:`OutboxSender` composes it when it is first sent and sends what is due
through a :class:`~mailer.MailSender`: a transient failure is retried with exponential backoff and
jitter (the delay is data on the row, not a sleep), a permanent one or the last attempt marks the
message failed, for ``whiteglove outbox --failed``. Nothing is dropped. Recipients the server
refused for good are recorded, for :meth:`ticketing.services.bounces.Bounces.alert_refusals`.

Delivery is at least once: a crash after the server accepted a message and before the database
recorded it sends it again on restart, with the same Message-ID (the directory backend finds the
file it wrote and writes nothing, so it is exactly once there).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
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
    Address,
    MailSender,
    PartiallySentError,
    PermanentSendError,
    SendError,
    ServerUnavailableError,
    TransientSendError,
    compose,
    make_message_id,
    safe_address,
)
from ticketing.core.domain import Account, OutboxStatus, OutgoingMail
from ticketing.core.mails import Draft, Rendering, Support, Templates
from ticketing.store import SqlStore

log = logging.getLogger(__name__)

#: ``wg.TOKEN`` is cut to this length before ``.SIGN`` (a Message-ID token is at most 128 characters).
_LONGEST_LOCAL = 118


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


class Outbox:
    """Composes drafts and queues them (inside the caller's transaction)."""

    def __init__(self, store: SqlStore, support: Support):
        self.store = store
        self.support = support
        self.domain = support.address.rpartition("@")[2]
        self._holding = False
        self._answering = False
        #: Stops answers past the loop limits (:class:`~ticketing.services.loop_guard.LoopGuard`);
        #: None: nothing is limited.
        self.guard = None
        self._keyed: tuple[bytes, bool] | None = None

    @contextmanager
    def holding(self, hold: bool = True) -> Iterator[None]:
        """Inside, what is queued is kept as ``held``, never sent: the mail history would cause.
        Scoped to one unit of work (intake wraps one message's handling in it)."""
        before, self._holding = self._holding, self._holding or hold
        try:
            yield
        finally:
            self._holding = before

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Inside, what is queued answers inbound mail, and the loop limits apply to it (intake
        wraps one message's handling in it; the operator's commands and scheduled jobs do not)."""
        before, self._answering = self._answering, True
        try:
            yield
        finally:
            self._answering = before

    def message_id(self, token: str) -> str:
        """The Message-ID (without angle brackets) of the mail with ``token``: ``wg.TOKEN.SIGN``, where
        SIGN is a keyed digest of the token (the installation's key, kept in the database). The
        same cause gives the same id, but nobody outside can write the id of a mail we sent, so a
        forged bounce cannot name one (:mod:`ticketing.core.bounce_match`)."""
        key, _legacy = self._key()
        sign = base64.b32encode(hmac.new(key, token.encode("utf-8"), hashlib.sha256).digest()[:5]).decode().lower()
        local = f"wg.{token}"[:_LONGEST_LOCAL].rstrip(".-_+=")
        return make_message_id(f"{local}.{sign}", self.domain).strip("<>")

    def message_ids(self, token: str) -> tuple[str, ...]:
        """Every id the mail with ``token`` may have: also the plain ``wg.TOKEN`` of mail queued
        before the database had a key (schema 14), where there is such mail."""
        ids = (self.message_id(token),)
        if self._key()[1]:
            ids += (make_message_id(f"wg.{token}", self.domain).strip("<>"),)
        return ids

    def queued_before(self, token: str) -> bool:
        """Whether the mail with ``token`` was queued (sent, waiting, failed or held) already."""
        return any(self.store.outbox_has(message_id) for message_id in self.message_ids(token))

    def _key(self) -> tuple[bytes, bool]:
        if self._keyed is None:
            self._keyed = self.store.message_id_key()
        return self._keyed

    def queue(self, draft: Draft, now: datetime, engagement_id: int | None = None) -> str | None:
        """Queue ``draft``; return its Message-ID, or None if that mail was queued before.

        The draft is stored as data and composed into bytes when it is first sent (composing
        with the email package costs milliseconds, which intake should not pay per message);
        the bytes are then kept, so every retry sends exactly the same message.
        """
        message_id, *plain = self.message_ids(draft.token)
        if plain and self.store.outbox_has(plain[0]):
            return None  # queued before the installation had its key
        sender, sent_by = self.support.mailbox, None
        if draft.from_address is not None:
            sender, sent_by = draft.from_address, self.support.mailbox
        if draft.from_name:
            sender = Address(draft.from_name, sender.email)
        recipients = [a.email for a in (*draft.to, *draft.cc)]
        trip = None
        if self._answering and not self._holding and self.guard is not None:
            trip = self.guard.check(draft, now, message_id)
        queued = self.store.queue_mail(
            message_id=message_id, purpose=draft.purpose, ticket_id=draft.ticket_id, recipients=recipients,
            envelope_from=self.support.address, subject=draft.subject, draft=draft_json(draft, sender, message_id, now, sent_by),
            now=now, engagement_id=engagement_id, held=self._holding, suppressed=trip.reason if trip else None,
        )
        if trip is not None and queued:
            self.guard.broken(draft, trip, now, self)
            return None  # never sent: nothing may thread to it
        return message_id if queued else None

    def stopped(self, draft: Draft) -> bool:
        """Whether ``draft`` was kept from going by a loop limit (it never reaches its reader)."""
        return self.store.mail_status(self.message_id(draft.token)) is OutboxStatus.SUPPRESSED


def draft_json(draft: Draft, sender: Address, message_id: str, date: datetime, sent_by: Address | None = None) -> str:
    """What to compose for ``draft``: the arguments of :func:`mailer.compose.compose`, as JSON
    (``sent_by``, the Sender, only when it is not the author)."""
    def person(a: Address) -> list[str]:
        return [a.name, a.email]

    if isinstance(draft.body, Rendering):
        body = {"template": draft.body.template, "context": draft.body.context}
    else:
        body = {"text": draft.body[0], "html": draft.body[1]}
    return json.dumps({
        "sender": person(sender), "to": [person(a) for a in draft.to], "cc": [person(a) for a in draft.cc],
        "reply_to": person(draft.reply_to) if draft.reply_to else None, "subject": draft.subject,
        "body": body, "message_id": message_id, "date": date.isoformat(),
        "in_reply_to": draft.in_reply_to, "references": list(draft.references), "auto_submitted": draft.auto_submitted,
        "attachments": [[name, ctype, base64.b64encode(data).decode("ascii")] for name, ctype, data in draft.attachments],
        "calendar": list(draft.calendar) if draft.calendar else None,
        **({"sent_by": person(sent_by)} if sent_by is not None else {}),
    })


def compose_draft(data: str, renderer: Templates) -> bytes:
    """Render and compose the message a :func:`draft_json` describes.

    Raises ValueError for values compose refuses, and jinja2's errors for a broken template.
    """
    d = json.loads(data)
    body = d["body"]
    if "template" in body:
        text, html = renderer.render(body["template"], **body["context"])
    else:
        text, html = body["text"], body["html"]
    return compose(
        sender=Address(*d["sender"]), to=[Address(*a) for a in d["to"]], cc=[Address(*a) for a in d["cc"]],
        reply_to=Address(*d["reply_to"]) if d["reply_to"] else None, subject=d["subject"], text=text,
        html=html, message_id=f"<{d['message_id']}>", date=datetime.fromisoformat(d["date"]),
        in_reply_to=f"<{d['in_reply_to']}>" if d["in_reply_to"] else None,
        references=[f"<{r}>" for r in d["references"]], auto_submitted=d["auto_submitted"],
        attachments=[(name, ctype, base64.b64decode(data)) for name, ctype, data in d["attachments"]],
        calendar=tuple(d["calendar"]) if d.get("calendar") else None,
        sent_by=Address(*d["sent_by"]) if d.get("sent_by") else None,
    )


def message_bytes(store: SqlStore, mail_id: int, renderer: Templates) -> bytes:
    """The bytes of an outgoing message: as sent, or as it will be sent."""
    raw, draft = store.outbox_content(mail_id)
    return raw or compose_draft(draft, renderer)


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


def deliverable(email: str) -> bool:
    """Whether mail can be sent to ``email`` (an ASCII addr-spec without tricks)."""
    try:
        safe_address(email)
    except ValueError:
        return False
    return True


def mailable_contacts(account: Account | None) -> list[Address]:
    """The account's contacts mail can go to: their mail does not bounce and their address is safe."""
    return [Address(c.name, c.email) for c in (account.contacts if account else ())
            if c.failing_since is None and deliverable(c.email)]
