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


def until(story: Onboarding, found, *, days: int = 20, hour: int = 14):
    """Run the worker once a day at ``hour`` UTC (a working-day hour in São Paulo and in Berlin) until
    ``found(new mail)`` gives something; return it. At most ``days`` days."""
    desk = story.desk
    for _ in range(days):
        desk.at((desk.now + timedelta(days=1)).replace(hour=hour, minute=0))
        before = len(desk.sent())
        desk.run_once()
        got = found(new_mail(story, before))
        if got:
            return got
    raise AssertionError(f"nothing came within {days} days")


def test_sprint_zero_checklist_reminders_and_answers_by_mail(desk):
    story = Onboarding(desk, PAULISTA)
    ana = "ana.souza@paulistapag.example"
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

    # Ana (IT) is reminded of her rows before they fall due, and answers the reminder "Done".
    [reminder] = until(story, lambda new: [s for s in new if ana in s.recipients and "Reminder" in s.mail.subject])
    hers = [t for t in tasks(story).values() if t["owner"] == "customer:it"]
    reminded = [t for t in hers if t["name"] in reminder.mail.text]
    assert reminded and all(date.fromisoformat(t["due"]) > desk.now.date() for t in reminded)
    assert list(reminder.recipients) == [ana]
    before = len(desk.sent())
    reply(story, ana, reminder, "Done.\n\nAna")
    assert all(tasks(story)[t["key"]]["status"] == "done" for t in reminded)
    [told] = [s for s in new_mail(story, before, to=TOM) if "done by the customer" in s.mail.subject]
    assert "Ana Souza" in told.mail.text or ana in told.mail.text

    # João's row nobody does: the day after it fell due Tom is told, with his project manager in copy.
    [overdue] = until(story, lambda new: [s for s in new if TOM in s.recipients and "overdue" in s.mail.subject])
    assert PAULA in overdue.recipients
    late = [t for t in tasks(story).values() if t["status"] != "done" and t["name"] in overdue.mail.text]
    assert late and all(date.fromisoformat(t["due"]) < desk.now.date() for t in late)

    # A restart (more passes at the same moment) sends nothing again.
    before = len(desk.sent())
    desk.run_once()
    desk.run_once()
    assert new_mail(story, before) == []


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

    # After the first-month review the contacts get the one question; Lena answers it.
    asked = until(story, lambda new: [s for s in new if "One question" in s.mail.subject], days=45, hour=9)
    [review] = [m for m in story.meetings().values() if m["key"] == "first-month-review"]
    assert datetime.fromisoformat(review["end"]) < desk.now
    assert sorted(r for s in asked for r in s.recipients) == sorted(SPREE.contacts)  # one mail each
    [survey] = [s for s in asked if "lena.vogel@spree-logistik.example" in s.recipients]
    before = len(desk.sent())
    reply(story, "lena.vogel@spree-logistik.example", survey, "9 - a very good start.\n\nLena")
    [noted] = [s for s in new_mail(story, before, to=TOM) if "answered the survey: 9/10" in s.mail.subject]
    assert "a very good start" in noted.mail.text

    # Lena signs off and Tom closes the engagement: he and Dana get the summary, once.
    before = len(desk.sent())
    reply(story, TOM, noted, '#signoff "Lena Vogel"\n#close')
    shown = story.desk.engagement(story.engagement_id)
    assert shown["milestones"]["signed_off_by"] == "Lena Vogel" and shown["status"] == "closed"
    [summary] = [s for s in new_mail(story, before) if s.mail.subject.startswith("Engagement summary")]
    assert TOM in summary.recipients and DANA in summary.recipients
    assert "Went live: Mon 3 Aug 2026 (on the planned day)" in summary.mail.text
    assert "lena.vogel@spree-logistik.example: 9/10" in summary.mail.text
    before = len(desk.sent())
    desk.run_once()
    assert [s for s in new_mail(story, before) if s.mail.subject.startswith("Engagement summary")] == []
