"""Attendees' answers to an engagement's invitations (the service layer): iMIP REPLY and COUNTER
from a calendar client, recorded on the meeting when they count, passed on to the engineer when
they need a person (a required customer declined, someone proposes another time)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mailer import Address, CalendarAnswer
from ticketing.config import Config
from ticketing.core.domain import (
    Engagement,
    EventKind,
    Meeting,
    MeetingAttendee,
    MeetingStatus,
)
from ticketing.core.mails import Draft, Mails
from ticketing.core.planner import local_label
from ticketing.services.outbox import Outbox
from ticketing.store import SqlStore


class CalendarAnswers:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox

    def answer(self, answers: list[CalendarAnswer], sender: str, now: datetime, token: str) -> list[str]:
        """Apply iMIP answers from ``sender``; return what happened, in words (for the message's reasons).

        An answer counts only for the attendee who sent it (RFC 6047 section 3: anyone can write an
        answer naming someone else), only when newer than the last one applied, and never for a
        cancelled meeting (it stays cancelled; the answer is noted in the message's reasons).
        """
        notes: list[str] = []
        for index, answer in enumerate(dict.fromkeys(answers)):
            meeting = self.store.meeting_by_uid(answer.uid)
            if meeting is None:
                notes.append(f"answer for an unknown meeting {answer.uid[:60]}")
                continue
            if answer.attendee != sender.lower():
                notes.append(f"answer for {answer.attendee or 'nobody'} sent by {sender}: ignored")
                continue
            attendee = next((a for a in meeting.attendees if a.email == answer.attendee), None)
            if attendee is None:
                notes.append(f"{sender} is not an attendee of {meeting.title!r}: ignored")
                continue
            engagement = self.store.get_engagement(meeting.engagement_id)
            if answer.method == "COUNTER":
                notes.append(f"{sender} proposes another time for {meeting.title!r}")
                if answer.proposed_start:
                    proposal = f"proposed {answer.proposed_start:%Y-%m-%d %H:%M} UTC"
                    # kept as data too: the engineer takes it with #accept (ticketing.services.engagement_commands)
                    end = answer.proposed_end or answer.proposed_start + ((meeting.end - meeting.start) if meeting.start
                                                                          else timedelta(hours=1))
                    self.store.note_attendee(meeting.id, sender, f"{proposal}: {answer.comment}".rstrip(": "),
                                             proposed=(answer.proposed_start, end), at=now)
                self._pass_on(meeting, engagement, attendee, answer, now, f"{token}.{index}")
                continue
            if answer.method != "REPLY" or answer.partstat is None:
                continue
            if meeting.status is MeetingStatus.CANCELLED:
                # The attendee's calendar may still answer the invitation (or "accept" the CANCEL):
                # the meeting stays cancelled and nobody counts as coming to it.
                notes.append(f"{sender} {answer.partstat.lower()} {meeting.title!r}, which is cancelled: not recorded")
                continue
            if answer.sequence < meeting.sequence:
                # RFC 5546 2.1.5: an answer to an older version of the meeting (before it moved).
                notes.append(f"{sender} answered an earlier version of {meeting.title!r}: ignored")
                continue
            applied = self.store.record_answer(meeting.id, sender, answer.partstat, answer.dtstamp or now, answer.comment)
            if not applied:
                notes.append(f"an older answer from {sender} to {meeting.title!r}: ignored")
                continue
            notes.append(f"{sender} {answer.partstat.lower()} {meeting.title!r}")
            if engagement.ticket_id:
                self.store.add_event(engagement.ticket_id, EventKind.NOTE, now, sender,
                                     text=f"{answer.partstat} {meeting.title}", meeting=meeting.key)
            if answer.partstat == "DECLINED" and attendee.required and attendee.role.startswith("customer"):
                self._pass_on(meeting, engagement, attendee, answer, now, f"{token}.{index}")
        return notes

    def _pass_on(self, meeting: Meeting, engagement: Engagement, attendee: MeetingAttendee, answer: CalendarAnswer,
                 now: datetime, token: str) -> None:
        email = engagement.engineer or (self.config.managers[0].email if self.config.managers else None)
        if not email:
            return
        person = self.config.person(email)
        tz = ZoneInfo(self.config.timezone_of(person.email) if person else "UTC")
        proposed = (local_label(answer.proposed_start, answer.proposed_end or answer.proposed_start, tz)
                    if answer.proposed_start else None)
        verb = "proposes another time for" if answer.method == "COUNTER" else "declined"
        headline = f"{attendee.name or attendee.email} {verb} {meeting.title}"
        body = self.mails.render(
            "calendar_answer", headline=headline, title=meeting.title,
            when=local_label(meeting.start, meeting.end, tz) if meeting.start else "not planned",
            attendee=f"{attendee.name} <{attendee.email}>" if attendee.name else attendee.email,
            answer=answer.method if answer.method == "COUNTER" else (answer.partstat or ""), proposed=proposed,
            comment=answer.comment, engagement_id=engagement.id, account=engagement.account,
        )
        draft = Draft("calendar_answer", f"answer.{token}", (Address(person.name if person else "", email),), headline,
                      body, engagement.ticket_id, auto_submitted="auto-generated")
        self.outbox.queue(draft, now, engagement_id=engagement.id)
