"""Engagements that follow the practice, end to end without servers: an internal meeting stays ours,
the customer's public holidays (their country from the notice) are kept free, and a playbook with
its own calendar goes to an engineer whose hours cover it."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from support.desk import CONFIG, Desk
from support.mail import make_message

NOTICE = """Closed Won.

Account: Acme Corporation
Domains: acme.example
Contract ID: SOW-7781
Close Date: 2026-11-17
Package: Professional Services
Timezone: America/New_York
Sales Rep: Sam Carter <sam@northwind.example>
Engineer: Priya Raman <priya@northwind.example>
Contact: Jane Doe <jane@acme.example>; role=project lead
Contact: Marcus Lee <marcus@acme.example>; role=IT
"""


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def start(desk: Desk, body: str = NOTICE):
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n1@crm>",
                              body=body))
    [engagement] = desk.store.engagements()
    return engagement


def test_the_post_mortem_is_never_in_the_customers_welcome_nor_sent_to_a_customer(desk):
    engagement = start(desk)
    meetings = {m.key: m for m in desk.store.meetings(engagement.id)}
    post_mortem = meetings["post-mortem"]
    assert post_mortem.status == "planned" and meetings["project-summary"].status == "planned"
    assert {a.email for a in post_mortem.attendees} == {"priya@northwind.example", "dana@northwind.example",
                                                        "sam@northwind.example"}

    [(_, welcome)] = desk.mail("welcome")
    assert {a.email for a in welcome.to} == {"jane@acme.example", "marcus@acme.example"}
    assert "Project summary" in welcome.text and "Weekly project call" in welcome.text
    assert "post-mortem" not in welcome.text.lower() and "post-mortem" not in (welcome.html or "").lower()

    for customer in ("jane@acme.example", "marcus@acme.example"):
        titles = [p.subject for _, p in desk.mail("invite", to=customer)]
        assert any("Project summary" in t for t in titles)
        assert not any("post-mortem" in t.lower() for t in titles), titles
    internal = [p for _, p in desk.mail("invite") if "post-mortem" in p.subject.lower()]
    assert {p.to[0].email for p in internal} == {"priya@northwind.example", "dana@northwind.example",
                                                 "sam@northwind.example"}


def test_the_country_a_notice_gives_keeps_the_customers_public_holidays_free(desk):
    # Thursday 24 December 2026: the next business day in Los Angeles is Monday the 28th, the day
    # Boxing Day is observed in the United Kingdom. A zone without a country of its own (UTC) would
    # give no holidays: the notice's Country does.
    desk.now = datetime(2026, 12, 21, 16, 0, tzinfo=timezone.utc)
    notice = (NOTICE.replace("Close Date: 2026-11-17", "Close Date: 2026-12-24").replace("Professional Services", "Enterprise")
              .replace("Timezone: America/New_York", "Timezone: UTC\nCountry: United Kingdom"))
    engagement = start(desk, notice)
    intro = next(m for m in desk.store.meetings(engagement.id) if m.key == "introduction")
    assert intro.start.date() == date(2026, 12, 29)
    [(_, told)] = desk.mail("notification")
    assert "Country:     United Kingdom" in told.text  # the engineer sees what the notice said


def test_a_quickstart_goes_to_an_engineer_whose_hours_cover_its_calendar_before_the_least_loaded(desk):
    # Priya (Los Angeles) gets a Globex ticket first: Tom (Berlin) has the least load, but QuickStart's
    # 8-5 Pacific is hers, not his.
    desk.receive(make_message(sender="bob@globex.example", subject="Question", message_id="<q1@globex.example>",
                              body="How do we add users?"))
    notice = NOTICE.replace("Professional Services", "QuickStart").replace(
        "Engineer: Priya Raman <priya@northwind.example>\n", "")
    engagement = start(desk, notice)
    assert engagement.engineer == "priya@northwind.example"
    ticket = desk.store.get_ticket(engagement.ticket_id)
    assert "cover the playbook's calendar" in ticket.assignment["reason"]
