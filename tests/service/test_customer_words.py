"""The words a customer or an engineer reads in the onboarding's mail: the welcome greets everyone
and says who leads, when support works, what the SLA promises and whom to escalate to; a
cancellation says why and what next; each reader sees times in their own zone, with the zone."""
from __future__ import annotations

import pytest
from support.desk import CONFIG, SLA, Desk
from support.mail import make_message

NOTICE = """Closed Won.

Account: Acme Corporation
Domains: acme.example
Contract ID: SOW-7781
Close Date: 2026-11-17
Package: Enterprise
Timezone: America/New_York
Engineer: {engineer}
Contact: Jane Doe <jane@acme.example>; role=project lead
Contact: Marcus Lee <marcus@acme.example>; role=IT
Contact: Helen Park <helen@acme.example>; role=finance
"""
PRIYA = "Priya Raman <priya@northwind.example>"
TOM = "Tom Becker <tom@northwind.example>"


def desk_with(store, **changes) -> Desk:
    config = {**CONFIG, "sla": SLA, **changes}
    return Desk(store, config)


@pytest.fixture
def desk(store):
    return desk_with(store)


def start(desk: Desk, engineer: str = PRIYA, body: str = NOTICE):
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n1@crm>",
                              body=body.format(engineer=engineer)))
    [engagement] = desk.store.engagements()
    return engagement


def flat(text: str) -> str:
    """The text with its line breaks as spaces (the templates wrap sentences)."""
    return " ".join(text.split())


def test_a_welcome_to_three_contacts_greets_them_all_and_says_who_leads_when_we_work_what_we_promise_and_whom_to_escalate_to(desk):
    start(desk)
    [(_, welcome)] = desk.mail("welcome")
    assert {a.email for a in welcome.to} == {"jane@acme.example", "marcus@acme.example", "helen@acme.example"}
    text = flat(welcome.text)
    assert text.startswith("Hello Jane Doe, Marcus Lee and Helen Park,")
    assert "on your side, Jane Doe (project lead, jane@acme.example)" in text
    assert "on ours, Priya Raman (priya@northwind.example)" in text
    # Priya's calendar in Los Angeles, and what that is in New York, both named
    assert "Monday to Friday, 08:00-17:00 Los Angeles time (PST); 11:00-20:00 New York time (EST) for you" in text
    assert "closed on public holidays (US)" in text
    assert "urgent (P1): an answer within 2 hours and a resolution within 8 hours, round the clock" in text
    assert "normal (P3): an answer within 4 business hours and a resolution within 16 business hours, counted in our support hours" in text
    assert "write to Dana Whitfield (dana@northwind.example), who will step in" in text
    assert "The meetings we have planned (each comes as a calendar invitation), times in New York time (EST):" in text
    html = flat(welcome.html)
    for words in ("Hello Jane Doe, Marcus Lee and Helen Park,", "On your side, Jane Doe (project lead,",
                  "11:00-20:00 New York time (EST) for you", "urgent (P1): an answer within 2 hours",
                  "Dana Whitfield (<a href=\"mailto:dana@northwind.example\""):
        assert words in html


def test_without_a_manager_the_welcome_names_the_first_step_of_the_escalation_path(store):
    engineers = [{k: v for k, v in e.items() if k != "manager"} for e in CONFIG["engineers"]]
    desk = desk_with(store, engineers=engineers, sla={**SLA, "escalation_path": ["product@northwind.example"]})
    start(desk)
    [(_, welcome)] = desk.mail("welcome")
    assert "or you cannot reach Priya Raman, write to product@northwind.example, who will step in" in flat(welcome.text)
