"""The 0-10 survey of an engagement: sent once when its playbook says, answers recorded (service layer).

:meth:`Surveys.sweep` is the worker's job (every 15 minutes): for each engagement whose playbook has
a ``[survey]``, once its moment has come and the customer is at work
(:func:`ticketing.core.surveys.survey_due`), it queues the question to the account's contacts whose
mail does not bounce, under a Message-ID made from the engagement, so it goes once whatever
restarts happen. An engagement learnt from history (its hand-off mail was held) is never surveyed.

:meth:`Surveys.answered` runs for a customer's reply (the help desk's own sender checks passed: the
sender belongs on the ticket): when it answers the survey (In-Reply-To or References name the
survey's Message-ID), comes from a contact of the engagement's account and holds a score
(:func:`ticketing.core.survey_reply.read_score`), the answer is recorded (a later one replaces it),
the hand-off ticket's log gets a ``survey_answered`` event and the engineer one short mail. Any other
reply goes on as an ordinary customer reply: never lost, never quarantined.
"""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from mailer import Address
from ticketing.config import Config
from ticketing.core.calendars import BusinessCalendar, zone
from ticketing.core.classify import Classification
from ticketing.core.domain import Engagement, EventKind, MessageKind, OutboxStatus
from ticketing.core.mails import Mails
from ticketing.core.playbooks import Playbook
from ticketing.core.survey_mails import survey, survey_answer, survey_token
from ticketing.core.survey_reply import read_score
from ticketing.core.surveys import survey_due, survey_trigger
from ticketing.core.threads import thread_ids
from ticketing.services.customer_week import customer_day, customer_week
from ticketing.services.inbound import Handled, Inbound
from ticketing.services.outbox import Outbox, mailable_contacts
from ticketing.services.ticket_log import TicketLog
from ticketing.store import SqlStore

log = logging.getLogger(__name__)


class Surveys:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox,
                 playbooks: dict[str, Playbook]):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.playbooks = playbooks
        self.customer_day = customer_day(config)

    # -- sending ----------------------------------------------------------------------------------

    def sweep(self, now: datetime) -> int:
        """The worker's job: queue each survey whose time has come; return how many were queued."""
        queued = 0
        for engagement in self.store.engagements():
            playbook = self.playbooks.get(engagement.playbook or "")
            if playbook is None or playbook.survey is None:
                continue
            if self.store.count_engagement_mail(engagement.id, "survey"):
                continue  # asked already (contacts who joined since are not asked)
            with self.store.transaction():
                if self._send(engagement, playbook, now):
                    queued += 1
                    log.info("survey of engagement %s queued", engagement.id)
        return queued

    def _send(self, engagement: Engagement, playbook: Playbook, now: datetime) -> bool:
        account = self.store.get_account(engagement.account_id) if engagement.account_id else None
        customer = self.customer_week(engagement, account)
        trigger = survey_trigger(playbook.survey, engagement, self.store.meetings(engagement.id), customer)
        if not survey_due(trigger, engagement.created_at, now, customer) or is_history(self.store, engagement):
            return False
        contacts = mailable_contacts(account)
        if not contacts:
            return False
        engineer = self.config.engineer(engagement.engineer or "")
        queued = [self.outbox.queue(survey(self.mails, engagement, contact, question=playbook.survey.question,
                                           engineer_name=engineer.name if engineer else self.mails.support.name),
                                    now, engagement_id=engagement.id) for contact in contacts]
        return any(q is not None for q in queued)

    def customer_week(self, engagement: Engagement, account) -> BusinessCalendar:
        tz = zone(account.timezone if account else None) or ZoneInfo("UTC")
        return customer_week(self.config, self.store, engagement, account, tz, self.customer_day)

    # -- answers ----------------------------------------------------------------------------------

    def answered(self, inbound: Inbound, c: Classification, text: str, ticket_log: TicketLog) -> Handled | None:
        """Record a customer's reply to the survey that holds a score (see the module docstring);
        None when it is not one, for the help desk to handle as an ordinary reply."""
        parsed = inbound.parsed
        if parsed.from_ is None or c.ticket_id is None:
            return None
        engagement = self.store.engagement_of_ticket(c.ticket_id)
        if engagement is None:
            return None
        sender = parsed.from_.email.lower()
        account = self.store.get_account(engagement.account_id) if engagement.account_id else None
        asked = {i for x in (account.contacts if account else ()) for i in self.outbox.message_ids(survey_token(engagement.id, x.email))}
        if not asked & set(thread_ids(parsed)):
            return None
        contact = next((x for x in (account.contacts if account else ()) if x.email.lower() == sender), None)
        if contact is None:
            return None
        found = read_score(text)
        if found is None:
            return None
        now = inbound.now
        self.store.save_survey_answer(engagement.id, sender, found.score, found.comment, inbound.received_at)
        ticket_log.event(c.ticket_id, EventKind.SURVEY_ANSWERED, inbound.received_at, sender,
                         engagement=engagement.id, score=found.score, comment=found.comment[:500])
        self.store.touch_ticket(c.ticket_id, now)
        ticket = self.store.get_ticket(c.ticket_id)
        who = f"{contact.name} <{contact.email}>" if contact.name else contact.email
        for email in [engagement.engineer] if engagement.engineer else [m.email for m in self.config.managers]:
            person = self.config.person(email)
            self.outbox.queue(survey_answer(
                self.mails, ticket, Address(person.name if person else "", email), inbound_pk=inbound.row_id,
                engagement=engagement, customer=who, score=found.score, comment=found.comment,
                thread=self.store.engineer_thread(ticket.id)), now)
        log.info("survey answer %s/10 recorded for engagement %s", found.score, engagement.id)
        return Handled(MessageKind.REPLY, ticket.id, c.reasons + (f"survey answer: {found.score}/10",))


def is_history(store: SqlStore, engagement: Engagement) -> bool:
    """Whether the engagement was learnt from history: mail of its hand-off ticket was held, never sent."""
    return engagement.ticket_id is not None and bool(store.outbox(status=OutboxStatus.HELD, ticket_id=engagement.ticket_id))
