"""Engineers steer an onboarding engagement by replying (see README, "Engineers work by replying").

A reply to the engagement's hand-off ticket, or to any ticket of an account with an active
engagement, may carry ``#golive``, ``#playbook``, ``#contact``, ``#accept``, ``#move``, ``#cancel``,
``#location``, ``#done``, ``#todo``, ``#blocked`` and ``#task add`` for its tasks, and the milestones
``#live``, ``#signoff``, ``#close`` and ``#reopen`` (:mod:`ticketing.services.engagement_milestones`)
(read by :mod:`ticketing.core.steering`). A closed engagement takes only the milestones and the
tasks' status. Each runs inside the reply's unit of
work through :class:`~ticketing.services.onboarding.Onboarding` and its
:class:`~ticketing.services.invitations.Invitations`: a go-live date or a playbook re-plans as a
notice does, a contact joins or leaves as a deal sent again does, and a meeting that moves, is
cancelled or changes place gets an updated REQUEST (same UID, higher SEQUENCE) or a CANCEL to all
its attendees, and a task's status is set (done records when). Every change is an event in the ticket's log (and the hand-off ticket's); what was
done and what could not be is returned in words for the engineer's one results mail.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ticketing.config import Config
from ticketing.core import steering
from ticketing.core.calendars import BusinessCalendar, zone
from ticketing.core.commands import Command
from ticketing.core.domain import Engagement, EventKind, Meeting, MeetingStatus, Ticket
from ticketing.core.planner import local_label
from ticketing.core.tasks import TaskStatus
from ticketing.errors import DoubleBooked
from ticketing.services.engagement_milestones import Milestones
from ticketing.services.engineers import engineer_calendar
from ticketing.services.onboarding import Onboarding, Replanned
from ticketing.services.ticket_log import TicketLog
from ticketing.store import SqlStore

#: The commands this service carries out.
NAMES = frozenset(steering.HELP)
#: What a command did (lines for the results mail), or why it could not (one line).
Outcome = list[str] | str
#: What a closed engagement still takes: its milestones, and its tasks' status.
WHEN_CLOSED = frozenset({"live", "signoff", "reopen", "close", "done", "todo", "blocked"})


@dataclass
class Steered:
    """What the commands of one reply did, and what they could not do, in words."""

    done: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class EngagementCommands:
    def __init__(self, store: SqlStore, config: Config, onboarding: Onboarding | None,
                 calendars: dict[str, BusinessCalendar]):
        self.store = store
        self.config = config
        self.onboarding = onboarding
        self.calendars = calendars
        self.milestones = Milestones(store, onboarding) if onboarding is not None else None

    def carry_out(self, ticket: Ticket, cmd: Command, actor: str, now: datetime, log: TicketLog, out: Steered) -> None:
        """Carry out one steering command of ``actor`` (a configured engineer) on the engagement
        ``ticket`` belongs to; add what it did, or why not, to ``out``."""
        engagement = self.store.engagement_of_ticket(ticket.id)
        written = f"#{cmd.name} {cmd.argument}".strip()
        if engagement is None or self.onboarding is None:
            why = "this ticket belongs to no onboarding engagement" if engagement is None else "no playbooks are configured"
            return self._refuse(ticket, written, why, actor, now, log, out)
        if not engagement.active and cmd.name not in WHEN_CLOSED:
            return self._refuse(ticket, written, f"the engagement was closed on {engagement.closed_at:%Y-%m-%d} "
                                "(#reopen opens it again)", actor, now, log, out)
        handler = getattr(self, f"_{cmd.name}")
        outcome = handler(engagement, cmd.argument, actor, now, log)
        if isinstance(outcome, str):
            return self._refuse(ticket, written, outcome, actor, now, log, out)
        lines = [line for line in outcome if line]
        for ticket_id in dict.fromkeys(t for t in (ticket.id, engagement.ticket_id) if t):
            log.event(ticket_id, EventKind.ENGAGEMENT_CHANGED, now, actor, command=written, engagement=engagement.id,
                      changes=lines)
        out.done.append(f"{written}: " + "; ".join(lines))

    def _refuse(self, ticket: Ticket, written: str, reason: str, actor: str, now: datetime, log: TicketLog,
                out: Steered) -> None:
        log.event(ticket.id, EventKind.COMMAND_REJECTED, now, actor, command=written, reason=reason)
        # A command misread, or a meeting named ambiguously, begins with the command, which brings the
        # list of commands into the results mail; a command understood but not possible does not.
        out.problems.append(reason if reason.startswith("#") else f"not done, {written}: {reason}")

    # -- the engagement -----------------------------------------------------------------------------

    def _golive(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        tz = self._zone(actor)
        day = steering.read_day(argument, now.astimezone(tz).date(), tz)
        if isinstance(day, str):
            return day
        if day == engagement.golive_date:
            return f"the go-live is {day.isoformat()} already"
        self.store.set_golive(engagement.id, day)
        # the go-live path of a customer's intent, without its mail: the engineer gets the results mail
        result = self.onboarding.replan(engagement.id, now)
        return [f"go-live {day.isoformat()} (was {engagement.golive_date or 'not known'})", *_lines(result)]

    def _playbook(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        playbooks = self.onboarding.playbooks
        chosen = next((p for name, p in playbooks.items() if name.lower() == argument.lower()), None)
        if chosen is None:
            return f"no playbook {argument!r}; one of {', '.join(sorted(playbooks))}"
        if chosen.name == engagement.playbook:
            return f"the engagement follows {chosen.name} already"
        lines = []
        if engagement.playbook:
            reason = f"the onboarding now follows another plan ({chosen.title})"
            dropped = [self._drop(m, engagement, now, f"{steering.CANCELLED_BY}{actor}: {reason}", reason)
                       for m in self.store.meetings(engagement.id) if _ahead(m, now)]
            lines.append(f"switched from {engagement.playbook}"
                         + (f"; cancelled {', '.join(t for t in dropped if t)}" if any(dropped) else ""))
        self.store.set_playbook(engagement.id, chosen.name)
        result = self.onboarding.start(engagement.id, now)
        planned = [m.title for m in self.store.meetings(engagement.id)
                   if m.status is MeetingStatus.PLANNED and _ahead(m, now)]
        lines.append(f"{chosen.name} started: " + (", ".join(planned) if planned else "nothing planned yet"))
        return lines + _lines(result)

    def _contact(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        change = steering.read_contact(argument)
        if isinstance(change, str):
            return change
        account = self.store.get_account(engagement.account_id)
        known = {c.email.lower(): c for c in account.contacts}
        if change.action == "remove":
            if change.email not in known:
                return f"{change.email} is not a contact of {account.name}"
            self.store.detach_contacts(account.id, [change.email])
            titles = self.onboarding.uninvite(engagement.id, {change.email}, now)
            return [f"{change.email} is no longer a contact of {account.name}",
                    f"cancelled for them: {', '.join(titles)}" if titles else "they were invited to no meeting ahead"]
        present = known.get(change.email)
        if present is not None and (not change.role or change.role == present.role):
            return f"{change.email} is a contact of {account.name} already"
        self.store.save_contact(account.id, change.email, change.name, change.role, replace=True)
        titles = self.onboarding.invite_newcomers(engagement.id, {change.email}, now)
        who = f"{change.name} <{change.email}>" if change.name else change.email
        return [f"{who} is a contact of {account.name}" + (f" ({change.role})" if change.role else ""),
                ("welcomed and invited to " + ", ".join(titles)) if titles else "welcomed; no meeting ahead calls for them"]

    # -- one meeting ----------------------------------------------------------------------------------

    def _accept(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        ahead = [m for m in self.store.meetings(engagement.id) if m.status is MeetingStatus.PLANNED and _ahead(m, now)]
        if argument:
            meeting = steering.find_meeting(argument, ahead, "accept")
            if isinstance(meeting, str):
                return meeting
            ahead = [meeting]
        found = steering.latest_proposal(ahead)
        if found is None:
            return "nobody proposed another time" + (f" for {ahead[0].title}" if argument else " for a meeting ahead")
        meeting, attendee = found
        start = attendee.proposed_start
        end = attendee.proposed_end or start + (meeting.end - meeting.start)
        if start <= now:
            return f"the time {attendee.email} proposed for {meeting.title} has passed"
        others = [f"{a.email} ({m.title})" for m in ahead for a in m.attendees
                  if a.proposed_start is not None and (m.id, a.email) != (meeting.id, attendee.email)]
        lines = self._move_to(meeting, engagement, start, end, actor, now, f"proposed by {attendee.email}")
        if others:
            lines.append(f"also proposed, not taken: {', '.join(others)} (reply #accept MEETING to take one)")
        return lines

    def _move(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        tz = self._zone(actor)
        wanted = steering.read_move(argument, now.astimezone(tz).date(), tz)
        if isinstance(wanted, str):
            return wanted
        meeting = steering.find_meeting(wanted.meeting, [m for m in self.store.meetings(engagement.id) if _ahead(m, now)],
                                        "move")
        if isinstance(meeting, str):
            return meeting
        start = datetime.combine(wanted.day, wanted.at, tzinfo=tz).astimezone(timezone.utc)
        if start <= now:
            return f"{local_label(start, start, tz).rsplit('-', 1)[0]} has passed"
        return self._move_to(meeting, engagement, start, start + self._duration(meeting, engagement), actor, now,
                             f"moved by {actor}")

    def _cancel(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        meeting = steering.find_meeting(argument, [m for m in self.store.meetings(engagement.id) if _ahead(m, now)],
                                        "cancel")
        if isinstance(meeting, str):
            return meeting
        self._drop(meeting, engagement, now, f"{steering.CANCELLED_BY}{actor}", "cancelled by the organizer")
        return [f"{meeting.title} cancelled" + (": every attendee was sent a cancellation" if meeting.start else "")]

    def _location(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        reference, place = steering.split_reference(argument)
        meeting = steering.find_meeting(reference, [m for m in self.store.meetings(engagement.id) if _ahead(m, now)],
                                        "location")
        if isinstance(meeting, str):
            return meeting
        sent = meeting.status is MeetingStatus.PLANNED
        if meeting.series_uid:  # a weekly series is in one place: every occurrence, one updated series
            for occurrence in self.store.meetings_in_series(meeting.series_uid):
                self._save(occurrence, now, location=place, sequence=occurrence.sequence + 1)
            self.onboarding.series.resend(engagement, meeting.series_uid, self.onboarding.series_zone(engagement), now,
                                          updated=True)
        else:
            self._save(meeting, now, location=place, sequence=meeting.sequence + 1 if sent else None)
            if sent:
                self.onboarding.invitations.send(self.store.get_meeting(meeting.id), engagement, now, updated=True)
        what = "join link" if steering.is_link(place) else "location"
        return [f"{meeting.title}: {what} {place}" + (", updated invitation sent to every attendee" if sent else "")]

    # -- the tasks -----------------------------------------------------------------------------------

    def _done(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        return self._set_task(engagement, argument, "done", TaskStatus.DONE, now)

    def _todo(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        return self._set_task(engagement, argument, "todo", TaskStatus.OPEN, now)

    def _blocked(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        reference, reason = steering.split_reference(argument)
        return self._set_task(engagement, reference, "blocked", TaskStatus.BLOCKED, now, reason)

    def _set_task(self, engagement: Engagement, reference: str, command: str, status: TaskStatus, now: datetime,
                  reason: str = "") -> list[str] | str:
        task = steering.find_task(reference, self.store.tasks(engagement.id), command)
        if isinstance(task, str):
            return task
        if task.status is status and (status is not TaskStatus.BLOCKED or task.note == reason):
            return f"the task {task.key} ({task.name}) is {status.value} already"
        # a blocked task's note is its reason; opened again or done, the plan's note comes back on the next re-plan
        note = reason if status is TaskStatus.BLOCKED else ("" if task.status is TaskStatus.BLOCKED else None)
        self.store.set_task_status(task.id, status, now, note)
        return [f"task {task.key} ({task.name}) {status.value} (was {task.status.value})"
                + (f": {reason}" if reason else "")]

    def _task(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        tz = self._zone(actor)
        return self.milestones.add_task(engagement, argument, now.astimezone(tz).date(), tz, actor, now)

    # -- the milestones ------------------------------------------------------------------------------

    def _live(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        tz = self._zone(actor)
        return self.milestones.live(engagement, argument, now.astimezone(tz).date(), tz, actor, now, log)

    def _signoff(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        return self.milestones.signoff(engagement, argument, now.astimezone(self._zone(actor)).date(), actor, now,
                                       log)

    def _close(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        def cancel(meeting: Meeting, note: str, reason: str) -> str:
            return self._drop(meeting, engagement, now, note, reason)
        return self.milestones.close(engagement, now.astimezone(self._zone(actor)).date(), actor, now, log,
                                     cancel)

    def _reopen(self, engagement: Engagement, argument: str, actor: str, now: datetime, log: TicketLog) -> Outcome:
        return self.milestones.reopen(engagement, now.astimezone(self._zone(actor)).date(), actor, now, log)

    # -- helpers --------------------------------------------------------------------------------------

    def _move_to(self, meeting: Meeting, engagement: Engagement, start: datetime, end: datetime, actor: str,
                 now: datetime, why: str) -> list[str]:
        """Move ``meeting`` to ``start``-``end``: everyone gets the updated REQUEST and is asked again."""
        warnings = steering.hours_warnings(start, end, self._calendar(engagement), self._customer_zone(engagement),
                                           self.onboarding.customer_day)
        sent_before = meeting.start is not None or meeting.sequence > 0
        tz = self._zone(actor)
        try:
            with self.store.savepoint():
                self._save(meeting, now, start=start, end=end, status=MeetingStatus.PLANNED, note="; ".join(warnings),
                           sequence=meeting.sequence + 1 if sent_before else 0, reset_answers=True)
        except DoubleBooked:  # the database's constraint: her meetings never overlap
            return [f"{meeting.title} not moved: {local_label(start, end, tz)} overlaps another meeting of "
                    f"{engagement.engineer or 'the engineer'}; nothing was sent (reply #move with another time)"]
        self._send(meeting, engagement, now, "moved" if sent_before else "new")
        lines = [f"{meeting.title} moved to {local_label(start, end, tz)} ({why}); updated invitation sent to every attendee"]
        return lines + [f"warning: {meeting.title} is {w}; moved all the same" for w in warnings]

    def _drop(self, meeting: Meeting, engagement: Engagement, now: datetime, note: str, reason: str) -> str:
        """Cancel ``meeting`` (a CANCEL to every attendee when it was sent); return its title if it was."""
        if meeting.status is MeetingStatus.PLANNED:
            self._save(meeting, now, status=MeetingStatus.CANCELLED, note=note, sequence=meeting.sequence + 1)
            self._send(meeting, engagement, now, "cancelled", reason)
            return meeting.title
        self._save(meeting, now, status=MeetingStatus.CANCELLED, note=note)
        return ""

    def _send(self, meeting: Meeting, engagement: Engagement, now: datetime, what: str, reason: str = "") -> None:
        """Tell the attendees that ``meeting`` (saved already) is ``new``, ``moved`` or ``cancelled``:
        an occurrence of a weekly series through the series (its RECURRENCE-ID override, or the
        series again with an EXDATE), never under the occurrence's own UID, which they never got."""
        if meeting.series_uid:
            self.onboarding.series.send(engagement, meeting.key.partition("#")[0], {meeting.key: what},
                                        self.onboarding.series_zone(engagement), now, {meeting.key: reason})
            return
        self.onboarding.invitations.send(self.store.get_meeting(meeting.id), engagement, now,
                                         updated=what == "moved", cancelled=what == "cancelled", reason=reason)

    def _save(self, meeting: Meeting, now: datetime, **changes) -> None:
        values = dict(engagement_id=meeting.engagement_id, key=meeting.key, title=meeting.title,
                      description=meeting.description, uid=meeting.uid, start=meeting.start, end=meeting.end,
                      status=meeting.status, note=meeting.note, attendees=meeting.attendees, now=now)
        self.store.save_meeting(**{**values, **changes})

    def _duration(self, meeting: Meeting, engagement: Engagement) -> timedelta:
        if meeting.start is not None and meeting.end is not None:
            return meeting.end - meeting.start
        playbook = self.onboarding.playbooks.get(engagement.playbook or "")
        try:
            return playbook.meeting(meeting.key.partition("#")[0]).duration
        except (AttributeError, KeyError):
            return timedelta(hours=1)

    def _zone(self, email: str) -> ZoneInfo:
        """The engineer's time zone, where their times are read and written: their ``timezone``, else
        (left at UTC) their calendar's."""
        person = self.config.person(email)
        if person is None:
            return ZoneInfo("UTC")
        calendar = self.calendars.get(getattr(person, "calendar", None) or "")
        return calendar.tz if person.timezone == "UTC" and calendar is not None else ZoneInfo(person.timezone)

    def _calendar(self, engagement: Engagement) -> BusinessCalendar:
        return engineer_calendar(self.config, self.calendars, engagement.engineer)

    def _customer_zone(self, engagement: Engagement) -> ZoneInfo:
        account = self.store.get_account(engagement.account_id)
        return zone(account.timezone if account else None) or self._calendar(engagement).tz


def _ahead(meeting: Meeting, now: datetime) -> bool:
    """Not held, not begun and not cancelled: a meeting the engineer can still change."""
    return meeting.status is not MeetingStatus.CANCELLED and (meeting.start is None or meeting.start > now)


def _lines(result: Replanned) -> list[str]:
    return [*result.changes, *result.warnings, *(f"not placed: {u}" for u in result.unplaced)]
