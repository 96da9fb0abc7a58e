"""Where an engagement's people work and read (service layer): the business calendars its tasks
count on, the customer's working week, each person's hours and zone, and the people a role names.

The task reminders, the overdue notices, the customers' "done" and the weekly check-point ask
these questions of every engagement; :class:`Settings` answers them from the configuration, the
playbooks and the store as the onboarding's planning does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from mailer import Address
from ticketing.config import Config
from ticketing.core.calendars import BusinessCalendar, zone
from ticketing.core.domain import Account, Engagement
from ticketing.core.meeting_calendars import playbook_calendar
from ticketing.core.playbooks import Playbook
from ticketing.services.customer_week import customer_week
from ticketing.services.engineers import engineer_calendar
from ticketing.services.onboarding import Onboarding
from ticketing.store import SqlStore


@dataclass(frozen=True)
class Setting:
    engagement: Engagement
    account: Account | None
    playbook: Playbook | None
    #: The calendar whose business days its tasks count (the playbook's, else the engineer's).
    counting: BusinessCalendar
    #: The engineer's calendar: the hours our side works.
    ours: BusinessCalendar
    #: The customer's working week, in their zone.
    customer: BusinessCalendar
    #: The local date the engagement was seen: a task due before it is history.
    began: date
    #: Started by history (its welcome was held, never sent): nobody is reminded of anything.
    from_history: bool = False

    @property
    def customer_tz(self) -> ZoneInfo:
        return self.customer.tz


@dataclass(frozen=True)
class Reader:
    """Someone mail is written for: their address, whether they are one of us, and their hours."""

    address: Address
    internal: bool
    calendar: BusinessCalendar
    tz: ZoneInfo


class Settings:
    def __init__(self, store: SqlStore, config: Config, calendars: dict[str, BusinessCalendar], onboarding: Onboarding):
        self.store = store
        self.config = config
        self.calendars = calendars
        self.onboarding = onboarding

    def of(self, engagement: Engagement) -> Setting:
        playbook = self.onboarding.playbooks.get(engagement.playbook or "")
        ours = self._calendar_of(engagement.engineer)
        account = self.store.get_account(engagement.account_id) if engagement.account_id else None
        tz = zone(account.timezone if account else None) or ours.tz
        customer = customer_week(self.config, self.store, engagement, account, tz, self.onboarding.customer_day)
        counting = (playbook_calendar(playbook.calendar, self.calendars) if playbook else None) or ours
        return Setting(engagement, account, playbook, counting, ours, customer,
                       engagement.created_at.astimezone(counting.tz).date(), self.store.has_held_mail(engagement.id))

    def people(self, role: str, setting: Setting) -> list[Address]:
        """The people ``role`` names in the engagement (contacts whose mail bounces left out)."""
        return self.onboarding.people(role, setting.engagement, setting.account)

    def reader(self, address: Address, setting: Setting) -> Reader:
        """``address`` as a reader: one of us reads in their zone and works their calendar's hours
        (the engineer's team's when they have none); anyone else is the customer."""
        email = address.email.lower()
        configured = self.config.person(email)
        internal = configured is not None or email in {(setting.engagement.sales_rep or "").lower(),
                                                       (self._project_manager(setting) or "").lower()}
        if not internal:
            return Reader(address, False, setting.customer, setting.customer_tz)
        engineer = self.config.engineer(email)
        calendar = self._calendar_of(engineer.email) if engineer else setting.ours
        return Reader(address, True, calendar, ZoneInfo(self.config.timezone_of(email) or calendar.tz.key))

    def _project_manager(self, setting: Setting) -> str | None:
        engineer = self.config.engineer(setting.engagement.engineer or "")
        return engineer.project_manager if engineer else None

    def _calendar_of(self, email: str | None) -> BusinessCalendar:
        return engineer_calendar(self.config, self.calendars, email)
