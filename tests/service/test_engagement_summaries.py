"""When an engagement is closed, its engineer and the managers get one summary of it, planned
against actual, and the customer one of their own where the playbook asks for it."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from support.desk import CONFIG, SLA, SUPPORT, Desk
from support.mail import make_message

from ticketing.app.bootstrap import build_calendars, build_playbooks
from ticketing.app.cli import scorecard
from ticketing.core.tasks import TaskStatus
from ticketing.services.engagement_summaries import EngagementSummaries
from ticketing.services.scorecards import Scorecards

NOTICE = """Closed Won.

Account: Acme Corporation
Domains: acme.example
Contract ID: SOW-7781
Close Date: 2026-11-17
Package: {package}
Go-Live Date: 2027-01-14
Timezone: America/New_York
Sales Rep: Sam Carter <sam@northwind.example>
Engineer: Priya Raman <priya@northwind.example>
Contact: Jane Doe <jane@acme.example>; role=project lead
Contact: Marcus Lee <marcus@acme.example>; role=IT
"""
PRIYA = "priya@northwind.example"
CLOSED = datetime(2027, 3, 1, 17, 0, tzinfo=timezone.utc)
# The professional-services playbook's tickets run on the "standard" policy.
CONFIG_SLA = {**CONFIG, "sla": {**SLA, "policies": [*SLA["policies"],
                                                    {"name": "standard", "targets": SLA["policies"][0]["targets"]}]}}


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG_SLA)


def summaries(desk: Desk) -> EngagementSummaries:
    hd = desk.intake.desk
    return EngagementSummaries(desk.store, desk.config, hd.mails, hd.outbox, hd.calendars, hd.onboarding.playbooks)


def start(desk: Desk, package: str = "Professional Services"):
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n1@crm>",
                              body=NOTICE.format(package=package)))
    [engagement] = desk.store.engagements()
    return engagement


def a_ticket_answered(desk: Desk) -> int:
    """Jane asks for help; Priya answers at once: a met first response."""
    desk.receive(make_message(sender="Jane Doe <jane@acme.example>", subject="Export fails", message_id="<t1@acme.example>",
                              body="The CSV export fails since this morning."))
    [(_, note)] = [(m, p) for m, p in desk.mail("notification") if "Export fails" in p.subject]
    desk.receive(make_message(sender=f"Priya Raman <{PRIYA}>", subject=f"Re: {note.subject}", message_id="<r1@northwind.example>",
                              in_reply_to=f"<{note.message_id}>", body="Fixed: the export works again.\n\nPriya"))
    [ticket] = [t for t in desk.store.list_tickets(status="all") if t.subject == "Export fails"]
    return ticket.id


def test_a_closed_engagement_sends_both_summaries_once_with_planned_and_actual(desk, store):
    engagement = start(desk)
    ticket_id = a_ticket_answered(desk)
    tasks = {t.key: t for t in store.tasks(engagement.id)}
    late = tasks["intake-details"]
    with store.transaction():
        store.set_task_status(late.id, TaskStatus.DONE, datetime.combine(late.due + timedelta(days=3), datetime.min.time(),
                                                                        tzinfo=timezone.utc) + timedelta(hours=18))
        store.set_task_status(tasks["project-summary"].id, TaskStatus.DONE,
                              datetime.combine(tasks["project-summary"].due, datetime.min.time(), tzinfo=timezone.utc))
        store.set_live(engagement.id, date(2027, 1, 19))
        store.save_survey_answer(engagement.id, "jane@acme.example", 9, "great team", CLOSED - timedelta(days=2))
    assert summaries(desk).sweep(CLOSED - timedelta(hours=1)) == 0  # still running: nothing to sum up
    with store.transaction():
        store.close_engagement(engagement.id, CLOSED)
    assert summaries(desk).sweep(CLOSED + timedelta(minutes=15)) == 2

    [(mail, internal)] = desk.mail("engagement_summary")
    assert mail.recipients == (PRIYA, "dana@northwind.example")  # the engineer, the managers in copy
    assert internal.subject == "Engagement summary: Acme Corporation (late)"  # the metrics' verdict
    text = internal.text
    assert "Health: late\n  - went live 2027-01-19, 5 days after the planned 2027-01-14\n" in text
    assert "Go-live planned: Thu 14 Jan 2027" in text
    assert "Went live: Tue 19 Jan 2027 (5 days late)" in text  # days, as the metrics count them
    assert "Closed: Mon 1 Mar 2027" in text
    assert f"late: {late.name}: due" in text and "done on time 20% (1/5), target 80%; 3 overdue" in text
    assert "not done: " in text  # the sign-off and the wrap-up were never marked done
    assert f"[WG-{ticket_id}] P3 Export fails (open): first response met, resolution running" in text
    assert "jane@acme.example: 9/10: great team" in text and "average 9.0/10" in text
    assert "held: Blameless post-mortem: Acme Corporation engagement" in text  # ours, internal: listed here

    [(mail, customer)] = desk.mail("customer_summary")
    assert set(mail.recipients) == {"jane@acme.example", "marcus@acme.example", PRIYA}
    ctext = customer.text
    assert "You went live on Tue 19 Jan 2027." in ctext
    assert "Project kick-off: Acme Corporation" in ctext and "Hello Jane Doe and Marcus Lee," in ctext and "post-mortem" not in ctext.lower()
    assert SUPPORT in ctext and "Monday to Friday" in ctext
    assert customer.reply_to is None or SUPPORT in str(customer.reply_to)

    # Later passes and a restarted worker send nothing more.
    assert summaries(desk).sweep(CLOSED + timedelta(hours=1)) == 0
    assert summaries(Desk(store, CONFIG_SLA)).sweep(CLOSED + timedelta(days=1)) == 0
    assert len(desk.mail("engagement_summary")) == 1 and len(desk.mail("customer_summary")) == 1


def test_a_playbook_without_a_customer_summary_sends_only_ours(desk, store):
    engagement = start(desk, package="White Glove")
    with store.transaction():
        store.close_engagement(engagement.id, CLOSED)
    assert summaries(desk).sweep(CLOSED + timedelta(minutes=15)) == 1
    [(mail, internal)] = desk.mail("engagement_summary")
    assert "Survey: no answer yet" in internal.text and "no go-live recorded" in internal.text
    assert desk.mail("customer_summary") == []


def test_the_summary_says_the_health_whiteglove_engagement_shows(desk, store):
    """The summary's verdict and reasons are those of ``whiteglove engagement ID`` for the same
    engagement, asked days after the close: both measure it as of its close."""
    engagement = start(desk, package="White Glove")
    with store.transaction():
        store.close_engagement(engagement.id, CLOSED)
    summaries(desk).sweep(CLOSED + timedelta(minutes=15))
    [(_, internal)] = desk.mail("engagement_summary")

    metrics = Scorecards(store, desk.config, build_calendars(desk.config),
                         build_playbooks(desk.config)).measure(store.get_engagement(engagement.id), CLOSED + timedelta(days=9))
    lines = scorecard.metrics_lines(metrics)  # what `whiteglove engagement ID` prints
    assert lines[0] == "  Health: late (as of 2027-03-01)"
    assert internal.subject == f"Engagement summary: Acme Corporation ({metrics.health.verdict.label})"
    shown = [line.removeprefix("    - ") for line in lines[1:] if line.startswith("    - ")]
    assert shown and "go-live 2027-01-14 is 46 days past plan" in shown
    said = internal.text.split("Health: late\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.removeprefix("  - ") for line in said] == shown
