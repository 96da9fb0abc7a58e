"""Sending managers their weekly SLA summary: gathering the week's facts and mailing the report.

:class:`WeeklySummaries` builds a :class:`~ticketing.core.report.WeekInput` for a manager and a week
from the store (tickets of the manager's engineers with their clocks, their meetings and
engagements), and mails the summary (figures by :mod:`ticketing.core.report`, mail by
:mod:`ticketing.core.report_mail`) with the week's tickets as a CSV attachment.
:meth:`WeeklySummaries.run` is the worker's job: once the configured weekday and time have come
in a manager's time zone (and for a day after, so that a restart does not lose it), it sends the
last completed week's summary, under a Message-ID made from the manager and the week, so that it
goes once however often the job runs and whatever restarts happen.
"""
from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mailer import Address
from ticketing.config import Config, ManagerConfig
from ticketing.config.sections import WEEKDAYS
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Engagement, MeetingStatus, TicketHead
from ticketing.core.mails import Draft, Templates, slug
from ticketing.core.playbooks import Playbook
from ticketing.core.portfolio import OverdueTask
from ticketing.core.report import EngagementFacts, Summary, weekly_summary
from ticketing.core.report_input import ClockFacts, MeetingFacts, TicketFacts, WeekInput
from ticketing.core.report_mail import render_weekly, weekly_csv
from ticketing.core.sla import Clock, ClockStatus, clocks, humanize
from ticketing.core.weeks import iso_week_label, last_completed_week
from ticketing.services.outbox import Outbox
from ticketing.services.scorecards import Scorecards
from ticketing.services.sla_watch import SlaWatch
from ticketing.store import SqlStore

log = logging.getLogger(__name__)
UTC = ZoneInfo("UTC")
#: How long after its time a summary still goes (a worker restarted on the Monday afternoon sends it).
SEND_WINDOW = timedelta(days=1)


class WeeklySummaries:
    def __init__(self, store: SqlStore, config: Config, sla: SlaWatch, outbox: Outbox, renderer: Templates,
                 calendars: dict[str, BusinessCalendar], playbooks: dict[str, Playbook]):
        self.store = store
        self.config = config
        self.sla = sla
        self.outbox = outbox
        self.renderer = renderer
        self.calendars = calendars
        self.playbooks = playbooks
        self.scorecards = Scorecards(store, config, calendars, playbooks)

    # -- the facts --------------------------------------------------------------------------------

    def summary(self, manager: ManagerConfig, monday: date, now: datetime) -> Summary:
        with _collector_paused():
            return weekly_summary(self.week_input(manager, monday, now))

    def week_input(self, manager: ManagerConfig, monday: date, now: datetime) -> WeekInput:
        tz = ZoneInfo(manager.timezone)
        engineers = tuple((e.email, e.name) for e in self.config.engineers
                          if (e.manager or "").lower() == manager.email.lower())
        emails = {e.lower() for e, _ in engineers}
        since = datetime.combine(monday - timedelta(days=7), time(0), tzinfo=tz).astimezone(UTC)
        found = self.store.week_tickets(emails, since)  # not the contract hand-offs, nor those done before
        events = self.store.events_of([t.id for t in found])
        policies: dict = {}
        tickets = [self._facts(t, events.get(t.id, ()), policies, now) for t in found]
        week_start = datetime.combine(monday, time(0), tzinfo=tz).astimezone(UTC)
        week_after_next = week_start + timedelta(days=14)
        meetings, engagements = [], []
        for engagement in self.store.engagements():
            if (engagement.engineer or "").lower() not in emails:
                continue
            if engagement.closed_at is not None and engagement.closed_at < week_start:
                continue  # closed before the week: out of the portfolio (the week it closed showed it)
            for meeting in self.store.meetings(engagement.id):
                if meeting.status is MeetingStatus.PLANNED and meeting.start and week_start <= meeting.start < week_after_next:
                    meetings.append(MeetingFacts(engagement.id, engagement.account, meeting.title, meeting.start,
                                                 meeting.end, engagement.engineer))
            engagements.append(self._engagement(engagement, now, tz))
        return WeekInput(
            manager_name=manager.name, manager_email=manager.email, timezone=tz, week_start=monday,
            engineers=engineers, tickets=tuple(tickets), meetings=tuple(sorted(meetings, key=lambda m: m.start)),
            engagements=tuple(engagements), now=now,
        )

    def _facts(self, ticket: TicketHead, events, policies: dict, now: datetime) -> TicketFacts:
        """The ticket's facts from its ``events``; ``policies`` remembers the policy of each kind
        and account (an engagement's playbook or the account's tier chooses it, not the ticket, so
        the whole ticket is read once for each)."""
        key = (ticket.kind, ticket.account)
        if key not in policies:
            whole = self.store.get_ticket(ticket.id)
            policies[key] = self.sla.policy_for(whole) if whole else None
        policy = policies[key]
        found = clocks(events, ticket.priority, policy, self.sla.calendars, now, explain=False) if policy else ()
        by_name = {c.name: c for c in found}
        return TicketFacts(
            id=ticket.id, subject=ticket.subject, customer=ticket.account or ticket.requester, engineer=ticket.assignee,
            priority=ticket.priority, kind=ticket.kind.value, status=ticket.status.value, created_at=ticket.created_at,
            first_response=_clock_facts(by_name.get("first_response"), now),
            resolution=_clock_facts(by_name.get("resolution"), now),
        )

    def _engagement(self, engagement: Engagement, now: datetime, tz: ZoneInfo) -> EngagementFacts:
        """The engagement's facts: its length and go-live, and its health with the reasons and the
        overdue tasks (:class:`~ticketing.services.scorecards.Scorecards`); ``tz`` is the manager's."""
        metrics = self.scorecards.measure(engagement, now)
        playbook = self.scorecards.playbook(engagement)
        overdue = tuple(OverdueTask(t.key, t.name, self.scorecards.owner_words(engagement, t), t.due,
                                    (metrics.today - t.due).days) for t in metrics.overdue_tasks)
        return EngagementFacts(
            id=engagement.id, account=engagement.account, engineer=engagement.engineer, playbook=engagement.playbook,
            golive=engagement.golive_date, business_days_elapsed=metrics.business_days,
            planned_days=playbook.length_days if playbook else None, health=metrics.health.verdict.value,
            reasons=metrics.health.reasons, overdue_tasks=overdue, live_on=engagement.live_on,
            closed_on=engagement.closed_at.astimezone(tz).date() if engagement.closed_at else None,
        )

    # -- the mail ---------------------------------------------------------------------------------

    def message_token(self, manager: ManagerConfig, monday: date) -> str:
        return f"weekly.{iso_week_label(monday)}.{slug(manager.email)}"

    def queue(self, manager: ManagerConfig, monday: date, now: datetime) -> str | None:
        """Queue the summary of the week starting ``monday`` for ``manager``; None if queued before."""
        if self.outbox.queued_before(self.message_token(manager, monday)):
            return None
        summary = self.summary(manager, monday, now)
        text, html = render_weekly(summary, self.renderer)
        draft = Draft(
            "weekly", self.message_token(manager, monday), (Address(manager.name, manager.email),),
            f"Weekly SLA summary, {summary.label}: {_headline(summary)}", (text, html), None,
            auto_submitted="auto-generated",
            attachments=((f"tickets-{summary.label}.csv", "text/csv", weekly_csv(summary)),),
        )
        return self.outbox.queue(draft, now)

    def run(self, now: datetime) -> int:
        """The worker's job: queue each summary whose time has come and that has not gone yet."""
        weekday = WEEKDAYS.index(self.config.sla.summary_weekday)
        at = time.fromisoformat(self.config.sla.summary_time)
        queued = 0
        for manager in self.config.managers:
            tz = ZoneInfo(manager.timezone)
            local = now.astimezone(tz)
            monday = last_completed_week(now, tz)
            due = datetime.combine(monday + timedelta(days=7 + weekday), at, tzinfo=tz)
            if not due <= local < due + SEND_WINDOW:
                continue  # not its time: before it, or more than a day late (then it would be stale news)
            with self.store.transaction():
                if self.queue(manager, monday, now):
                    queued += 1
                    log.info("weekly summary %s queued for %s", iso_week_label(monday), manager.email)
        return queued


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused: a week's facts are some 200,000 small objects
    without cycles, which it would otherwise walk again and again as they are made (a tenth of
    the summary's time). Collected as usual once it ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _clock_facts(clock: Clock | None, now: datetime) -> ClockFacts:
    """The clock's facts; its sentence only for a clock past its target (breached, or still open
    past its due time), the only ones the summary explains: a week holds tens of thousands."""
    if clock is None:
        return ClockFacts("", None, None, None, None, None, "no SLA policy")
    state = clock.status.value if clock.target else ""
    late = clock.target is not None and (clock.status is ClockStatus.BREACHED or (
        clock.stopped_at is None and clock.due is not None and clock.due < now))
    return ClockFacts(state, clock.target.duration if clock.target else None, clock.used, clock.stopped_at, clock.due,
                      clock.breached_at, _why(clock) if late else "")


def _why(clock: Clock) -> str:
    """One sentence in one unit (hours, as a business day is not 24 of them) and no moment: the
    summary shows those in the manager's zone on the line above."""
    if clock.target is None:
        return f"It has counted {humanize(clock.used, days=False)}, with no target."
    basis = "round the clock" if clock.target.clock == "24x7" else f"in the business hours of {clock.target.clock}"
    used = f"It counted {humanize(clock.used, days=False)} against a {humanize(clock.target.duration, days=False)} target, {basis}"
    if clock.paused:
        return used + "; it is paused, waiting on the customer."
    return used + "."


def _headline(summary: Summary) -> str:
    this = summary.this
    return f"{this.opened} opened, {this.resolved} resolved, {len(summary.breaches)} breaches"

