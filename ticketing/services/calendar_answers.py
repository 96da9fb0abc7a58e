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
            targets = self._targets(answer)
            if not targets:
                notes.append(f"answer for an unknown meeting {answer.uid[:60]}")
                continue
            if answer.attendee != sender.lower():
                notes.append(f"answer for {answer.attendee or 'nobody'} sent by {sender}: ignored")
                continue
            passed_on = False  # a series' occurrences are passed on to the engineer once
            for meeting, floor in targets:
                if floor <= answer.sequence < meeting.sequence:
                    continue  # an occurrence of the series moved on its own since: the answer is not about it
                passed_on = self._apply(meeting, floor, answer, sender, now, f"{token}.{index}", notes, passed_on)
        return notes

    def _targets(self, answer: CalendarAnswer) -> list[tuple[Meeting, int]]:
        """The meetings an answer is about, each with the SEQUENCE the answer must reach.

        A meeting of its own, by UID; an occurrence of a weekly series by the series' UID and its
        RECURRENCE-ID; a whole series (no RECURRENCE-ID) is every occurrence in it, and the
        SEQUENCE to reach the master's (the lowest of its occurrences').
        """
        meeting = self.store.meeting_by_uid(answer.uid)
        if meeting is not None:
            return [(meeting, meeting.sequence)]
        series = self.store.meetings_in_series(answer.uid)
        if answer.recurrence_id is not None:
            return [(m, m.sequence) for m in series if m.recurrence_id == answer.recurrence_id]
        floor = min((m.sequence for m in series), default=0)
        return [(m, floor) for m in series]

    def _apply(self, meeting: Meeting, floor: int, answer: CalendarAnswer, sender: str, now: datetime, token: str,
               notes: list[str], passed_on: bool) -> bool:
        """Record one answer on one meeting (it must reach SEQUENCE ``floor``); return whether the
        engineer has been told of it."""
        attendee = next((a for a in meeting.attendees if a.email == answer.attendee), None)
        if attendee is None:
            notes.append(f"{sender} is not an attendee of {meeting.title!r}: ignored")
            return passed_on
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
            if not passed_on:
                self._pass_on(meeting, engagement, attendee, answer, now, token)
            return True
        if answer.method != "REPLY" or answer.partstat is None:
            return passed_on
        if meeting.status is MeetingStatus.CANCELLED:
            # The attendee's calendar may still answer the invitation (or "accept" the CANCEL):
            # the meeting stays cancelled and nobody counts as coming to it.
            notes.append(f"{sender} {answer.partstat.lower()} {meeting.title!r}, which is cancelled: not recorded")
            return passed_on
        if answer.sequence < floor:
            # RFC 5546 2.1.5: an answer to an older version of the meeting (before it moved).
            notes.append(f"{sender} answered an earlier version of {meeting.title!r}: ignored")
            return passed_on
        applied = self.store.record_answer(meeting.id, sender, answer.partstat, answer.dtstamp or now, answer.comment)
        if not applied:
            notes.append(f"an older answer from {sender} to {meeting.title!r}: ignored")
            return passed_on
        notes.append(f"{sender} {answer.partstat.lower()} {meeting.title!r}")
        if engagement.ticket_id:
            self.store.add_event(engagement.ticket_id, EventKind.NOTE, now, sender,
                                 text=f"{answer.partstat} {meeting.title}", meeting=meeting.key)
        if answer.partstat == "DECLINED" and attendee.required and attendee.role.startswith("customer") and not passed_on:
            self._pass_on(meeting, engagement, attendee, answer, now, token)
            return True
        return passed_on

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
