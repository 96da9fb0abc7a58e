"""An engagement's mail to people: the playbook's welcome to the customer's contacts, and the planning
notices that tell the engineer what a (re)plan did and what to answer (for :class:`~ticketing.services.
onboarding.Onboarding`).

Each Message-ID names its cause: the welcome its engagement (and, for contacts who join later, who
joined), a planning notice its version among the engagement's planning notices and a digest of what
it says, so the same cause is one mail whatever restarts happen, and two changes in one second two.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from mailer import Address
from ticketing.config import Config
from ticketing.core.calendars import BusinessCalendar, zone
from ticketing.core.domain import Account, Engagement, MeetingStatus
from ticketing.core.mails import Draft, Mails, Support, cause
from ticketing.core.planner import local_label
from ticketing.core.playbooks import Playbook
from ticketing.services.engagement_tasks import welcome_tasks
from ticketing.services.outbox import Outbox
from ticketing.services.sla_watch import build_policies
from ticketing.services.welcome import greeting, welcome_facts
from ticketing.store import SqlStore

WAITING = "waiting for the go-live date"  # the planner's reason for a go-live meeting without a date


@dataclass(frozen=True)
class Replanned:
    """What a (re)planning changed, in words for the engineer."""

    changes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()


class EngagementMail:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox,
                 calendars: dict[str, BusinessCalendar], playbooks: dict[str, Playbook],
                 resolve: Callable[[str, Engagement, Account | None], list[Address]]):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.calendars = calendars
        self.playbooks = playbooks
        #: The people a playbook role names in an engagement (the onboarding's).
        self._resolve = resolve
        self.support = Support(config.support.address, config.support.name)
        self.policies = build_policies(config)  # what the welcome promises

    def welcome(self, engagement: Engagement, playbook: Playbook, now: datetime,
                 only: frozenset[str] | None = None) -> None:
        """The playbook's welcome, to ``only`` those of its recipients when given (contacts who join later)."""
        account = self.store.get_account(engagement.account_id)
        customer_tz = zone(account.timezone if account else None) or ZoneInfo("UTC")
        engineer = self.config.engineer(engagement.engineer or "")
        meetings = self.store.meetings(engagement.id)
        internal = {s.key for s in playbook.meetings if s.internal}  # ours alone: never in the customer's mail
        meetings = [m for m in meetings if m.key.partition("#")[0] not in internal]
        planned = [m for m in meetings if m.status is MeetingStatus.PLANNED and m.start]
        context = dict(
            account=engagement.account, customer_name=first_contact_name(account),
            engineer_name=engineer.name if engineer else self.support.name,
            engineer_email=engineer.email if engineer else self.support.address,
            sales_rep_name=self.name_of(engagement.sales_rep) or engagement.sales_rep, playbook_title=playbook.title,
            meetings=[{"title": m.title, "start_local": local_label(m.start, m.end, customer_tz),
                       "attendees": [a.name or a.email for a in m.attendees]} for m in planned],
            unplanned=[m.title for m in meetings if m.status is MeetingStatus.UNPLACED and m.note != WAITING],
            golive_waiting=[m.title for m in meetings if m.status is MeetingStatus.UNPLACED and m.note == WAITING],
            tasks=welcome_tasks(self.store.tasks(engagement.id), lambda role: self._resolve(role, engagement, account)),
            **welcome_facts(self.config, self.calendars, self.policies, engagement.engineer, playbook, account,
                            customer_tz, now),
        )
        for spec in playbook.emails:
            if spec.anchor != "start":
                continue  # go-live emails are a later addition; the welcome is what the playbooks send
            to = [a for role in spec.to for a in self._resolve(role, engagement, account)
                  if only is None or a.email.lower() in only]
            cc = [a for role in spec.cc for a in self._resolve(role, engagement, account)
                  if a.email.lower() not in {t.email.lower() for t in to}]
            if not to:
                continue
            body = self.mails.render(spec.template, greeting=greeting(to), **context)
            # its cause: the engagement, and who joined (a contact is welcomed once, however often re-added)
            token = f"{spec.key}.{engagement.id}" + ("" if only is None else f".join.{cause(*sorted(only))}")
            draft = Draft(spec.key, token, tuple(to),
                          f"Welcome to {self.support.name}: the onboarding of {engagement.account}", body,
                          engagement.ticket_id, cc=tuple(cc))
            self.outbox.queue(draft, now, engagement_id=engagement.id)

    def tell(self, engagement: Engagement, playbook: Playbook | None, result: Replanned, now: datetime, *,
             headline: str, ask_golive: bool = False, token: str | None = None, ask: str = "") -> None:
        """A planning notice to the engagement's engineer (else the first manager) on its hand-off ticket."""
        email = engagement.engineer or (self.config.managers[0].email if self.config.managers else None)
        if not email:
            return
        person = self.config.person(email)
        body = self.mails.render(
            "planning", headline=headline, engagement_id=engagement.id, account=engagement.account,
            playbook_title=playbook.title if playbook else "no playbook", changes=list(result.changes),
            warnings=list(result.warnings), unplaced=list(result.unplaced), ask_golive=ask_golive, ask=ask,
        )
        # Its cause: the engagement's n-th planning notice, saying this (two in one second are two mails).
        version = self.store.count_engagement_mail(engagement.id, "planning") + 1
        stamp = token or f"planning.{engagement.id}.{version}." + cause(
            headline, *result.changes, "|", *result.warnings, "|", *result.unplaced)
        draft = Draft("planning", stamp, (Address(person.name if person else "", email),), headline, body,
                      engagement.ticket_id, auto_submitted="auto-generated")
        self.outbox.queue(draft, now, engagement_id=engagement.id)

    def tell_engineer(self, engagement: Engagement, headline: str, lines: list[str], now: datetime, *, token: str,
                      ask: str = "") -> None:
        """A planning mail to the engagement's engineer (else the first manager) on its hand-off
        ticket: ``lines`` under "What changed", then ``ask`` (what to reply)."""
        self.tell(engagement, self.playbooks.get(engagement.playbook or ""), Replanned(changes=tuple(lines)), now,
                  headline=headline, token=token, ask=ask)

    # -- helpers ----------------------------------------------------------------------------------

    def name_of(self, email: str) -> str:
        """The name of a configured person or a contact with this address, else ""."""
        person = self.config.person(email)
        if person:
            return person.name
        contact = self.store.contact(email)
        return contact.name if contact else ""


def first_contact_name(account: Account | None) -> str:
    return next((c.name for c in (account.contacts if account else ()) if c.name), "")
