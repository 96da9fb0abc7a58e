"""An engagement's milestones: it went live, the customer signed off, it ended (see README, "Milestones").

Engineers record them by replying (``#live [DATE]``, ``#signoff NAME``, ``#close``, ``#reopen``) and
add tasks of the engagement's own (``#task add "NAME" DATE [OWNER]``), through
:class:`~ticketing.services.engagement_commands.EngagementCommands`. A customer's "we are live"
(:mod:`ticketing.core.went_live`) is not the milestone: it is kept as a claim, and the engineer is
asked to confirm it with ``#live``, which then takes the day the customer said.

Each milestone is a ``milestone`` event in the hand-off ticket's log with its day, and sets the
engagement's column (``live_on``, ``signed_off_on``/``signed_off_by``, ``closed_at``), from which
the success metrics are computed. A closed engagement sends no reminders, check-points or surveys,
and its meetings ahead are cancelled with a reason.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable
from zoneinfo import ZoneInfo

from ticketing.core import steering
from ticketing.core.domain import Engagement, EventKind, Meeting, MeetingStatus
from ticketing.core.went_live import WentLive
from ticketing.services.onboarding import Onboarding
from ticketing.services.ticket_log import TicketLog
from ticketing.store import SqlStore

#: Where a customer's unconfirmed "we are live" is kept in the engagement's details.
CLAIM = "live_claim"
#: Why the meetings ahead are cancelled when an engagement closes, in the customers' words.
CLOSING_REASON = "the onboarding has ended"


class Milestones:
    def __init__(self, store: SqlStore, onboarding: Onboarding):
        self.store = store
        self.onboarding = onboarding

    # -- by the engineer ---------------------------------------------------------------------------

    def live(self, engagement: Engagement, argument: str, today: date, tz: ZoneInfo, actor: str, now: datetime,
             log: TicketLog) -> list[str] | str:
        """``#live [DATE]``: the day it went live: the one written, else the day the customer said
        (a claim not yet confirmed), else today (the engineer's)."""
        claim = self.store.engagement_details(engagement.id).get(CLAIM)
        if argument:
            day = steering.read_day(argument, today, tz)
            if isinstance(day, str):
                return day
        else:
            day = date.fromisoformat(claim["on"]) if claim else today
        if day > today:
            return f"{day.isoformat()} is ahead: #live records a go-live that happened (#golive plans one)"
        if engagement.live_on == day:
            return f"the go-live on {day.isoformat()} is recorded already"
        self.store.set_live(engagement.id, day)
        self._forget_claim(engagement.id)
        self._event(engagement, "live", day, actor, now, log, planned=_iso(engagement.golive_date),
                    previous=_iso(engagement.live_on), claimed_by=(claim or {}).get("by"))
        return [f"went live on {day.isoformat()}" + _against_plan(day, engagement.golive_date)
                + (f", as {claim['by']} said" if claim and not argument else "")]

    def signoff(self, engagement: Engagement, argument: str, today: date, actor: str, now: datetime,
                log: TicketLog) -> list[str] | str:
        """``#signoff NAME``: the customer's sign-off today, by NAME."""
        name = " ".join(argument.split()).strip('"')
        if engagement.signed_off_on and engagement.signed_off_by == name:
            return f"{name} signed off on {engagement.signed_off_on.isoformat()} already"
        self.store.set_signoff(engagement.id, today, name)
        self._event(engagement, "signoff", today, actor, now, log, by=name)
        return [f"signed off by {name} on {today.isoformat()}"]

    def close(self, engagement: Engagement, today: date, actor: str, now: datetime, log: TicketLog,
              cancel: Callable[[Meeting, str, str], str]) -> list[str] | str:
        """``#close``: the engagement ends; its meetings ahead are cancelled through ``cancel(meeting,
        note, reason)`` (which returns the title of one its attendees were told of), its open tasks
        stay as they are (the summary lists them)."""
        if not engagement.active:
            return f"the engagement was closed on {engagement.closed_at:%Y-%m-%d} already"
        cancelled = []
        for meeting in self.store.meetings(engagement.id):
            if meeting.status is MeetingStatus.PLANNED and meeting.start is not None and meeting.start > now:
                cancelled.append(cancel(meeting, f"{steering.CANCELLED_BY}{actor}: {CLOSING_REASON}", CLOSING_REASON))
        self.store.close_engagement(engagement.id, now)
        self._event(engagement, "closed", today, actor, now, log)
        open_tasks = [t.key for t in self.store.tasks(engagement.id) if t.status.value != "done"]
        lines = [f"engagement closed on {today.isoformat()}"]
        if cancelled:
            lines.append(f"cancelled, with a note to every attendee: {', '.join(t for t in cancelled if t)}")
        if engagement.live_on is None:
            lines.append("warning: its go-live was never recorded (#live DATE records it)")
        if open_tasks:
            lines.append(f"not done: {', '.join(open_tasks)}")
        return lines

    def reopen(self, engagement: Engagement, today: date, actor: str, now: datetime, log: TicketLog) -> list[str] | str:
        if engagement.active:
            return "the engagement is open"
        self.store.reopen_engagement(engagement.id)
        self._event(engagement, "reopened", today, actor, now, log)
        return ["engagement open again (meetings cancelled at its close stay cancelled)"]

    def add_task(self, engagement: Engagement, argument: str, today: date, tz: ZoneInfo, actor: str,
                 now: datetime) -> list[str] | str:
        """``#task add "NAME" DATE [OWNER]``: a task of this engagement's own, kept through re-plans."""
        new = steering.read_task_add(argument, today, tz)
        if isinstance(new, str):
            return new
        owner = new.owner or "engineer"
        same = [t for t in self.store.tasks(engagement.id) if t.name.casefold() == new.name.casefold()]
        if same:
            return f"the engagement has a task {same[0].key} ({same[0].name}) already"
        key = self.store.add_task(engagement.id, new.name, owner, new.due, owner.startswith("customer:"),
                                  f"added by {actor}", now)
        warning = [f"warning: {new.due.isoformat()} has passed"] if new.due < today else []
        return [f"task {key} ({new.name}) added, due {new.due.isoformat()}, owner {owner}", *warning]

    # -- by the customer ---------------------------------------------------------------------------

    def claimed(self, account_id: int, claim: WentLive, sender: str, ticket_id: int, now: datetime,
                log: TicketLog) -> bool:
        """A customer of ``account_id`` said they are live: keep the claim on the active engagement
        not yet live, and ask its engineer to confirm it. Once per engagement and day said."""
        engagement = self.store.active_engagement(account_id)
        if engagement is None or engagement.live_on is not None:
            return False
        details = self.store.engagement_details(engagement.id)
        if (details.get(CLAIM) or {}).get("on") == claim.on.isoformat():
            return False
        details[CLAIM] = {"on": claim.on.isoformat(), "by": sender, "ticket": ticket_id, "words": claim.sentence}
        self.store.set_engagement_details(engagement.id, details)
        self._event(engagement, "live-claimed", claim.on, sender, now, log, ticket=ticket_id, words=claim.sentence)
        said = claim.on.isoformat() if claim.day_said else f"{claim.on.isoformat()} (the day they wrote)"
        self.onboarding.mail.tell_engineer(
            engagement, f"{engagement.account} says they are live", [
                f"{sender} wrote on ticket [#{ticket_id}]: \u201c{claim.sentence}\u201d",
                f"went live: {said}" + _against_plan(claim.on, engagement.golive_date),
            ], now, token=f"live-claim.{engagement.id}.{claim.on.isoformat()}",
            ask=f"Reply #live to record the go-live on {claim.on.isoformat()}, or #live DATE for another day.")
        return True

    # -- helpers -------------------------------------------------------------------------------------

    def _forget_claim(self, engagement_id: int) -> None:
        details = self.store.engagement_details(engagement_id)
        if details.pop(CLAIM, None) is not None:
            self.store.set_engagement_details(engagement_id, details)

    def _event(self, engagement: Engagement, milestone: str, day: date, actor: str, now: datetime, log: TicketLog,
               **detail) -> None:
        if engagement.ticket_id:
            log.event(engagement.ticket_id, EventKind.MILESTONE, now, actor, milestone=milestone, on=day.isoformat(),
                      engagement=engagement.id, **{k: v for k, v in detail.items() if v is not None})


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _against_plan(day: date, planned: date | None) -> str:
    if planned is None:
        return " (no go-live date was planned)"
    delta = (day - planned).days
    if delta == 0:
        return " (as planned)"
    return f" (planned {planned.isoformat()}: {abs(delta)} day{'s' * (abs(delta) != 1)} {'late' if delta > 0 else 'early'})"
