"""Queueing outgoing mail with the change that caused it.

:class:`Outbox` queues a :class:`~ticketing.core.mails.Draft` as data in the same transaction as
the caller's change, under a Message-ID made from its cause and signed with the installation's
key; :mod:`ticketing.services.outbox_sender` composes and sends it. Also here: composing a stored
draft into bytes, and which addresses mail may go to.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

from mailer import (
    Address,
    compose,
    make_message_id,
    safe_address,
)
from ticketing.core.domain import Account, OutboxStatus
from ticketing.core.mails import Draft, Rendering, Support, Templates
from ticketing.store import SqlStore

log = logging.getLogger(__name__)

#: ``wg.TOKEN`` is cut to this length before ``.SIGN`` (a Message-ID token is at most 128 characters).
_LONGEST_LOCAL = 118


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
