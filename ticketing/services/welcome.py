"""What the welcome email tells the customer besides the meetings: who leads the project on both
sides, when support works, what the SLA promises and whom to escalate to.

:func:`welcome_facts` gathers it from the configuration (the engineer, their calendar and manager,
``[sla]``) and the account (its contacts' roles, its zone, its tier); the words are
:mod:`ticketing.core.words`'.
"""
from __future__ import annotations

from datetime import datetime
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from mailer import Address
from ticketing.config import Config
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.domain import Account, Engagement
from ticketing.core.playbooks import Playbook
from ticketing.core.sla import Policy
from ticketing.core.words import (
    hours_in_words,
    is_project_lead,
    names_in_words,
    sla_in_words,
    zone_label,
)


def greeting(recipients: Sequence[Address]) -> str:
    """Everyone the welcome is addressed to, by name (their address when they have none)."""
    return names_in_words([a.name or a.email for a in recipients])


def welcome_facts(config: Config, calendars: Mapping[str, BusinessCalendar], policies: Mapping[str, Policy],
                  engineer_email: str | None, playbook: Playbook, account: Account | None, customer_tz: ZoneInfo,
                  now: datetime) -> dict:
    """The welcome's context beyond the meetings (see the module docstring)."""
    engineer = config.engineer(engineer_email or "")
    calendar = calendars.get((engineer.calendar if engineer else None) or config.calendar(None).name)
    lead = next((c for c in (account.contacts if account else ()) if c.failing_since is None and is_project_lead(c.role)),
                None)
    our_pm = engineer.project_manager if engineer else None
    policy = policies.get(_policy_name(config, playbook, account) or "")
    return dict(
        customer_zone=zone_label(customer_tz, now),
        project_lead={"name": lead.name or lead.email, "email": lead.email, "role": lead.role} if lead else None,
        our_project_manager={"name": _name(config, our_pm), "email": our_pm} if our_pm else None,
        support_hours=hours_in_words(calendar, customer_tz, now.astimezone(calendar.tz).date()) if calendar else [],
        sla=sla_in_words(policy, calendars, calendar.name if calendar else None) if policy else [],
        escalation=_escalation(config, engineer.manager if engineer else None),
    )


#: What next, for someone taken off a meeting that goes ahead without them.
NO_LONGER_NEEDED = "It is no longer needed for you: there is nothing to do, and it goes ahead for the others."


def replanned_cancellation(reason: str, engagement: Engagement, engineer_name: str) -> dict:
    """Why a re-planning cancelled a meeting and what happens next, in the attendees' words
    (``reason`` is the planner's, for the engineer): ``{"reason": …, "next_step": …}``."""
    if reason.startswith("waiting for the go-live"):
        return {"reason": "the go-live date is not known any more",
                "next_step": "It will be planned again once the go-live date is set, and you will get a new invitation."}
    golive = engagement.golive_date
    if golive is None:
        return {"reason": "the onboarding's dates changed and it no longer fits",
                "next_step": f"{engineer_name} will plan it again with you, and you will get a new invitation."}
    moved = f"the go-live moved to {golive:%A} {golive.day} {golive:%B %Y}"
    if "has passed" in reason:  # its window before the go-live is behind us
        return {"reason": f"{moved}, too soon for it",
                "next_step": f"It will not be planned again, as there is no time left for it; {engineer_name} will go "
                             "through what it was to cover with you."}
    return {"reason": f"{moved} and it no longer fits",
            "next_step": f"{engineer_name} will plan it again with you, and you will get a new invitation."}


def _policy_name(config: Config, playbook: Playbook, account: Account | None) -> str | None:
    """The policy the account's tickets run on (as :meth:`SlaWatch.policy_for` chooses it)."""
    if playbook.sla_policy:
        return playbook.sla_policy
    if account and account.tier and account.tier.lower() in config.sla.tier_policy:
        return config.sla.tier_policy[account.tier.lower()]
    return config.sla.default_policy


def _escalation(config: Config, manager: str | None) -> dict | None:
    """The engineer's manager, else the first step of ``[sla] escalation_path``."""
    email = manager or next(iter(config.sla.escalation_path), None)
    return {"name": _name(config, email), "email": email} if email else None


def _name(config: Config, email: str) -> str:
    """A configured person's name, else "" (the mail then shows the address alone)."""
    person = config.person(email)
    return person.name if person else ""
