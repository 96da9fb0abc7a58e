"""The meetings planned for engagements, their attendees and their answers."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

import peewee as pw

from ticketing.core.domain import Meeting, MeetingAttendee, MeetingStatus


class MeetingsMixin:
    db: pw.Database

    def save_meeting(self, *, engagement_id: int, key: str, title: str, description: str, uid: str,
                     start: datetime | None, end: datetime | None, status: MeetingStatus, note: str,
                     attendees: Sequence[MeetingAttendee], now: datetime, sequence: int | None = None,
                     reset_answers: bool = False, location: str | None = None) -> int:
        """Create the meeting ``key`` of an engagement, or update it (its UID never changes).

        Attendees are replaced by ``attendees``, keeping the answers of those who stay, unless
        ``reset_answers`` (the meeting moved: everyone is asked again, and times proposed for it
        are moot). ``location`` None leaves the meeting's as it is. A meeting placed anew (its
        times or status change) books the engagement's engineer: raises
        :class:`~ticketing.errors.DoubleBooked` when she has another planned meeting at that time.
        """
        m = self.m
        row = m.Meeting.get_or_none((m.Meeting.engagement == engagement_id) & (m.Meeting.key == key))
        if row is None:
            meeting_id = self._insert(m.Meeting, dict(
                engagement=engagement_id, key=key, title=title, description=description, uid=uid,
                sequence=sequence or 0, start=start, end=end, status=status, note=note, location=location or "",
                created_at=now, updated_at=now, engineer=self._engineer_of(engagement_id),
            ))
        else:
            meeting_id = row.id
            changes = dict(title=title, description=description, start=start, end=end, status=status, note=note,
                           updated_at=now)
            if (row.start, row.end, row.status) != (start, end, status):
                changes["engineer"] = self._engineer_of(engagement_id)  # placed anew: the engagement's engineer's time
            if sequence is not None:
                changes["sequence"] = sequence
            if location is not None:
                changes["location"] = location
            m.Meeting.update(**changes).where(m.Meeting.id == meeting_id).execute()
        if reset_answers:
            m.MeetingAttendee.update(partstat="NEEDS-ACTION", answered_at=None, comment="", proposed_start=None,
                                     proposed_end=None, proposed_at=None).where(
                m.MeetingAttendee.meeting == meeting_id).execute()
        kept = {a.email: a for a in m.MeetingAttendee.select().where(m.MeetingAttendee.meeting == meeting_id)}
        wanted = {a.email.lower(): a for a in attendees}
        gone = [email for email in kept if email not in wanted]
        if gone:
            m.MeetingAttendee.delete().where((m.MeetingAttendee.meeting == meeting_id)
                                             & m.MeetingAttendee.email.in_(gone)).execute()
        for email, a in wanted.items():
            if email in kept:
                m.MeetingAttendee.update(name=a.name, role=a.role, required=a.required).where(
                    m.MeetingAttendee.id == kept[email].id).execute()
            else:
                self._insert(m.MeetingAttendee, dict(meeting=meeting_id, email=email, name=a.name, role=a.role,
                                                     required=a.required, partstat="NEEDS-ACTION", answered_at=None,
                                                     comment=""))
        return meeting_id

    def _engineer_of(self, engagement_id: int) -> str | None:
        m = self.m
        engineer = m.Engagement.select(m.Engagement.engineer).where(m.Engagement.id == engagement_id).scalar()
        return engineer.lower() if engineer else None

    def meetings(self, engagement_id: int) -> list[Meeting]:
        m = self.m
        rows = m.Meeting.select().where(m.Meeting.engagement == engagement_id).order_by(
            m.Meeting.start.is_null(), m.Meeting.start, m.Meeting.id)
        return [self._meeting(row) for row in rows]

    def get_meeting(self, meeting_id: int) -> Meeting | None:
        m = self.m
        row = m.Meeting.get_or_none(m.Meeting.id == meeting_id)
        return self._meeting(row) if row else None

    def meeting_by_uid(self, uid: str) -> Meeting | None:
        m = self.m
        row = m.Meeting.get_or_none(m.Meeting.uid == uid)
        return self._meeting(row) if row else None

    def meetings_of_attendee(self, email: str) -> list[Meeting]:
        """The placed meetings (planned or cancelled) ``email`` is invited to, newest first."""
        m = self.m
        rows = (m.Meeting.select().join(m.MeetingAttendee, on=(m.MeetingAttendee.meeting == m.Meeting.id))
                .where((m.MeetingAttendee.email == email.lower()) & m.Meeting.start.is_null(False))
                .order_by(m.Meeting.start.desc(), m.Meeting.id.desc()))
        return [self._meeting(row) for row in rows]

    def _meeting(self, row) -> Meeting:
        m = self.m
        attendees = tuple(
            MeetingAttendee(a.email, a.name, a.role, a.required, a.partstat, a.answered_at, a.comment,
                            a.proposed_start, a.proposed_end, a.proposed_at)
            for a in m.MeetingAttendee.select().where(m.MeetingAttendee.meeting == row.id).order_by(m.MeetingAttendee.id)
        )
        return Meeting(row.id, row.engagement_id, row.key, row.title, row.description, row.uid, row.sequence,
                       row.start, row.end, MeetingStatus(row.status), row.note, attendees, row.location or "",
                       row.series_uid, row.recurrence_id)

    def meetings_in_series(self, series_uid: str) -> list[Meeting]:
        """The occurrences sent in the weekly series ``series_uid``, in time order."""
        m = self.m
        rows = m.Meeting.select().where(m.Meeting.series_uid == series_uid).order_by(m.Meeting.start, m.Meeting.id)
        return [self._meeting(row) for row in rows]

    def link_series(self, meeting_id: int, series_uid: str | None, recurrence_id: datetime | None,
                    sequence: int | None = None) -> None:
        """Put an occurrence in a weekly series (``series_uid`` None: take it out), with the
        SEQUENCE of what was last sent of it."""
        m = self.m
        changes = dict(series_uid=series_uid, recurrence_id=recurrence_id)
        if sequence is not None:
            changes["sequence"] = sequence
        m.Meeting.update(**changes).where(m.Meeting.id == meeting_id).execute()

    def busy(self, engineer: str, excluding_engagement: int | None = None) -> list[tuple[datetime, datetime]]:
        """The planned meetings of an engineer's engagements (other than ``excluding_engagement``)."""
        m = self.m
        query = (m.Meeting.select(m.Meeting.start, m.Meeting.end).join(m.Engagement)
                 .where((m.Engagement.engineer == engineer) & (m.Meeting.status == MeetingStatus.PLANNED.value)
                        & m.Meeting.start.is_null(False)))
        if excluding_engagement is not None:
            query = query.where(m.Engagement.id != excluding_engagement)
        return [(row.start, row.end) for row in query]

    def record_answer(self, meeting_id: int, email: str, partstat: str, answered_at: datetime | None,
                      comment: str = "") -> bool:
        """Record an attendee's answer if it is newer than the last one applied; False if not applied."""
        m = self.m
        row = m.MeetingAttendee.get_or_none((m.MeetingAttendee.meeting == meeting_id)
                                            & (m.MeetingAttendee.email == email.lower()))
        if row is None:
            return False
        if row.answered_at is not None and answered_at is not None and answered_at <= row.answered_at:
            return False
        m.MeetingAttendee.update(partstat=partstat, answered_at=answered_at, comment=comment).where(
            m.MeetingAttendee.id == row.id).execute()
        return True

    def note_attendee(self, meeting_id: int, email: str, comment: str,
                      proposed: tuple[datetime, datetime] | None = None, at: datetime | None = None) -> None:
        """Keep a remark on an attendee without changing their answer; with ``proposed``, the
        (start, end) they proposed (iMIP COUNTER), received ``at``."""
        m = self.m
        changes: dict = dict(comment=comment)
        if proposed is not None:
            changes.update(proposed_start=proposed[0], proposed_end=proposed[1], proposed_at=at)
        m.MeetingAttendee.update(**changes).where(
            (m.MeetingAttendee.meeting == meeting_id) & (m.MeetingAttendee.email == email.lower())).execute()
