"""An engagement's milestones (went live, signed off, closed) and its customers' survey answers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import peewee as pw

from ticketing.core.domain import EngagementStatus


@dataclass(frozen=True)
class SurveyAnswer:
    email: str
    score: int  # 0-10
    comment: str
    answered_at: datetime


class MilestonesMixin:
    db: pw.Database

    def set_live(self, engagement_id: int, day: date | None) -> None:
        """Record the day the engagement went live (None: not live after all)."""
        m = self.m
        m.Engagement.update(live_on=day).where(m.Engagement.id == engagement_id).execute()

    def set_signoff(self, engagement_id: int, day: date, by: str) -> None:
        """Record the customer's sign-off: the day, and who gave it."""
        m = self.m
        m.Engagement.update(signed_off_on=day, signed_off_by=by[:200]).where(m.Engagement.id == engagement_id).execute()

    def close_engagement(self, engagement_id: int, now: datetime) -> None:
        """End the engagement: its status becomes closed, ``closed_at`` now."""
        m = self.m
        m.Engagement.update(status=EngagementStatus.CLOSED.value, closed_at=now).where(
            m.Engagement.id == engagement_id).execute()

    def reopen_engagement(self, engagement_id: int) -> None:
        m = self.m
        m.Engagement.update(status=EngagementStatus.ACTIVE.value, closed_at=None).where(
            m.Engagement.id == engagement_id).execute()

    def save_survey_answer(self, engagement_id: int, email: str, score: int, comment: str, now: datetime) -> None:
        """Record a contact's survey answer; a later answer from the same contact replaces the earlier."""
        m = self.m
        email = email.strip().lower()
        updated = m.SurveyAnswer.update(score=score, comment=comment[:2000], answered_at=now).where(
            (m.SurveyAnswer.engagement == engagement_id) & (m.SurveyAnswer.email == email)).execute()
        if not updated:
            self._insert(m.SurveyAnswer, dict(engagement=engagement_id, email=email, score=score,
                                              comment=comment[:2000], answered_at=now))

    def survey_answers(self, engagement_id: int) -> list[SurveyAnswer]:
        """The engagement's survey answers, oldest first."""
        m = self.m
        rows = m.SurveyAnswer.select().where(m.SurveyAnswer.engagement == engagement_id).order_by(
            m.SurveyAnswer.answered_at, m.SurveyAnswer.id)
        return [SurveyAnswer(r.email, r.score, r.comment, r.answered_at) for r in rows]
