"""Onboarding engagements: their playbook, their meetings, the invitations and the answers.

:class:`Onboarding` runs inside the help desk's unit of work. When a contract-closed notice starts
an engagement it picks the playbook for the engagement's tier, asks the pure planner
(:mod:`ticketing.core.planner`) to place its meetings, stores them, and queues the welcome email and one
invitation per meeting per attendee. A go-live date, new or changed, re-plans: only what must
move moves, and attendees get an update (same UID, higher SEQUENCE) or a cancellation. Answers to
invitations (iMIP REPLY and COUNTER) update the attendee's status; a decline by a customer or a
proposed new time is passed to the engineer.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from mailer import Address
from ticketing.config import Config
from ticketing.core.calendars import BusinessCalendar, zone
from ticketing.core.domain import (
    Account,
    Engagement,
    Meeting,
    MeetingAttendee,
    MeetingStatus,
)
from ticketing.core.golive import GoLiveIntent
from ticketing.core.mails import Mails, Support
from ticketing.core.meeting_calendars import playbook_calendar
from ticketing.core.planner import Plan, PlanInput, occurrence_keys, plan
from ticketing.core.playbooks import (
    MeetingSpec,
    Playbook,
    contacts_in_role,
    playbook_for_tier,
)
from ticketing.core.steering import CANCELLED_BY
from ticketing.core.words import both_zones
from ticketing.errors import DoubleBooked
from ticketing.services.calendar_answers import CalendarAnswers
from ticketing.services.customer_week import customer_day, customer_week
from ticketing.services.engagement_mail import (
    WAITING,
    EngagementMail,
    Replanned,
    first_contact_name,
)
from ticketing.services.engagement_tasks import task_rows
from ticketing.services.invitations import Invitations
from ticketing.services.meeting_series import MeetingSeries
from ticketing.services.outbox import Outbox
from ticketing.services.welcome import (
    NO_LONGER_NEEDED,
    replanned_cancellation,
)
from ticketing.store import SqlStore

log = logging.getLogger(__name__)

#: How many times planning is tried when the database finds the engineer booked meanwhile.
PLAN_ATTEMPTS = 3


#: People's busy times between two moments: ``(emails, start, end) -> {email: [(start, end), ...]}``.
FreeBusy = Callable[[list[str], datetime, datetime], dict[str, list[tuple[datetime, datetime]]]]


class Onboarding:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox,
                 calendars: dict[str, BusinessCalendar], playbooks: dict[str, Playbook],
                 freebusy: FreeBusy | None = None):
        #: People's busy times from their own calendars (Microsoft Graph's getSchedule), if configured.
        self.freebusy = freebusy
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.calendars = calendars
        self.playbooks = playbooks
        self.support = Support(config.support.address, config.support.name)
        #: The meetings' invitations and who organizes them.
        self.invitations = Invitations(store, config, mails, outbox)
        #: A repeated meeting's occurrences sent as one weekly series.
        self.series = MeetingSeries(store, self.invitations, outbox.domain)
        #: Attendees' answers to them.
        self.answers = CalendarAnswers(store, config, mails, outbox)
        self.customer_day = customer_day(config)
        #: The welcome and the engineer's planning notices.
        self.mail = EngagementMail(store, config, mails, outbox, calendars, playbooks, self._resolve)

    # -- starting ---------------------------------------------------------------------------------

    def start(self, engagement_id: int, now: datetime, tell: bool = True) -> Replanned:
        """Choose the playbook, plan the meetings, queue the welcome email and the invitations;
        ``tell=False`` when the caller tells the engineer (the hand-off lists the plan)."""
        engagement = self.store.get_engagement(engagement_id)
        # the playbook the engineer chose (#playbook), else the one that serves the tier
        playbook = self.playbooks.get(engagement.playbook or "") or self.playbook_for(engagement.tier)
        if playbook is None:
            note = f"no playbook serves the tier {engagement.tier or '(none)'}: no meetings planned"
            self.mail.tell(engagement, None, Replanned(warnings=(note,)), now, headline="No playbook for this engagement")
            return Replanned(warnings=(note,))
        self.store.set_playbook(engagement_id, playbook.name)
        engagement = self.store.get_engagement(engagement_id)
        result = self._replan(engagement, playbook, now)
        self.mail.welcome(engagement, playbook, now)
        if tell and (result.warnings or result.unplaced):
            self.mail.tell(engagement, playbook, result, now, headline=f"Onboarding of {engagement.account} planned")
        return result

    def playbook_for(self, tier: str | None) -> Playbook | None:
        """The playbook of an engagement of ``tier``: by its words, else ``[onboarding] default_playbook``."""
        return playbook_for_tier(self.playbooks, tier, self.config.onboarding.default_playbook)

    def golive_changed(self, engagement_id: int, now: datetime) -> Replanned:
        """Re-plan after a new go-live date; tell attendees what moved and the engineer what changed."""
        engagement = self.store.get_engagement(engagement_id)
        playbook = self.playbooks.get(engagement.playbook or "")
        if playbook is None:
            return Replanned()
        result = self._replan(engagement, playbook, now)
        if result.changes or result.warnings or result.unplaced:
            self.mail.tell(engagement, playbook, result, now,
                                headline=f"Go-live {engagement.golive_date}: meetings of {engagement.account} re-planned")
        return result

    def golive_intent(self, account_id: int, golive: GoLiveIntent, now: datetime) -> None:
        """A customer of ``account_id`` said when they go live: re-plan the active engagement's
        go-live meetings to a new date, or ask the engineer for the date when none was given."""
        engagement = self.store.active_engagement(account_id)
        if engagement is None:
            return
        if golive.golive_date is None:
            if engagement.golive_date is None:
                self.ask_for_golive(engagement.id, now)
            return
        if engagement.golive_date != golive.golive_date:
            self.store.set_golive(engagement.id, golive.golive_date)
            self.golive_changed(engagement.id, now)

    def golive_meetings(self, engagement_id: int) -> list[str]:
        """The titles of the meetings its playbook anchors on the go-live date (planned once it is known)."""
        engagement = self.store.get_engagement(engagement_id)
        playbook = self.playbooks.get(engagement.playbook or "") or self.playbook_for(engagement.tier)
        if playbook is None:
            return []
        context = self._text_context(engagement, self.store.get_account(engagement.account_id))
        return [self._text(s.title, context) for s in playbook.meetings if playbook.root_anchor(s.key) == "golive"]

    def ask_for_golive(self, engagement_id: int, now: datetime) -> None:
        """A go-live intent without a date: ask the engineer to confirm one with the customer, once
        per engagement (more such mails from the customer reach the engineer as ordinary replies)."""
        engagement = self.store.get_engagement(engagement_id)
        playbook = self.playbooks.get(engagement.playbook or "")
        self.mail.tell(engagement, playbook, Replanned(), now, headline=f"Go-live date of {engagement.account} needed",
                       ask_golive=True, token=f"golive-date.{engagement.id}")

    # -- planning ---------------------------------------------------------------------------------

    def _replan(self, engagement: Engagement, playbook: Playbook, now: datetime,
                move: frozenset[str] = frozenset()) -> Replanned:
        """Plan and save the engagement's meetings. When the database refuses a meeting because
        another worker booked the engineer at that time first (the advisory lock makes that rare,
        the constraint makes it impossible), what this plan did is rolled back and it plans again
        around that worker's meetings, up to :data:`PLAN_ATTEMPTS` times. The meetings ``move``
        (keys) are placed anew rather than kept where they are."""
        for attempt in range(1, PLAN_ATTEMPTS + 1):
            try:
                with self.store.savepoint():
                    return self._plan_once(engagement, playbook, now, move)
            except DoubleBooked as exc:
                if attempt == PLAN_ATTEMPTS:
                    raise
                log.info("engagement %s: %s; planning again (attempt %s)", engagement.id, exc, attempt + 1)
        raise AssertionError("unreachable")  # pragma: no cover

    def _plan_once(self, engagement: Engagement, playbook: Playbook, now: datetime,
                   move: frozenset[str] = frozenset()) -> Replanned:
        engineer = self.config.engineer(engagement.engineer or "")
        calendar = self.calendars[(engineer.calendar if engineer else None) or self.config.calendar(None).name]
        account = self.store.get_account(engagement.account_id)
        customer_tz = zone(account.timezone if account else None) or calendar.tz
        existing = {m.key: m for m in self.store.meetings(engagement.id)}
        previous = {k: (m.start, m.end) for k, m in existing.items()
                    if m.status is MeetingStatus.PLANNED and m.start and k not in move}
        # The engagement starts at the contract's close, or when we heard of it if that was later;
        # fixed, so that re-planning months later measures windows from the same day.
        began = engagement.created_at.astimezone(calendar.tz).date()
        start = max(engagement.close_date or began, began)
        self.store.lock_engineer(engagement.engineer or "")  # another worker planning for them waits: no double booking
        busy = list(self.store.busy(engagement.engineer, excluding_engagement=engagement.id)) if engagement.engineer else []
        # its own planned meetings that the playbook no longer has (a switch, fewer repeats) stay: avoid them too
        planned_keys = {key for spec in playbook.meetings for key in occurrence_keys(spec)}
        busy += [(m.start, m.end) for k, m in existing.items()
                 if k not in planned_keys and m.status is MeetingStatus.PLANNED and m.start and m.end]
        calendar_note = None
        if self.freebusy is not None and engineer is not None:
            people = [engineer.email] + ([engineer.project_manager] if engineer.project_manager else [])
            window_end = max(now, datetime.combine(start, datetime.min.time(), tzinfo=calendar.tz)) + \
                timedelta(days=playbook.length_days * 2 + 30) + (
                    max(timedelta(0), datetime.combine(engagement.golive_date, datetime.min.time(), tzinfo=calendar.tz) - now)
                    if engagement.golive_date else timedelta(0))
            try:
                for blocks in self.freebusy(people, now, window_end).values():
                    busy.extend(blocks)
            except Exception as exc:  # noqa: BLE001 - a calendar we cannot read must not stop the plan
                calendar_note = f"the engineers' calendars could not be read ({exc}); planned around whiteglove's own meetings only"
                log.warning("engagement %s: %s", engagement.id, calendar_note)
        given = PlanInput(
            playbook=playbook, start=start, golive=engagement.golive_date, calendar=calendar, customer_tz=customer_tz,
            customer=customer_week(self.config, self.store, engagement, account, customer_tz, self.customer_day),
            binding=playbook_calendar(playbook.calendar, self.calendars),
            max_customer_meetings_per_day=self.config.onboarding.max_customer_meetings_per_day,
            now=now, notice=timedelta(hours=self.config.onboarding.notice_hours), busy=tuple(busy),
            away=frozenset(engineer.out_of_office) if engineer else frozenset(), previous=previous,
            buffer=timedelta(minutes=self.config.onboarding.buffer_minutes), customer_day=self.customer_day,
            names={s.key: self._text(s.title, self._text_context(engagement, account)) for s in playbook.meetings},
        )
        result = plan(given)
        stored = self._store_plan(engagement, playbook, account, result, existing, customer_tz, now, given.counting.tz)
        self.store.save_tasks(engagement.id, task_rows(playbook, start, engagement.golive_date, result, given.counting), now)
        if calendar_note:
            stored = Replanned(stored.changes, (*stored.warnings, calendar_note), stored.unplaced)
        return stored

    def _store_plan(self, engagement: Engagement, playbook: Playbook, account: Account | None, result: Plan,
                    existing: dict[str, Meeting], customer_tz: ZoneInfo, now: datetime,
                    series_zone: ZoneInfo) -> Replanned:
        """Save the plan's meetings and send what changed; a repeated meeting's occurrences go out
        together (:class:`MeetingSeries`), in ``series_zone``, the zone of the plan's business days."""
        changes: list[str] = []
        warnings: list[str] = []
        unplaced: list[str] = []
        context = self._text_context(engagement, account)
        ours = ZoneInfo(self.config.timezone_of(engagement.engineer or "") or customer_tz.key)  # the engineer reads it
        # Meetings that move leave their old times first: moved one by one, two of them may swap.
        self.store.unbook(engagement.id, [key for key, old in existing.items() if old.status is MeetingStatus.PLANNED
                                          and (placement := result.get(key)) is not None
                                          and (old.start, old.end) != (placement.start, placement.end)])
        for spec in playbook.order():
            # A repeated meeting's invitations go out once its occurrences are saved: as one series when they are weekly.
            repeated = spec.repeat_count > 1
            changed: dict[str, str] = {}
            reasons: dict[str, str] = {}
            for number, key in enumerate(occurrence_keys(spec), start=1):
                placement = result.get(key)
                old = existing.get(key)
                if old is not None and old.status is MeetingStatus.CANCELLED and old.note.startswith(CANCELLED_BY):
                    continue  # an engineer cancelled it (#cancel): planning never brings it back
                title = self._text(spec.title, context) + (f" ({number})" if spec.repeat_count > 1 else "")
                description = self._text(spec.description, context)
                location = old.location if old is not None and old.location else spec.location  # #location wins
                attendees = self._attendees(spec, engagement, account)
                uid = old.uid if old else f"{uuid.uuid4().hex}.{engagement.id}@{self.outbox.domain}"
                if placement is not None:
                    moved = old is not None and old.status is MeetingStatus.PLANNED and (old.start, old.end) != (placement.start, placement.end)
                    sent_before = old is not None and old.status in (MeetingStatus.PLANNED, MeetingStatus.CANCELLED) and old.start is not None
                    if old is not None and not moved and old.status is MeetingStatus.PLANNED:
                        continue  # nothing changed: nothing to send
                    # A repeat's SEQUENCE is raised by what is sent of it (MeetingSeries), not here.
                    sequence = (old.sequence + (0 if repeated else 1)) if sent_before else 0
                    note = placement.warning
                    meeting_id = self.store.save_meeting(
                        engagement_id=engagement.id, key=key, title=title, description=description, uid=uid,
                        start=placement.start, end=placement.end, status=MeetingStatus.PLANNED, note=note, attendees=attendees,
                        now=now, sequence=sequence, reset_answers=moved, location=location)
                    if repeated:
                        changed[key] = "moved" if moved else "new"
                    else:
                        self.invitations.send(self.store.get_meeting(meeting_id), engagement, now, updated=moved)
                    if moved:
                        changes.append(f"{title}: moved to {both_zones(placement.start, placement.end, ours, customer_tz)}")
                    elif old is not None:
                        changes.append(f"{title}: planned for {both_zones(placement.start, placement.end, ours, customer_tz)}")
                    if note:
                        warnings.append(f"{title}: {note}")
                    continue
                reason = next((u.reason for u in result.unplaced if u.key == key), "not planned")
                if old is not None and old.status is MeetingStatus.PLANNED:
                    sequence = old.sequence + (0 if repeated else 1)
                    meeting_id = self.store.save_meeting(
                        engagement_id=engagement.id, key=key, title=title, description=description, uid=uid,
                        start=old.start, end=old.end, status=MeetingStatus.CANCELLED, note=reason, attendees=attendees, now=now,
                        sequence=sequence, location=location)
                    if repeated:
                        changed[key], reasons[key] = "cancelled", reason
                    else:
                        self.invitations.send(self.store.get_meeting(meeting_id), engagement, now, cancelled=True,
                                              **replanned_cancellation(reason, engagement, context["engineer_name"]))
                    changes.append(f"{title}: cancelled ({reason})")
                elif old is None or old.note != reason or old.status is not MeetingStatus.UNPLACED:
                    self.store.save_meeting(
                        engagement_id=engagement.id, key=key, title=title, description=description, uid=uid, start=None,
                        end=None, status=MeetingStatus.UNPLACED, note=reason, attendees=attendees, now=now,
                        sequence=old.sequence if old else 0, location=location)
                if reason != WAITING and (old is None or old.note != reason):
                    unplaced.append(f"{title}: {reason}")
            if repeated:
                self.series.send(engagement, spec.key, changed, series_zone, now, reasons)
        return Replanned(tuple(changes), tuple(warnings), tuple(unplaced))

    # -- people who join or leave an engagement (a deal the CRM sent again) ----------------------

    def replan(self, engagement_id: int, now: datetime) -> Replanned:
        """Re-plan after a change (the caller tells the engineer); nothing without a playbook."""
        engagement = self.store.get_engagement(engagement_id)
        playbook = self.playbooks.get(engagement.playbook or "")
        return self._replan(engagement, playbook, now) if playbook else Replanned()

    def uninvite(self, engagement_id: int, emails: set[str], now: datetime) -> list[str]:
        """Take ``emails`` off the meetings not yet held: a CANCEL to each of them only; return the
        titles of the meetings they were cancelled from."""
        engagement = self.store.get_engagement(engagement_id)
        titles = []
        series: dict[str, list[MeetingAttendee]] = {}  # a series' leavers get one CANCEL of it, after the loop
        for meeting in self.store.meetings(engagement_id):
            leaving = [a for a in meeting.attendees if a.email in emails]
            if not leaving or _held(meeting, now) or meeting.status is MeetingStatus.CANCELLED:
                continue
            if meeting.status is MeetingStatus.PLANNED and meeting.series_uid:
                series.setdefault(meeting.series_uid, leaving)
            elif meeting.status is MeetingStatus.PLANNED:
                # raised for them only: the others keep their copy and their answers count
                self.invitations.send(meeting, engagement, now, cancelled=True, to=leaving, sequence=meeting.sequence + 1,
                                      reason="you are no longer listed as a contact of this onboarding",
                                      next_step=NO_LONGER_NEEDED)
                titles.append(meeting.title)
            self._save_attendees(meeting, [a for a in meeting.attendees if a.email not in emails], now)
        for uid, leaving in series.items():
            title = self.series.resend(engagement, uid, self.series_zone(engagement), now, to=leaving, cancelled=True,
                                       reason="you are no longer listed on this engagement")
            titles += [title] if title else []
        return titles

    def invite_newcomers(self, engagement_id: int, emails: set[str], now: datetime) -> list[str]:
        """Welcome contacts new to the account and invite them to the meetings not yet held that
        their roles call them to (never to a cancelled or past one); return those meetings' titles."""
        engagement = self.store.get_engagement(engagement_id)
        playbook = self.playbooks.get(engagement.playbook or "")
        if playbook is None:
            return []
        account = self.store.get_account(engagement.account_id)
        titles = []
        series: dict[str, list[MeetingAttendee]] = {}  # a series goes once to those joining it, after the loop
        for meeting in self.store.meetings(engagement_id):
            if _held(meeting, now) or meeting.status is MeetingStatus.CANCELLED:
                continue
            present = {a.email for a in meeting.attendees}
            joining = [a for a in self._attendees(playbook.meeting(meeting.key.partition("#")[0]), engagement, account)
                       if a.email in emails and a.email not in present]
            if not joining:
                continue
            self._save_attendees(meeting, [*meeting.attendees, *joining], now)
            if meeting.status is MeetingStatus.PLANNED and meeting.series_uid:
                series.setdefault(meeting.series_uid, joining)
            elif meeting.status is MeetingStatus.PLANNED:
                self.invitations.send(self.store.get_meeting(meeting.id), engagement, now, to=joining)
                titles.append(meeting.title)
        for uid, joining in series.items():
            title = self.series.resend(engagement, uid, self.series_zone(engagement), now, to=joining)
            titles += [title] if title else []
        self.mail.welcome(engagement, playbook, now, only=frozenset(emails))
        return titles

    def clear_clashes(self, engagement_id: int, now: datetime) -> Replanned:
        """Before a hand-over: re-plan the engagement when a meeting not yet held overlaps one of the
        new engineer's other meetings (only those move); nothing when none does."""
        engagement = self.store.get_engagement(engagement_id)
        playbook = self.playbooks.get(engagement.playbook or "")
        if playbook is None or not engagement.engineer:
            return Replanned()
        self.store.lock_engineer(engagement.engineer)
        theirs = self.store.busy(engagement.engineer, excluding_engagement=engagement.id)
        # placed anew, not kept: the planner would keep one at exactly the time of one of hers
        clashing = frozenset(m.key for m in self.store.meetings(engagement.id)
                             if m.status is MeetingStatus.PLANNED and m.start and m.end and not _held(m, now)
                             and any(m.start < end and start < m.end for start, end in theirs))
        return self._replan(engagement, playbook, now, move=clashing) if clashing else Replanned()

    def hand_over(self, engagement_id: int, previous: str | None, now: datetime) -> list[str]:
        """The engagement's (new) engineer takes over the meetings not yet held: everyone gets the
        updated invitation (the engineer, and the organizer when engineers organise, changed) and
        ``previous`` a cancellation; return the titles of the meetings handed over."""
        engagement = self.store.get_engagement(engagement_id)
        playbook = self.playbooks.get(engagement.playbook or "")
        if playbook is None:
            return []
        account = self.store.get_account(engagement.account_id)
        self.store.rebook(engagement.id, engagement.engineer, now)  # her time now (clear_clashes first)
        titles = []
        series: dict[str, list[MeetingAttendee]] = {}  # each series is sent once, after the loop
        for meeting in self.store.meetings(engagement_id):
            if _held(meeting, now) or meeting.status is MeetingStatus.CANCELLED:
                continue
            wanted = self._attendees(playbook.meeting(meeting.key.partition("#")[0]), engagement, account)
            leaving = [a for a in meeting.attendees if a.email == (previous or "").lower()]
            kept = [a for a in meeting.attendees if a not in leaving]
            attendees = kept + [a for a in wanted if a.email not in {k.email for k in kept}]
            if meeting.status is not MeetingStatus.PLANNED:
                self._save_attendees(meeting, attendees, now)
                continue
            self._save_attendees(meeting, attendees, now, sequence=meeting.sequence + 1)
            if meeting.series_uid:
                series.setdefault(meeting.series_uid, leaving)
                continue
            moved = self.store.get_meeting(meeting.id)
            self.invitations.send(moved, engagement, now, updated=True)
            if leaving:
                self.invitations.send(moved, engagement, now, cancelled=True, to=leaving, next_step=NO_LONGER_NEEDED,
                                      reason=f"{self.mail.name_of(engagement.engineer or '') or 'another engineer'} takes it over")
            titles.append(meeting.title)
        for uid, leaving in series.items():  # one update of each series, one CANCEL of it to the engineer leaving
            title = self.series.resend(engagement, uid, self.series_zone(engagement), now, updated=True)
            if leaving:
                self.series.resend(engagement, uid, self.series_zone(engagement), now, to=leaving, cancelled=True,
                                   reason="another engineer takes it over")
            titles += [title] if title else []
        return titles

    def series_zone(self, engagement: Engagement) -> ZoneInfo:
        """The zone a series' weekly rule is kept in: the playbook's calendar's, else the engineer's."""
        playbook = self.playbooks.get(engagement.playbook or "")
        binding = playbook_calendar(playbook.calendar, self.calendars) if playbook else None
        engineer = self.config.engineer(engagement.engineer or "")
        return (binding or self.calendars[(engineer.calendar if engineer else None) or self.config.calendar(None).name]).tz

    def _save_attendees(self, meeting: Meeting, attendees: list[MeetingAttendee], now: datetime,
                        sequence: int | None = None) -> None:
        self.store.save_meeting(
            engagement_id=meeting.engagement_id, key=meeting.key, title=meeting.title, description=meeting.description,
            uid=meeting.uid, start=meeting.start, end=meeting.end, status=meeting.status, note=meeting.note,
            attendees=attendees, now=now, sequence=sequence)

    # -- people -----------------------------------------------------------------------------------

    def _attendees(self, spec: MeetingSpec, engagement: Engagement, account: Account | None) -> list[MeetingAttendee]:
        found: dict[str, MeetingAttendee] = {}
        for roles, required in ((spec.attendees, True), (spec.optional, False)):
            for role in roles:
                if spec.internal and role.startswith("customer:"):
                    continue  # an internal meeting is never sent to a customer
                for address in self._resolve(role, engagement, account):
                    found.setdefault(address.email.lower(), MeetingAttendee(address.email.lower(), address.name, role, required))
        return list(found.values())

    def people(self, role: str, engagement: Engagement, account: Account | None) -> list[Address]:
        return self._resolve(role, engagement, account)  # for the reminders and check-points

    def _resolve(self, role: str, engagement: Engagement, account: Account | None) -> list[Address]:
        """The people a playbook role names in this engagement (none when nobody fills it)."""
        engineer = self.config.engineer(engagement.engineer or "")
        if role == "engineer":
            return [Address(engineer.name, engineer.email)] if engineer else []
        if role == "manager":
            manager = self.config.manager(engineer.manager) if engineer and engineer.manager else None
            return [Address(manager.name, manager.email)] if manager else []
        if role == "project_manager":
            email = engineer.project_manager if engineer else None
            return [Address(self.mail.name_of(email), email)] if email else []
        if role == "sales_rep":
            return [Address(self.mail.name_of(engagement.sales_rep), engagement.sales_rep)] if engagement.sales_rep else []
        contacts = [c for c in (account.contacts if account else ()) if c.failing_since is None]
        return [Address(c.name, c.email) for c in contacts_in_role(role, contacts)]

    # -- mail -------------------------------------------------------------------------------------

    # -- helpers ----------------------------------------------------------------------------------

    def _text_context(self, engagement: Engagement, account: Account | None) -> dict:
        engineer = self.config.engineer(engagement.engineer or "")
        return dict(
            account=engagement.account, engineer_name=engineer.name if engineer else self.support.name,
            customer_name=first_contact_name(account),
            golive_date=engagement.golive_date.isoformat() if engagement.golive_date else None,
            sales_rep_name=self.mail.name_of(engagement.sales_rep) or engagement.sales_rep,
        )

    def _text(self, template: str, context: dict) -> str:
        return self.mails.renderer.render_text(template, **context).strip()

def _held(meeting: Meeting, now: datetime) -> bool:
    """Whether a planned meeting has begun: its attendees are history, never changed."""
    return meeting.start is not None and meeting.start <= now
