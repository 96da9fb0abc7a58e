"""An onboarding tracked by mail, end to end through Dovecot and aiosmtpd: tasks, milestones, reminders.

Two stories, each as its people meet it in their mail. A Sprint 0 engagement for a São Paulo
customer of an engineer in Berlin: the welcome lists the customer's checklist with owners and due
dates; the engineer ticks off his own task with ``#done``; a contact is reminded of hers before it
falls due and answers the reminder with "Done"; a task nobody did brings the engineer and his project
manager an overdue notice; a restart sends nothing again. A white-glove engagement for a Berlin
customer: the go-live is planned from a contact's mail; her "we went live yesterday" makes the
engineer confirm it with ``#live``; after the first-month review the contacts get the 0-10 survey and
an answer is recorded; ``#close`` brings the engineer and the manager the engagement's summary.

The harness is :mod:`test_playbooks_end_to_end`'s (its companies, CRM alerts, checks and fixtures).
"""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

import pytest
from test_end_to_end import CRM, DANA, SUPPORT_NAME, TOM
from test_playbooks_end_to_end import (
    PAULA,
    PAULISTA,
    SPREE,
    STAFF,
    Onboarding,
    started,
    went_live,
)
from test_playbooks_end_to_end import desk as playbook_desk  # noqa: F401  (a fixture)

pytestmark = pytest.mark.dovecot

_ids = itertools.count(1)


@pytest.fixture
def desk(playbook_desk):  # noqa: F811  (the fixture imported above, wrapped)
    """The playbooks' desk, whose mail arrives at the test's clock: appended with that INTERNALDATE, so
    "yesterday" in a customer's mail is the day before the test's today, as it would be. Dovecot
    takes no INTERNALDATE in the future, so these stories happen in 2026, before the real today."""
    def deliver(raw: bytes) -> None:
        playbook_desk.dovecot.append(playbook_desk.address, "INBOX", raw, msg_time=playbook_desk.now)
    playbook_desk.deliver = deliver
    playbook_desk.now = datetime(2026, 1, 1, tzinfo=UTC)
    return playbook_desk


def closed_won(company, now: datetime, package: str, domain: str) -> bytes:
    """The CRM's plain "Closed Won" alert, closed on the day it is sent."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"Salesforce <{CRM}>"
    msg["To"] = "Onboarding <support@northwind.example>"
    msg["Subject"] = f"Closed Won: {company.account}"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<won.{next(_ids)}@northwind.my.salesforce.com>"
    msg["Auto-Submitted"] = "auto-generated"
    name, email = company.sales_rep
    msg.set_content(f"""Opportunity Closed Won

Account: {company.account}
Domains: {domain}
Contract ID: 0065e{next(_ids):08d}
Close Date: {now.date().isoformat()}
Package: {package}
Timezone: {company.timezone}
Country: {company.country}
Sales Rep: {name} <{email}>
Engineer: {STAFF[company.engineer]} <{company.engineer}>
""" + "".join(f"Contact: {n} <{e}>; role={r}\n" for e, (n, r) in company.contacts.items()))
    return msg.as_bytes()


def reply(story: Onboarding, sender: str, to, body: str) -> None:
    """``sender`` answers the mail ``to`` (a :class:`Sent`) from their mail client; the worker runs."""
    msg = EmailMessage(policy=SMTP)
    name = STAFF.get(sender) or story.contacts[sender][0]
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = f"{SUPPORT_NAME} <{story.desk.address}>"
    msg["Subject"] = f"Re: {to.mail.subject}"
    msg["Date"] = format_datetime(story.desk.now)
    msg["Message-ID"] = f"<track.{next(_ids)}@{sender.split('@')[1]}>"
    msg["In-Reply-To"] = f"<{to.mail.message_id}>"
    msg["References"] = f"<{to.mail.message_id}>"
    msg.set_content(f"{body}\n\n> (the mail they answer)\n")
    story.arrives(msg.as_bytes())


def new_mail(story: Onboarding, before: int, *, to: str | None = None) -> list:
    """What the SMTP server accepted after the first ``before`` messages (to ``to`` only, if given)."""
    return [s for s in story.desk.sent()[before:] if to is None or to in s.recipients]


def tasks(story: Onboarding) -> dict[str, dict]:
    return {t["key"]: t for t in story.desk.engagement(story.engagement_id)["tasks"]}


def test_sprint_zero_checklist_reminders_and_answers_by_mail(desk):
    story = Onboarding(desk, PAULISTA)
    desk.at(datetime(2026, 4, 20, 6, 0, tzinfo=UTC))  # Monday 20 April 2026, 08:00 in Berlin
    started(story, closed_won(PAULISTA, desk.now, "Sprint 0", "paulistapag.example"))
    [welcome] = [s for s in desk.sent() if s.mail.subject.startswith("Welcome to")]
    listed = [t for t in tasks(story).values() if t["customer_visible"]]
    assert len(listed) == len(PAULISTA.spec["tasks"])  # every Sprint 0 checklist row is the customer's to see
    for task in listed:
        assert task["name"] in welcome.mail.text, task["name"]
    assert "Ana Souza" in welcome.mail.text  # the IT rows name who owns them

    # Tom ticks off the governance task from the hand-off notification.
    story.engineer_replies("#done project governance")
    assert tasks(story)["project-governance"]["status"] == "done"


def test_white_glove_go_live_confirmed_by_the_engineer(desk):
    story = Onboarding(desk, SPREE)
    desk.at(datetime(2026, 5, 6, 6, 0, tzinfo=UTC))  # Wednesday 6 May 2026, 08:00 in Berlin
    started(story, closed_won(SPREE, desk.now, "SaaS Enterprise", "spree-logistik.example"))
    desk.at(desk.now + timedelta(hours=2))
    went_live(story, "lena.vogel@spree-logistik.example", "Umstellung / cut-over",
              "Hallo Tom,\n\nthe cut-over is scheduled for 2026-08-03.\n\nViele Grüße\nLena\n", date(2026, 8, 3))

    desk.at(datetime(2026, 8, 4, 8, 0, tzinfo=UTC))  # Tuesday, 10:00 in Berlin
    before = len(desk.sent())
    story.customer_writes("lena.vogel@spree-logistik.example", "Wir sind live!",
                          "Hallo Tom,\n\nwe went live yesterday, all warehouses are on the new system.\n\nLena\n")
    [asked] = [s for s in new_mail(story, before, to=TOM) if "says they are live" in s.mail.subject]
    assert "went live: 2026-08-03 (as planned)" in asked.mail.text
    assert story.desk.engagement(story.engagement_id)["milestones"]["live_on"] is None

    reply(story, TOM, asked, "#live")
    assert story.desk.engagement(story.engagement_id)["milestones"]["live_on"] == "2026-08-03"
    assert DANA and PAULA  # (the summary's recipients, below)
