"""The outbox: composed mail waiting to be sent, and the record of what was sent.

A message is queued in the same transaction as the change that caused it, with its Message-ID
(unique), so a cause can never queue it twice and a resend after a crash carries the same id.
The sender claims due messages (``sending``, with its worker's name and a lease of seconds that it
renews while it sends) before it talks to the server and records the result after; a claim whose
lease ran out is from a worker that died, and is taken by the next pass of any worker.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

import peewee as pw

from ticketing.core.domain import OutboxStatus, OutgoingMail, Refusal

QUEUED, SENDING, SENT, FAILED = (OutboxStatus.QUEUED.value, OutboxStatus.SENDING.value, OutboxStatus.SENT.value,
                                 OutboxStatus.FAILED.value)  # as stored
SUPPRESSED = OutboxStatus.SUPPRESSED.value
_NOT_SENDING = [SUPPRESSED, OutboxStatus.HELD.value]  # what the loop limits do not count: never sent


class OutboxMixin:
    db: pw.Database

    def queue_mail(self, *, message_id: str, purpose: str, ticket_id: int | None, recipients: Sequence[str],
                   envelope_from: str, subject: str, draft: str, now: datetime, engagement_id: int | None = None,
                   held: bool = False, suppressed: str | None = None) -> bool:
        """Queue one message (as a draft, composed when first sent); False when its Message-ID is queued already.

        ``suppressed``: the reason it is not to be sent (a loop limit); it is recorded as never sent.
        """
        m = self.m
        return self._insert.unless_present(m.OutboundMessage, dict(
            message_id=message_id, ticket=ticket_id, purpose=purpose, recipients=" ".join(recipients),
            subject=subject, raw=b"", attempts=0, next_attempt_at=now, last_error=suppressed or "",
            status=SUPPRESSED if suppressed else OutboxStatus.HELD.value if held else QUEUED,
            created_at=now, sent_at=None, envelope_from=envelope_from, engagement=engagement_id, draft=draft,
        ), m.OutboundMessage.message_id)  # a twin queued by another worker at this moment: "queued before"

    def outbox_has(self, message_id: str) -> bool:
        m = self.m
        return bool(self.rows("outbound by message id", lambda: m.OutboundMessage.select(m.OutboundMessage.id)
                              .where(m.OutboundMessage.message_id == ""), message_id))

    def mail_status(self, message_id: str) -> OutboxStatus | None:
        """The state of the outgoing mail with ``message_id``; None when there is none."""
        m = self.m
        row = m.OutboundMessage.select(m.OutboundMessage.status).where(m.OutboundMessage.message_id == message_id).first()
        return OutboxStatus(row.status) if row is not None else None

    def outgoing_with_ids(self, message_ids: Sequence[str]) -> list[OutgoingMail]:
        """The outgoing mail with one of ``message_ids`` (without angle brackets; the first 20)."""
        m = self.m
        wanted = [i for i in dict.fromkeys(message_ids) if i and len(i) <= 500][:20]
        if not wanted:
            return []
        o = m.OutboundMessage
        columns = (o.id, o.message_id, o.ticket, o.purpose, o.recipients, o.subject, o.status, o.attempts,
                   o.next_attempt_at, o.last_error, o.created_at, o.sent_at)  # not the bytes
        return [_mail(row) for row in o.select(*columns).where(o.message_id.in_(wanted))]

    def drafts(self, purposes: Sequence[str], *, engagement_id: int | None = None,
               message_ids: Sequence[str] | None = None) -> list[tuple[str, str, int | None, str]]:
        """(message id, purpose, engagement, draft) of the outgoing mail of ``purposes``, of the
        engagement ``engagement_id`` and/or with one of ``message_ids``, oldest first (what a
        reminder listed is in its draft)."""
        m = self.m
        query = m.OutboundMessage.select(m.OutboundMessage.message_id, m.OutboundMessage.purpose,
                                         m.OutboundMessage.engagement, m.OutboundMessage.draft).where(
            m.OutboundMessage.purpose.in_(list(purposes))).order_by(m.OutboundMessage.id)
        if engagement_id is not None:
            query = query.where(m.OutboundMessage.engagement == engagement_id)
        if message_ids is not None:
            query = query.where(m.OutboundMessage.message_id.in_(list(message_ids)[:100] or [""]))
        return [(row.message_id, row.purpose, row.engagement_id, row.draft) for row in query]

    def has_held_mail(self, engagement_id: int) -> bool:
        """Whether mail of the engagement was held: history (a backfill, mail from before the start
        mark) started it, and its customer never heard from us."""
        m = self.m
        return (m.OutboundMessage.select(m.OutboundMessage.id).where(
            (m.OutboundMessage.engagement == engagement_id) & (m.OutboundMessage.status == OutboxStatus.HELD.value))
            .exists())

    def set_raw(self, mail_id: int, raw: bytes) -> None:
        """Keep the composed bytes of a message, so that every attempt sends the same ones."""
        m = self.m
        m.OutboundMessage.update(raw=raw).where(m.OutboundMessage.id == mail_id).execute()

    def outbox_content(self, mail_id: int) -> tuple[bytes, str]:
        """The composed bytes of a message (empty before its first attempt) and its draft."""
        m = self.m
        row = m.OutboundMessage.select(m.OutboundMessage.raw, m.OutboundMessage.draft).where(m.OutboundMessage.id == mail_id).get()
        return bytes(row.raw), row.draft

    def claim_due_mail(self, now: datetime, limit: int, lease: timedelta,
                       owner: str = "") -> list[tuple[OutgoingMail, bytes, str, str]]:
        """Claim for ``owner`` up to ``limit`` messages due by ``now``, and claims whose lease ended.

        A claim is a lease: the row is ``sending``, ``claimed_by`` the owner, until ``now + lease``
        (kept in ``next_attempt_at``), which :meth:`renew_claims` moves on while the owner sends.
        Returns each with its bytes (empty until first composed), envelope sender and draft.
        """
        m = self.m
        with self.db.atomic():
            # One ordered index range per status ((status, next_attempt_at)), merged: a single query
            # over both statuses would sort every due row, a backlog of thousands, for each batch.
            rows = []
            for status in (QUEUED, SENDING):
                query = (m.OutboundMessage.select()
                         .where((m.OutboundMessage.status == status) & (m.OutboundMessage.next_attempt_at <= now))
                         .order_by(m.OutboundMessage.next_attempt_at, m.OutboundMessage.id).limit(limit))
                if isinstance(self.db, pw.PostgresqlDatabase):
                    # Two workers never claim the same message; neither waits for the other's rows.
                    query = query.for_update("FOR UPDATE SKIP LOCKED")
                rows.extend(query)
            rows = sorted(rows, key=lambda r: (r.next_attempt_at, r.id))[:limit]
            if rows:
                (m.OutboundMessage.update(status=SENDING, next_attempt_at=now + lease, claimed_by=owner)
                 .where(m.OutboundMessage.id.in_([r.id for r in rows])).execute())
        return [(_mail(row), bytes(row.raw), row.envelope_from, row.draft) for row in rows]

    def renew_claims(self, mail_ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        """Extend ``owner``'s lease on ``mail_ids`` to ``until``; return those still its own (a claim
        whose lease ran out may have been taken by another worker, which then sends it)."""
        m = self.m
        if not mail_ids:
            return set()
        mine = (m.OutboundMessage.id.in_(list(mail_ids)) & (m.OutboundMessage.status == SENDING)
                & (m.OutboundMessage.claimed_by == owner))
        with self.db.atomic():
            m.OutboundMessage.update(next_attempt_at=until).where(mine).execute()
            return {row.id for row in m.OutboundMessage.select(m.OutboundMessage.id).where(mine)}

    def claim_owners(self) -> set[str]:
        """The workers that hold claims on outgoing mail now."""
        m = self.m
        query = (m.OutboundMessage.select(m.OutboundMessage.claimed_by).distinct()
                 .where(m.OutboundMessage.status == SENDING))
        return {owner for (owner,) in query.tuples()}

    def release_claims(self, owner: str, now: datetime) -> int:
        """Give ``owner``'s claims back to the queue, due at ``now`` (a worker that died holds them);
        return how many. No attempt is counted: a message it had sent goes again, with its Message-ID."""
        m = self.m
        return (m.OutboundMessage.update(status=QUEUED, next_attempt_at=now, claimed_by="")
                .where((m.OutboundMessage.status == SENDING) & (m.OutboundMessage.claimed_by == owner)).execute())

    def mark_sent(self, mail_ids: Sequence[int], now: datetime, note: str = "") -> None:
        """Record ``mail_ids`` as sent at ``now``: one statement for a batch."""
        m = self.m
        m.OutboundMessage.update(status=SENT, sent_at=now, attempts=m.OutboundMessage.attempts + 1, last_error=note).where(
            m.OutboundMessage.id.in_(list(mail_ids))).execute()

    def mark_retry(self, mail_id: int, error: str, next_attempt_at: datetime) -> None:
        m = self.m
        m.OutboundMessage.update(status=QUEUED, attempts=m.OutboundMessage.attempts + 1, last_error=error,
                                 next_attempt_at=next_attempt_at).where(m.OutboundMessage.id == mail_id).execute()

    def mark_failed(self, mail_id: int, error: str) -> None:
        m = self.m
        m.OutboundMessage.update(status=FAILED, attempts=m.OutboundMessage.attempts + 1, last_error=error).where(
            m.OutboundMessage.id == mail_id).execute()

    def count_engagement_mail(self, engagement_id: int, purpose: str) -> int:
        """How many mails of ``purpose`` were queued for the engagement: a notice's version number."""
        m = self.m
        return m.OutboundMessage.select().where((m.OutboundMessage.engagement == engagement_id)
                                                & (m.OutboundMessage.purpose == purpose)).count()

    def outbox(self, status: OutboxStatus | None = None, ticket_id: int | None = None,
               after: int | None = None) -> list[OutgoingMail]:
        """Outgoing mail by number; ``after``: only what was queued after that number."""
        m = self.m
        query = m.OutboundMessage.select().order_by(m.OutboundMessage.id)
        if after is not None:
            query = query.where(m.OutboundMessage.id > after)
        if status:
            query = query.where(m.OutboundMessage.status == OutboxStatus(status).value)
        if ticket_id is not None:
            query = query.where(m.OutboundMessage.ticket == ticket_id)
        return [_mail(row) for row in query]

    def last_outgoing_id(self) -> int:
        """The number of the newest outgoing message (0 when there is none)."""
        return self.m.OutboundMessage.select(pw.fn.MAX(self.m.OutboundMessage.id)).scalar() or 0

    def outgoing(self, mail_id: int) -> OutgoingMail | None:
        """One outgoing message by its number, or None."""
        row = self.m.OutboundMessage.get_or_none(self.m.OutboundMessage.id == mail_id)
        return _mail(row) if row is not None else None

    def requeue(self, mail_id: int, now: datetime) -> bool:
        """Put a failed message back in the queue (an operator's retry)."""
        m = self.m
        count = (m.OutboundMessage.update(status=QUEUED, next_attempt_at=now, attempts=0)
                 .where((m.OutboundMessage.id == mail_id) & (m.OutboundMessage.status == FAILED)).execute())
        return bool(count)

    def sent_count(self, purpose: str, recipient: str, since: datetime) -> int:
        """How many ``purpose`` messages went (or are going) to ``recipient`` since ``since``."""
        m = self.m
        since_value = m.OutboundMessage.created_at.db_value(since)
        [(count,)] = self.rows("sent count", lambda: m.OutboundMessage.select(pw.fn.COUNT(m.OutboundMessage.id)).where(
            (m.OutboundMessage.purpose == "") & (m.OutboundMessage.recipients == "")
            & (m.OutboundMessage.created_at >= since)), purpose, recipient, since_value)
        return count

    def answers_to_thread(self, ticket_id: int, purposes: Sequence[str], since: datetime) -> int:
        """How many mails of ``purposes`` of ticket ``ticket_id`` went (or are going) since ``since``;
        what a loop limit stopped, and what history caused (held), does not count (by the ticket's index).
        Asked for every answer queued: a statement prepared once."""
        o = self.m.OutboundMessage
        purposes = list(purposes)
        [(count,)] = self.rows(f"answers to thread/{len(purposes)}", lambda: o.select(pw.fn.COUNT(o.id)).where(
            (o.ticket == 0) & o.purpose.in_([""] * len(purposes)) & (o.created_at >= since)
            & o.status.not_in([""] * len(_NOT_SENDING))),
            ticket_id, *purposes, o.created_at.db_value(since), *_NOT_SENDING)
        return count

    def answers_to(self, recipient: str, purposes: Sequence[str], since: datetime) -> int:
        """How many mails of ``purposes`` addressed to ``recipient`` alone went (or are going) since
        ``since``, stopped ones aside. Mail to several people counts on its thread only: the
        (purpose, recipients, created_at) index answers this without a scan."""
        o = self.m.OutboundMessage
        purposes = list(purposes)
        [(count,)] = self.rows(f"answers to/{len(purposes)}", lambda: o.select(pw.fn.COUNT(o.id)).where(
            o.purpose.in_([""] * len(purposes)) & (o.recipients == "") & (o.created_at >= since)
            & o.status.not_in([""] * len(_NOT_SENDING))),
            *purposes, recipient, o.created_at.db_value(since), *_NOT_SENDING)
        return count

    def postpone_mail(self, mail_ids: Sequence[int], until: datetime, error: str | None = None) -> None:
        """Give claimed messages back to the queue, due at ``until``, without counting an attempt."""
        m = self.m
        changes = {m.OutboundMessage.status: QUEUED, m.OutboundMessage.next_attempt_at: until}
        if error is not None:
            changes[m.OutboundMessage.last_error] = error
        for chunk in pw.chunked(list(mail_ids), 500):
            m.OutboundMessage.update(changes).where(
                m.OutboundMessage.id.in_(chunk) & (m.OutboundMessage.status == SENDING)).execute()

    # -- refused recipients -----------------------------------------------------------------------

    def record_refusal(self, mail_id: int, recipients: Sequence[str], said: str, now: datetime) -> None:
        """Keep the recipients the server refused for good, until :meth:`refusal_alerted`."""
        m = self.m
        self._insert(m.Refusal, dict(mail=mail_id, recipients=" ".join(recipients), said=said, created_at=now,
                                     alerted_at=None))

    def pending_refusals(self) -> list[Refusal]:
        """The refusals whose engineers have not been told yet, oldest first."""
        m = self.m
        query = (m.Refusal.select(m.Refusal.id, m.Refusal.mail, m.OutboundMessage.ticket, m.Refusal.recipients,
                                  m.Refusal.said)
                 .join(m.OutboundMessage).where(m.Refusal.alerted_at.is_null()).order_by(m.Refusal.id))
        return [Refusal(id, mail, ticket, tuple(recipients.split()), said)
                for id, mail, ticket, recipients, said in query.tuples()]

    def refusal_alerted(self, refusal_id: int, now: datetime) -> None:
        m = self.m
        m.Refusal.update(alerted_at=now).where(m.Refusal.id == refusal_id).execute()


def _mail(row) -> OutgoingMail:
    return OutgoingMail(
        id=row.id, message_id=row.message_id, ticket_id=row.ticket_id, purpose=row.purpose,
        recipients=tuple(row.recipients.split()), subject=row.subject, status=OutboxStatus(row.status), attempts=row.attempts,
        next_attempt_at=row.next_attempt_at, last_error=row.last_error, created_at=row.created_at, sent_at=row.sent_at,
    )
