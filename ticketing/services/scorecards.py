"""An engagement's scorecard: its success metrics and health (:mod:`ticketing.core.metrics`) from what
the store holds of it: its tasks, its meetings and its customers' survey answers, measured on its
engineer's business calendar against its playbook's ``[success]`` targets.

``whiteglove engagement ID`` and the weekly summary's portfolio read it; it changes nothing.
"""
from __future__ import annotations

from datetime import datetime

from ticketing.config import Config
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Engagement
from ticketing.core.metrics import EngagementMetrics, measure
from ticketing.core.playbooks import Playbook, contacts_in_role
from ticketing.core.tasks import Task
from ticketing.services.engineers import engineer_calendar
from ticketing.store import SqlStore


class Scorecards:
    def __init__(self, store: SqlStore, config: Config, calendars: dict[str, BusinessCalendar],
                 playbooks: dict[str, Playbook]):
        self.store = store
        self.config = config
        self.calendars = calendars
        self.playbooks = playbooks

    def calendar(self, engagement: Engagement) -> BusinessCalendar:
        """The engagement's engineer's business calendar, else the configuration's first."""
        return engineer_calendar(self.config, self.calendars, engagement.engineer)

    def playbook(self, engagement: Engagement) -> Playbook | None:
        return self.playbooks.get(engagement.playbook or "")

    def measure(self, engagement: Engagement, now: datetime) -> EngagementMetrics:
        """The engagement's metrics and health as of ``now`` (as of its close, once closed)."""
        scores = [answer.score for answer in self.store.survey_answers(engagement.id)]
        return measure(engagement, self.playbook(engagement), self.store.tasks(engagement.id),
                       self.store.meetings(engagement.id), scores, now, self.calendar(engagement))

    def owner_words(self, engagement: Engagement, task: Task) -> str:
        """Who owns ``task``, in words: the engineer's name; the contacts with its customer role and the
        account ("Marcus Lee (Acme)"), or the role and the account when none has it ("Acme (IT)")."""
        engineer = self.config.engineer(engagement.engineer or "")
        if task.owner == "engineer":
            return engineer.name if engineer and engineer.name else engagement.engineer or "no engineer"
        if task.owner == "project_manager":
            return (engineer.project_manager if engineer and engineer.project_manager else "project manager")
        if task.owner == "sales_rep":
            return engagement.sales_rep or "sales rep"
        account = self.store.get_account(engagement.account_id) if engagement.account_id else None
        wanted = task.owner.partition(":")[2]
        names = [c.name or c.email for c in contacts_in_role(task.owner, account.contacts if account else ())]
        if wanted != "all" and names:
            return f"{', '.join(names)} ({engagement.account})"
        role = "customer" if wanted == "all" else wanted.replace("-", " ")
        return f"{engagement.account} ({role.upper() if len(role) <= 3 else role})"
