"""The end of an engagement: its summaries, once it is closed (service layer).

:meth:`EngagementSummaries.sweep` is the worker's job (every 15 minutes): for each closed
engagement it queues, once (Message-IDs made from the engagement), the internal summary to the
engineer and the managers (``[[managers]]``), and the customer's summary to the account's contacts
when the playbook asks for one (``[summary] customer_summary = true``). Its figures and health
verdict are the engagement's metrics as of its close (:class:`~ticketing.services.scorecards.Scorecards`,
as ``whiteglove engagement ID`` shows them); :mod:`ticketing.core.engagement_summary` adds the names
behind them, gathered here from the store: the meetings, the tasks, the account's tickets opened
between the start and the close with their SLA states, and the survey answers given so far. An
engagement learnt from history gets neither.
"""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from mailer import Address
from ticketing.config import Config
from ticketing.core.calendars import BusinessCalendar, zone
from ticketing.core.domain import Engagement, TicketKind
from ticketing.core.engagement_summary import (
    Answer,
    EngagementSummary,
    customer_context,
    summarize,
    summary_context,
)
from ticketing.core.mails import Mails
from ticketing.core.playbooks import Playbook
from ticketing.core.survey_mails import customer_summary, engagement_summary
from ticketing.core.words import hours_in_words, names_in_words
from ticketing.services.outbox import Outbox, mailable_contacts
from ticketing.services.scorecards import Scorecards
from ticketing.services.surveys import is_history
from ticketing.store import SqlStore

log = logging.getLogger(__name__)


class EngagementSummaries:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox,
                 calendars: dict[str, BusinessCalendar], playbooks: dict[str, Playbook]):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.playbooks = playbooks
        self.scorecards = Scorecards(store, config, calendars, playbooks)

    def sweep(self, now: datetime) -> int:
        """The worker's job: queue the summaries of engagements closed since; return how many mails were queued."""
        queued = 0
        for engagement in self.store.engagements():
            if engagement.active or engagement.closed_at is None:
                continue
            playbook = self.playbooks.get(engagement.playbook or "")
            wanted = [f"engagement-summary.{engagement.id}"]
            if playbook is not None and playbook.customer_summary:
                wanted.append(f"customer-summary.{engagement.id}")
            if all(self.outbox.queued_before(t) for t in wanted):
                continue
            with self.store.transaction():
                if is_history(self.store, engagement):
                    continue
                queued += self._send(engagement, playbook, now)
        return queued

    def summary(self, engagement: Engagement, now: datetime) -> EngagementSummary:
        """The engagement's metrics as of its close (``now`` while it is open) and the names behind them,
        on its engineer's calendar."""
        tickets = [t for t in self.store.list_tickets(status="all", account=engagement.account)
                   if t.kind is not TicketKind.CONTRACT_CLOSED and engagement.created_at <= t.created_at
                   and (engagement.closed_at is None or t.created_at <= engagement.closed_at)]
        answers = [Answer(a.email, a.score, a.comment) for a in self.store.survey_answers(engagement.id)]
        return summarize(engagement, self.scorecards.measure(engagement, now), self.store.meetings(engagement.id),
                         self.store.tasks(engagement.id), tickets, answers, self.scorecards.calendar(engagement))

    def _send(self, engagement: Engagement, playbook: Playbook | None, now: datetime) -> int:
        facts = self.summary(engagement, now)
        engineer = self.config.engineer(engagement.engineer or "")
        engineer_name = engineer.name if engineer else self.mails.support.name
        tz = ZoneInfo(engineer.timezone) if engineer and engineer.timezone != "UTC" else self.scorecards.calendar(engagement).tz
        title = playbook.title if playbook else "no playbook"
        ours = [Address(engineer.name, engineer.email)] if engineer else []
        managers = [Address(m.name, m.email) for m in self.config.managers
                    if m.email.lower() not in {a.email.lower() for a in ours}]
        queued = 0
        if ours or managers:
            draft = engagement_summary(self.mails, engagement, ours or managers,
                                       summary_context(facts, title, engineer_name, tz), cc=managers if ours else ())
            queued += self.outbox.queue(draft, now, engagement_id=engagement.id) is not None
        if playbook is not None and playbook.customer_summary:
            queued += self._customer(engagement, playbook, facts, engineer_name, ours, now)
        if queued:
            log.info("engagement %s closed: %s summary mail(s) queued", engagement.id, queued)
        return queued

    def _customer(self, engagement: Engagement, playbook: Playbook, facts: EngagementSummary, engineer_name: str,
                  ours: list[Address], now: datetime) -> int:
        account = self.store.get_account(engagement.account_id) if engagement.account_id else None
        contacts = mailable_contacts(account)
        if not contacts:
            return 0
        customer_tz = zone(account.timezone if account else None) or ZoneInfo("UTC")
        calendar = self.scorecards.calendar(engagement)
        hours = hours_in_words(calendar, customer_tz, now.astimezone(calendar.tz).date())
        context = customer_context(facts, {s.key for s in playbook.meetings if s.internal}, engineer_name,
                                   names_in_words([a.name or a.email for a in contacts]), hours, customer_tz)
        draft = customer_summary(self.mails, engagement, contacts, context, cc=ours)
        return int(self.outbox.queue(draft, now, engagement_id=engagement.id) is not None)
