"""Whether a bounce is about mail we sent (pure).

Anyone can send a delivery report naming any address; only one that returns mail we sent to that
address counts against it. A report names the mail it returns by the returned message's
Message-ID (:attr:`mailer.ParsedMessage.returned_message_ids`, read from its message/rfc822 or
text/rfc822-headers part, or the headers a free-text bounce quotes); every Message-ID we send is in
the outbox with its recipients. A recipient counts only when a returned id is mail of ours that went
to a server (not held, not still waiting for its first attempt) and was addressed to them.

The envelope sender (VERP) is not used: Microsoft Graph and EWS send from the mailbox itself, and
plus-addressing must be enabled on the receiving server for ``support+bounce-…@`` to reach the
support mailbox; the returned Message-ID needs neither. Its limit: our Message-IDs are made from
their cause (``wg.ack.42@…``), so someone who has seen one of a contact's mails, or guesses its
number, can still forge a bounce of it; a keyed digest in the ids would close that.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ticketing.core.domain import OutboxStatus, OutgoingMail


@dataclass(frozen=True)
class BounceMatch:
    """The failed recipients that count, the mail of ours they were returned from, and why."""

    recipients: tuple[str, ...]
    mail: tuple[OutgoingMail, ...]
    reason: str

    @property
    def counts(self) -> bool:
        return bool(self.recipients)

    @property
    def ticket_id(self) -> int | None:
        """The ticket of the first returned mail that belongs to one."""
        return next((m.ticket_id for m in self.mail if m.ticket_id is not None), None)


def went_out(mail: OutgoingMail) -> bool:
    """Whether ``mail`` was handed to a server (at least tried). Not compared with the bounce's
    arrival: a mailbox's arrival times have whole seconds and its own clock, and a bounce is
    handled after it arrived, so mail that has not gone out by then cannot be what it returns."""
    return mail.status in (OutboxStatus.SENT, OutboxStatus.SENDING) or (
        mail.status is not OutboxStatus.HELD and mail.attempts > 0)


def match_bounce(failed: Sequence[str], returned_ids: Sequence[str], ours: Iterable[OutgoingMail]) -> BounceMatch:
    """Which of the ``failed`` recipients a bounce that returns ``returned_ids`` may count against.

    ``ours`` is the outgoing mail with those ids (what the outbox holds of them). Recipients are
    compared without case.
    """
    if not returned_ids:
        return BounceMatch((), (), "matches nothing we sent: it returns no Message-ID")
    sent = [m for m in ours if m.message_id in returned_ids and went_out(m)]
    if not sent:
        return BounceMatch((), (), f"matches nothing we sent: <{returned_ids[0]}> is not mail of ours that went out")
    addressed = {r.lower() for m in sent for r in m.recipients}
    counted = tuple(r for r in failed if r.lower() in addressed)
    if not counted:
        names = ", ".join(failed) or "no recipient"
        return BounceMatch((), tuple(sent), f"matches nothing we sent: <{sent[0].message_id}> did not go to {names}")
    return BounceMatch(counted, tuple(sent), f"returns our <{sent[0].message_id}> to {', '.join(counted)}")
