"""The weekly check-point mail to the customer (the worker's job), for playbooks that ask for it
(``checkpoint_mail = "weekly"``, :mod:`ticketing.files.playbook_checkpoint`).

On the customer's first business day of each week, in their business hours, the contacts of each
active engagement get one mail from the engineer's side (the engineer and any project manager in
copy, as the welcome): the checklist's tasks done in the last week and so far, what is due in the
next two weeks (theirs and ours, late ones first), and the meetings in the next two weeks, times in
the customer's zone. Its Message-ID is made from the engagement and the ISO week, so it goes once
a week whatever restarts happen; the week the engagement began has none (the welcome said it all).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ticketing.config import Config
from ticketing.core.domain import MeetingStatus
from ticketing.core.mails import Draft, Mails
from ticketing.core.planner import local_label
from ticketing.core.reminders import checkpoint_due
from ticketing.core.tasks import TaskStatus
from ticketing.core.weeks import iso_week_label
from ticketing.core.words import names_in_words, zone_label
from ticketing.services.engagement_setting import Setting, Settings
from ticketing.services.engagement_tasks import welcome_tasks
from ticketing.services.outbox import Outbox
from ticketing.store import SqlStore

log = logging.getLogger(__name__)
#: How far ahead the check-point looks for tasks and meetings.
AHEAD = timedelta(days=14)


class Checkpoints:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox, settings: Settings):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.settings = settings

    def sweep(self, now: datetime) -> int:
        """Queue the check-points due at ``now``; return how many."""
        queued = 0
        for engagement in self.store.engagements():
            playbook = self.settings.onboarding.playbooks.get(engagement.playbook or "")
            if not engagement.active or playbook is None or playbook.checkpoint_mail != "weekly":
                continue
            setting = self.settings.of(engagement)
            if setting.from_history or not checkpoint_due(now, setting.customer, setting.began):
                continue
            with self.store.transaction():
                if self.queue(setting, now):
                    queued += 1
        return queued

    def token(self, setting: Setting, now: datetime) -> str:
        return f"checkpoint.{setting.engagement.id}.{iso_week_label(now.astimezone(setting.customer_tz).date())}"

    def queue(self, setting: Setting, now: datetime) -> str | None:
        """Queue this week's check-point of the engagement; None when it went already or there is
        nobody to send it to."""
        engagement = setting.engagement
        if self.outbox.queued_before(self.token(setting, now)):
            return None
        to = self.settings.people("customer:all", setting)
        if not to:
            return None
        cc = [a for role in ("engineer", "project_manager") for a in self.settings.people(role, setting)]
        engineer = self.config.engineer(engagement.engineer or "")
        engineer_name = engineer.name if engineer else self.mails.support.name
        body = self.mails.render(
            "checkpoint", greeting=names_in_words([a.name or a.email for a in to]), account=engagement.account,
            engineer_name=engineer_name, **self.facts(setting, now),
        )
        draft = Draft("checkpoint", self.token(setting, now), tuple(to),
                      f"Weekly check-point: the onboarding of {engagement.account}", body, engagement.ticket_id,
                      from_name=f"{engineer_name} via {self.mails.support.name}", reply_to=self.mails.support.mailbox,
                      cc=tuple(cc), auto_submitted="auto-generated")
        queued = self.outbox.queue(draft, now, engagement_id=engagement.id)
        if queued:
            log.info("engagement %s: weekly check-point queued", engagement.id)
        return queued

    def facts(self, setting: Setting, now: datetime) -> dict:
        """What the check-point says: done (this week and so far), due next, the meetings ahead."""
        tz = setting.customer_tz
        today = now.astimezone(tz).date()
        tasks = [t for t in self.store.tasks(setting.engagement.id) if t.customer_visible]

        def words(chosen):
            return welcome_tasks(chosen, lambda role: self.settings.people(role, setting))

        done = [t for t in tasks if t.status is TaskStatus.DONE]
        recent = [t for t in done if t.done_at is not None and t.done_at >= now - timedelta(days=7)]
        ahead = sorted((t for t in tasks if t.status is not TaskStatus.DONE and t.due is not None
                        and t.due <= today + AHEAD), key=lambda t: (t.due, t.key))
        late = {t.key for t in ahead if t.due < today}
        blocked = {t.key: t.note for t in ahead if t.status is TaskStatus.BLOCKED}
        next_up = [dict(view, late=t.key in late, blocked=blocked.get(t.key)) for t, view in zip(ahead, words(ahead))]
        internal = set()
        if setting.playbook is not None:
            internal = {s.key for s in setting.playbook.meetings if s.internal}
        meetings = [m for m in self.store.meetings(setting.engagement.id)
                    if m.status is MeetingStatus.PLANNED and m.start and now <= m.start < now + AHEAD
                    and m.key.partition("#")[0] not in internal]
        return dict(
            done_this_week=words(recent), done_count=len(done), task_count=len(tasks), next_up=next_up,
            meetings=[{"title": m.title, "when": local_label(m.start, m.end, tz)}
                      for m in sorted(meetings, key=lambda m: m.start)],
            customer_zone=zone_label(tz, now),
        )
