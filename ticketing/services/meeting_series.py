"""A repeated meeting's occurrences sent as one weekly series (the service layer).

The planner places each occurrence and the store keeps one row per occurrence (``check-point``,
``check-point#2`` ...), so that re-planning and answers work per occurrence as for any meeting.
When :func:`ticketing.core.series.weekly_series` finds the occurrences regular, the rows share a
series UID and each keeps its RECURRENCE-ID, and the attendees get one invitation for all of them
(RFC 5545 3.8.5). What is sent on a change:

- a new series, or one whose rule changed (its first week, its COUNT, a week skipped or no longer
  skipped, an occurrence cancelled): the whole series again, SEQUENCE raised for every occurrence;
- one occurrence moved, the rule unchanged: that occurrence alone, under its RECURRENCE-ID, its
  own SEQUENCE raised (RFC 5546 3.2.2), the others left as the attendees have them;
- occurrences no longer regular: a CANCEL of the series, then each occurrence on its own.

SEQUENCE: every row carries what was last sent of it; the master's is the lowest of them (an
occurrence sent alone is raised above it).
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Sequence

from ticketing.core.domain import Engagement, Meeting, MeetingAttendee, MeetingStatus
from ticketing.core.series import Occurrence, WeeklySeries, weekly_series
from ticketing.services.invitations import Invitations
from ticketing.store import SqlStore

_NUMBER = re.compile(r" \(\d+\)$")


def series_title(meeting: Meeting) -> str:
    """The series' SUMMARY: an occurrence's title without its number."""
    return _NUMBER.sub("", meeting.title)


def series_of(meetings: Sequence[Meeting], tz) -> WeeklySeries | None:
    """The weekly series of ``meetings``' planned occurrences in the organizer's zone ``tz``, or None."""
    return weekly_series([Occurrence(m.key, m.start, m.end) for m in meetings
                          if m.status is MeetingStatus.PLANNED and m.start], tz)


class MeetingSeries:
    def __init__(self, store: SqlStore, invitations: Invitations, domain: str):
        self.store = store
        self.invitations = invitations
        self.domain = domain

    def send(self, engagement: Engagement, spec_key: str, changed: dict[str, str], tz, now: datetime,
             reasons: dict[str, str]) -> None:
        """Send what changed of the repeated meeting ``spec_key`` (see the module docstring).

        ``changed`` maps an occurrence's key to ``new``, ``moved`` or ``cancelled``; ``reasons``
        says why an occurrence was cancelled. The rows are already saved with their new times.
        """
        if not changed:
            return
        rows = [m for m in self.store.meetings(engagement.id) if m.key.partition("#")[0] == spec_key]
        planned = [m for m in rows if m.status is MeetingStatus.PLANNED and m.start]
        uid = next((m.series_uid for m in rows if m.series_uid), None)
        series = series_of(rows, tz)
        if series is None:
            if uid:
                # Every occurrence is new to the attendees under its own UID once the series is gone.
                self._cancel_series(rows, uid, engagement, now, "the meetings are now sent one by one")
                changed = {m.key: "new" for m in planned}
            self._send_one_by_one(rows, changed, engagement, now, reasons)
            return
        same_rule = uid is not None and all(
            m.series_uid == uid and m.recurrence_id == _utc(series.instance(m.key).recurrence_id) for m in planned)
        moved = [k for k, what in changed.items() if what == "moved"]
        if same_rule and len(changed) == 1 and len(moved) == 1:
            meeting = next(m for m in planned if m.key == moved[0])
            sequence = max(m.sequence for m in rows if m.series_uid == uid) + 1
            self.store.link_series(meeting.id, uid, meeting.recurrence_id, sequence)
            self.invitations.send_series(planned, series, engagement, now, uid=uid, sequence=sequence,
                                         title=series_title(planned[0]), instance=meeting.key)
            return
        if uid is None:
            # Occurrences sent one by one before (they were irregular): take those back first.
            for meeting in planned:
                if changed.get(meeting.key) != "new":
                    self.invitations.send(meeting, engagement, now, cancelled=True, sequence=meeting.sequence + 1,
                                          reason="replaced by a weekly series")
        sequence = max(m.sequence for m in rows if m.series_uid == uid) + 1 if uid else 0
        uid = uid or f"{uuid.uuid4().hex}.series.{engagement.id}@{self.domain}"
        for meeting in rows:
            instance = series.instance(meeting.key) if meeting in planned else None
            self.store.link_series(meeting.id, uid if instance else None,
                                   _utc(instance.recurrence_id) if instance else None, sequence if instance else None)
        planned = [self.store.get_meeting(m.id) for m in planned]
        self.invitations.send_series(planned, series, engagement, now, uid=uid, sequence=sequence,
                                     title=series_title(planned[0]), updated=sequence > 0)

    def resend(self, engagement: Engagement, uid: str, tz, now: datetime, *, to: Sequence[MeetingAttendee] | None = None,
               cancelled: bool = False, reason: str = "", updated: bool = False) -> str | None:
        """Send the series ``uid`` as it stands: to people who join (``to``), a CANCEL to people
        who leave (``to`` and ``cancelled``: raised for them only), or to everyone after a change
        of its attendees (``updated``: the occurrences' raised SEQUENCE). Return its title, or None
        when nothing of it is planned."""
        rows = self.store.meetings_in_series(uid)
        planned = [m for m in rows if m.status is MeetingStatus.PLANNED and m.start]
        series = series_of(rows, tz)
        if not planned or series is None:
            return None
        if cancelled:
            sequence = max(m.sequence for m in rows) + 1
        elif to is not None:
            sequence = min(m.sequence for m in rows)
        else:
            sequence = max(m.sequence for m in rows)
            for meeting in planned:
                self.store.link_series(meeting.id, uid, meeting.recurrence_id, sequence)
        title = series_title(planned[0])
        self.invitations.send_series(planned, series, engagement, now, uid=uid, sequence=sequence, title=title,
                                     updated=updated, cancelled=cancelled, reason=reason, to=to)
        return title

    def _send_one_by_one(self, rows: Sequence[Meeting], changed: dict[str, str], engagement: Engagement,
                         now: datetime, reasons: dict[str, str]) -> None:
        """Occurrences too irregular for a series: each changed one as a meeting of its own."""
        for meeting in rows:
            what = changed.get(meeting.key)
            if what is None:
                continue
            raised = meeting.sequence + 1 if what in ("moved", "cancelled") else meeting.sequence
            self.store.link_series(meeting.id, None, None, raised)
            self.invitations.send(self.store.get_meeting(meeting.id), engagement, now, updated=what == "moved",
                                  cancelled=what == "cancelled", reason=reasons.get(meeting.key, ""))

    def _cancel_series(self, rows: Sequence[Meeting], uid: str, engagement: Engagement, now: datetime,
                       reason: str) -> None:
        """A CANCEL of the whole series ``uid`` (no RECURRENCE-ID: every occurrence), SEQUENCE raised."""
        members = [m for m in rows if m.series_uid == uid]
        if not any(m.start for m in members):
            return
        sequence = max(m.sequence for m in members) + 1
        self.invitations.send_series(members, None, engagement, now, uid=uid, sequence=sequence,
                                     title=series_title(members[0]), cancelled=True, reason=reason)
        for meeting in members:
            self.store.link_series(meeting.id, None, None, sequence)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)
