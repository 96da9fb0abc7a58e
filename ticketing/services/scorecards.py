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
from ticketing.core.playbooks import Playbook
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
        person = self.config.engineer(engagement.engineer or "")
        return self.calendars[(person.calendar if person else None) or self.config.calendar(None).name]

    def playbook(self, engagement: Engagement) -> Playbook | None:
        return self.playbooks.get(engagement.playbook or "")

    def measure(self, engagement: Engagement, now: datetime) -> EngagementMetrics:
        """The engagement's metrics and health as of ``now`` (as of its close, once closed)."""
        scores = [answer.score for answer in self.store.survey_answers(engagement.id)]
        return measure(engagement, self.playbook(engagement), self.store.tasks(engagement.id),
                       self.store.meetings(engagement.id), scores, now, self.calendar(engagement))
