"""Intake: turning mailbox messages into stored messages and tickets (the service layer).

Each message is parsed once, here. Intake recognises automated mail, gives the message its id,
hands the help desk one :class:`~ticketing.services.inbound.Inbound`, and stores the message with
the :class:`~ticketing.services.inbound.Handled` it gets back (one write per message). The worker (:meth:`Intake.poll`), backfills
(:meth:`Intake.ingest`) and ``quarantine retry`` take this one path.

One transaction per batch, a savepoint per message: a message that fails rolls back alone and is
quarantined with its raw bytes and the reason, and the batch goes on. The mailbox is told a message
was handled (flagged, moved) only after the batch has committed; a crash in between leaves the
record marked unacknowledged, and the next pass acknowledges it without handling it again.
Messages are deduplicated by Message-ID, or by a digest of the raw bytes when there is none.

Resources are bounded: a batch is at most ``batch_size`` messages and, where the source tells sizes
before fetching (Maildir, IMAP), ``batch_bytes`` bytes (a larger message goes alone). A message over
``max_message_bytes`` is not parsed beyond its headers: it is stored whole (nothing is lost, and
``quarantine retry`` reads it after the limit is raised) and quarantined with the reason, and its
sender is told once a day (:mod:`ticketing.services.too_large`).
"""
from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable, Sequence

from mailer import (
    MailboxSource,
    ParsedMessage,
    SourceMessage,
    parse_headers,
    parse_message,
    recognise,
)
from ticketing.core.domain import IntakeOutcome, MessageStatus
from ticketing.errors import NotFound
from ticketing.services.handled_log import describe
from ticketing.services.helpdesk import HelpDesk
from ticketing.services.inbound import Handled, Inbound, Unhandleable
from ticketing.services.too_large import TooLarge, too_large_reason
from ticketing.store import SqlStore

log = logging.getLogger(__name__)

_MAX_ID = 500  # longer Message-IDs are keyed by their digest

__all__ = ["Intake", "IntakeSummary", "Unhandleable", "dedupe_key"]


@dataclass
class IntakeSummary:
    processed: int = 0
    duplicates: int = 0
    quarantined: int = 0
    tickets_created: int = 0

    def count(self, outcome: IntakeOutcome) -> None:
        if outcome is IntakeOutcome.PROCESSED:
            self.processed += 1
        elif outcome is IntakeOutcome.DUPLICATE:
            self.duplicates += 1
        else:
            self.quarantined += 1

    def __add__(self, other: "IntakeSummary") -> "IntakeSummary":
        return IntakeSummary(*(a + b for a, b in zip(vars(self).values(), vars(other).values())))

    def __str__(self) -> str:
        return (
            f"{self.processed} processed, {self.duplicates} duplicates, {self.quarantined} quarantined"
            f" ({self.tickets_created} new tickets)"
        )


def dedupe_key(parsed: ParsedMessage | None, raw: bytes) -> str:
    """The key two copies of one message share: its Message-ID, else a digest of its bytes."""
    mid = parsed.message_id.strip() if parsed and parsed.message_id else ""
    if mid:
        if len(mid) <= _MAX_ID:
            return "mid:" + mid
        return "mid-sha256:" + hashlib.sha256(mid.encode("utf-8", "replace")).hexdigest()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class _Retry:
    """A quarantined message run through intake again: the row and the entry it already has."""

    row_id: int
    quarantine_id: int


class Intake:
    """Reads sources into the store. :meth:`poll` (the worker), :meth:`ingest` (files, for
    backfills) and :meth:`retry_quarantined` all go through :meth:`_handle`, the one path."""

    def __init__(self, store: SqlStore, clock: Callable[[], datetime], desk: HelpDesk, batch_size: int = 200,
                 start_at: datetime | None = None, max_message_bytes: int = 25 * 2**20, batch_bytes: int = 50 * 2**20):
        self.store = store
        self.clock = clock
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        self.max_message_bytes = max_message_bytes
        self.too_large = TooLarge(desk.mails, desk.outbox, desk.own, max_message_bytes)
        #: What a message causes.
        self.desk = desk
        #: The start mark of a mailbox read for the first time (default: that moment): what arrived
        #: before it is history, stored and classified but never answered.
        self.start_at = start_at

    # -- mailboxes ------------------------------------------------------------------------------

    def poll(self, source: MailboxSource, stop: threading.Event | None = None, *,
             now: datetime | None = None, acknowledge: bool = True,
             keep: Callable[[], bool] | None = None) -> IntakeSummary:
        """Handle every new message in ``source`` once; stop between batches when ``stop`` is set.

        ``now`` is the time of the pass (default: the clock's, read once per batch). Raises
        :class:`~mailer.MailboxError` when the mailbox fails; what was committed stays committed.
        ``acknowledge=False`` leaves the mailbox as it was (no flag, no move): a dry run. ``keep`` is
        asked before every batch but the first whether to go on (the worker renews its intake lease).
        """
        if acknowledge:
            self.acknowledge_pending(source, now)
        summary = IntakeSummary()
        keys = source.list_new(self.store.cursor(source.name))
        recorded = self.store.recorded_keys(source.name, keys)
        fresh = [k for k in keys if k not in recorded]
        taken = 0
        for start in range(0, len(fresh), self.batch_size):
            for keys in self._by_bytes(source, fresh[start : start + self.batch_size]):
                if stop is not None and stop.is_set():
                    return summary
                if keep is not None and taken and not keep():
                    return summary
                taken += 1
                batch = source.fetch(keys)
                if not batch:
                    continue
                summary += self._take_batch(source, batch, now or self.clock(), acknowledge)
        return summary

    def _by_bytes(self, source: MailboxSource, keys: Sequence[str]) -> list[Sequence[str]]:
        """``keys`` in batches of at most ``batch_bytes``, when the source tells sizes before a fetch."""
        sizes = getattr(source, "sizes", None)
        if sizes is None or not self.batch_bytes or len(keys) < 2:
            return [keys]
        return byte_batches(keys, sizes(keys), self.batch_bytes)

    def _take_batch(self, source: MailboxSource, batch: list[SourceMessage], now: datetime,
                    acknowledge: bool = True) -> IntakeSummary:
        with self.store.transaction():
            self.store.lock_mailbox(source.name, now)
            # another worker may have taken some of them since we listed
            done = self.store.recorded_keys(source.name, [m.key for m in batch])
            todo = [m for m in batch if m.key not in done]
            mark = self.store.start_mark(source.name, now, self.start_at)
            summary, outcomes = self._handle(todo, source.name, now, history_before=mark)
            self.store.record_intake(source.name, [(m.key, o) for m, o in zip(todo, outcomes)], now)
            self.store.set_cursor(source.name, source.cursor_after(batch[-1].key), now)
        if acknowledge:
            self._acknowledge(source, [m.key for m in todo], now)
        return summary

    def acknowledge_pending(self, source: MailboxSource, now: datetime | None = None) -> None:
        """Tell the mailbox about messages committed before a crash but never acknowledged."""
        processed, quarantined = self.store.unacknowledged(source.name)
        if processed or quarantined:
            log.info("acknowledging %d messages handled before a restart", len(processed) + len(quarantined))
            self._acknowledge(source, processed + quarantined, now or self.clock())

    def _acknowledge(self, source: MailboxSource, keys: Sequence[str], now: datetime) -> None:
        """Flag and file those of ``keys`` that are still unacknowledged, holding the mailbox lock.

        Two workers must never file one message at the same time: a MOVE is a copy and an expunge,
        and two sessions moving one message at once can both copy it (Dovecot does). That would
        happen when one worker finishes its batch while another, starting a pass, takes the same
        committed keys for a crashed worker's. Under the lock, the second finds them acknowledged.
        The outcome of each key (processed or quarantined) is the one recorded with it.
        """
        if not keys:
            return
        wanted = set(keys)
        with self.store.transaction():
            self.store.lock_mailbox(source.name, now)
            processed, quarantined = self.store.unacknowledged(source.name)
            processed = [key for key in processed if key in wanted]
            quarantined = [key for key in quarantined if key in wanted]
            if processed or quarantined:
                source.acknowledge(processed, quarantined)
                self.store.mark_acknowledged(source.name, processed + quarantined)

    # -- files and retries ------------------------------------------------------------------------

    def ingest(self, messages: Iterable[SourceMessage], mailbox: str = "ingest",
               on_progress: Callable[[int], None] | None = None, notify: bool = False) -> IntakeSummary:
        """Handle messages that come from files, a batch per transaction (for backfills). Quiet
        unless ``notify``: a backfill is history, and what it would send is kept as held."""
        summary = IntakeSummary()
        batch: list[SourceMessage] = []
        for msg in messages:
            batch.append(msg)
            if len(batch) >= self.batch_size:
                summary += self._ingest_batch(batch, mailbox, on_progress, notify)
                batch = []
        if batch:
            summary += self._ingest_batch(batch, mailbox, on_progress, notify)
        return summary

    def _ingest_batch(self, batch: list[SourceMessage], mailbox: str,
                      on_progress: Callable[[int], None] | None, notify: bool) -> IntakeSummary:
        with self.store.transaction():
            summary, _ = self._handle(batch, mailbox, self.clock(), quiet=not notify)
        if on_progress:
            on_progress(len(batch))
        return summary

    def retry_quarantined(self, quarantine_id: int) -> IntakeOutcome:
        """Run a quarantined message through intake again, in place of its stored row.

        Raises :class:`~ticketing.errors.NotFound` when there is no such entry.
        """
        found = self.store.quarantined(quarantine_id)
        if found is None:
            raise NotFound(f"no quarantined message {quarantine_id}")
        entry, raw, received_at = found
        now = self.clock()
        msg = SourceMessage(key=entry.source_key, raw=raw, received_at=received_at)
        with self.store.transaction():
            _, [outcome] = self._handle([msg], entry.mailbox, now, _Retry(entry.message_pk, quarantine_id))
            if outcome is not IntakeOutcome.QUARANTINED:
                self.store.release_quarantine(quarantine_id, now)
        return outcome

    # -- the one path -----------------------------------------------------------------------------

    def _handle(self, messages: Sequence[SourceMessage], mailbox: str, now: datetime, retry: _Retry | None = None,
                *, history_before: datetime | None = None, quiet: bool = False) -> tuple[IntakeSummary, list[IntakeOutcome]]:
        """Handle ``messages`` inside the caller's transaction; return the summary and each outcome.

        Each message is parsed once, here; one query finds those already stored (a retried
        message does not count its own row).
        """
        parsed = [_parse(msg, mailbox, headers_only=self._over_limit(msg)) for msg in messages]
        keys = [dedupe_key(p, msg.raw) for p, msg in zip(parsed, messages)]
        seen = self.store.existing_dedupe_keys(keys, excluding=retry.row_id if retry else None)
        new = sum(1 for key in keys if key not in seen)
        row_ids = iter([retry.row_id] if retry else self.store.reserve_message_ids(new))
        summary = IntakeSummary()
        outcomes = []
        for msg, p, key in zip(messages, parsed, keys):
            if key in seen:
                outcome, created = IntakeOutcome.DUPLICATE, 0
            else:
                outcome, created = self._one(msg, p, key, mailbox, now, next(row_ids), retry,
                                             quiet=quiet, history_before=history_before)
                seen.add(key)
            summary.count(outcome)
            summary.tickets_created += created
            outcomes.append(outcome)
        return summary, outcomes

    def _one(self, msg: SourceMessage, parsed: ParsedMessage | None, key: str, mailbox: str, now: datetime,
             row_id: int, retry: _Retry | None, *, quiet: bool = False,
             history_before: datetime | None = None) -> tuple[IntakeOutcome, int]:
        """Let the help desk act on one message and store it under ``row_id`` with what it turned
        out to be; quarantine it when that fails.

        The id is reserved before the help desk acts (it names what the message causes after it),
        and the row written once, when the help desk has said what the message is.
        """
        received_at = _arrival(msg, parsed, now)
        history = quiet or (history_before is not None and received_at < history_before)
        try:
            with self.store.savepoint():
                if parsed is None:
                    raise Unhandleable("the parser failed on this message")
                if not msg.raw.strip():
                    raise Unhandleable("empty message")
                if self._over_limit(msg):
                    raise Unhandleable(too_large_reason(len(msg.raw), self.max_message_bytes))
                verdict = recognise(parsed, own_addresses=self.desk.own)
                # History is never answered; what is, counts against the loop limits.
                with self.desk.outbox.holding(history), self.desk.outbox.answering():
                    handled = self.desk.receive(Inbound(row_id, key, parsed, verdict, received_at, now))
                fields = _message_fields(parsed, msg, mailbox, key, received_at, now)
                fields.update(status=MessageStatus.PROCESSED, kind=handled.kind, ticket=handled.ticket_id,
                              origin_reason="; ".join(handled.reasons),
                              failed_recipients=" ".join(verdict.failed_recipients))
                self._store_row(row_id, fields, retry)
            self._say(handled, parsed, mailbox, msg.key, row_id, logging.DEBUG if quiet else logging.INFO)
            return IntakeOutcome.PROCESSED, handled.tickets_created
        except Unhandleable as exc:
            reason, detail = str(exc), ""
        except Exception as exc:  # one bad message must not stop the batch: keep it and say why
            log.exception("cannot handle %s %s", mailbox, msg.key)
            reason, detail = f"internal error: {type(exc).__name__}", str(exc)
        log.warning("quarantined %s %s: %s", mailbox, msg.key, reason)
        try:
            with self.store.savepoint():
                self._quarantine(row_id, _message_fields(parsed, msg, mailbox, key, received_at, now), reason, detail,
                                 retry, now)
        except Exception as exc:  # what it said cannot be stored: keep its bytes and the reason, nothing else
            log.exception("cannot store %s %s as read; keeping its raw bytes only", mailbox, msg.key)
            self._quarantine(row_id, _message_fields(None, msg, mailbox, key, now, now),
                             f"{reason}; its headers could not be stored", f"{type(exc).__name__}: {exc}; {detail}",
                             retry, now)
        if parsed is not None and self._over_limit(msg):
            self._tell_too_large(parsed, msg, mailbox, now, history)
        return IntakeOutcome.QUARANTINED, 0

    def _over_limit(self, msg: SourceMessage) -> bool:
        return bool(self.max_message_bytes) and len(msg.raw) > self.max_message_bytes

    def _tell_too_large(self, parsed: ParsedMessage, msg: SourceMessage, mailbox: str, now: datetime,
                        history: bool) -> None:
        """Tell the sender (once a day) that their message is over the limit; history is never answered."""
        try:
            with self.store.savepoint():
                verdict = recognise(parsed, own_addresses=self.desk.own)
                with self.desk.outbox.holding(history):
                    self.too_large.tell_sender(parsed, verdict, len(msg.raw), now)
        except Exception:  # noqa: BLE001 - the message is quarantined already; the reply is a courtesy
            log.exception("could not tell the sender of %s %s that it is too large", mailbox, msg.key)

    def _quarantine(self, row_id: int, fields: dict, reason: str, detail: str, retry: _Retry | None,
                    now: datetime) -> None:
        fields.update(status=MessageStatus.QUARANTINED, kind=None, ticket=None)
        self._store_row(row_id, fields, retry)
        if retry is not None:
            self.store.update_quarantine(retry.quarantine_id, reason, detail)
        else:
            self.store.quarantine(row_id, reason, detail, now)

    def _say(self, handled: Handled, parsed: ParsedMessage, mailbox: str, key: str, row_id: int, level: int) -> None:
        """One line per message handled (a quiet backfill's at DEBUG: its progress bar says enough)."""
        if not log.isEnabledFor(level):
            return
        ticket = handled.ticket if handled.ticket is not None and handled.ticket.id == handled.ticket_id else (
            self.store.get_ticket(handled.ticket_id) if handled.ticket_id else None)
        text, extra = describe(handled, ticket, parsed.from_.email if parsed.from_ else "(no sender)")
        log.log(level, "%s [%s %s]", text, mailbox, key, extra=dict(extra, mailbox=mailbox, source_key=key,
                                                                     message_row=row_id))

    def _store_row(self, row_id: int, fields: dict, retry: _Retry | None) -> None:
        if retry is not None:
            self.store.update_message(row_id, **fields)
        else:
            self.store.add_message(id=row_id, **fields)


def byte_batches(keys: Sequence[str], sizes: dict[str, int], limit: int) -> list[Sequence[str]]:
    """``keys`` in order, cut so that each batch's known sizes add up to at most ``limit`` (a key
    larger than ``limit`` goes alone; a key of unknown size counts nothing)."""
    batches: list[Sequence[str]] = []
    current: list[str] = []
    total = 0
    for key in keys:
        size = sizes.get(key, 0)
        if current and total + size > limit:
            batches.append(current)
            current, total = [], 0
        current.append(key)
        total += size
    if current:
        batches.append(current)
    return batches


def _parse(msg: SourceMessage, mailbox: str, headers_only: bool = False) -> ParsedMessage | None:
    try:
        return parse_headers(msg.raw) if headers_only else parse_message(msg.raw)
    except Exception:  # parse_message promises not to raise; keep the mail if it does
        log.exception("the parser failed on %s %s", mailbox, msg.key)
        return None


def _arrival(msg: SourceMessage, parsed: ParsedMessage | None, now: datetime) -> datetime:
    """When the message arrived: the mailbox's word, else its Date header unless in the future, else now."""
    if msg.received_at is not None:
        return msg.received_at
    if parsed is not None and parsed.date is not None and parsed.date <= now + timedelta(minutes=5):
        return parsed.date
    return now


def _message_fields(parsed: ParsedMessage | None, msg: SourceMessage, mailbox: str, key: str, received_at: datetime, now: datetime) -> dict:
    fields = dict(
        dedupe_key=key,
        mailbox=mailbox,
        source_key=msg.key,
        received_at=received_at,
        size=len(msg.raw),
        raw=msg.raw,
        created_at=now,
    )
    if parsed is None:
        return fields
    fields.update(
        message_id=parsed.message_id if parsed.message_id and len(parsed.message_id) <= _MAX_ID else None,
        date_header=parsed.date,
        from_addr=parsed.from_.email if parsed.from_ else "",
        from_name=parsed.from_.name if parsed.from_ else "",
        to_addrs=" ".join(a.email for a in parsed.to),
        cc_addrs=" ".join(a.email for a in parsed.cc),
        subject=parsed.subject,
        in_reply_to=" ".join(parsed.in_reply_to),
        references=" ".join(parsed.references),
        body_text=parsed.text,
        body_html=parsed.html,
        attachments=[{"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in parsed.attachments],
    )
    return fields
