"""The words a customer or an engineer reads in the onboarding's mail: the welcome greets everyone
and says who leads, when support works, what the SLA promises and whom to escalate to; a
cancellation says why and what next; each reader sees times in their own zone, with the zone."""
from __future__ import annotations

import re

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


def read(html: str) -> str:
    """What a reader sees of an HTML part: its words, without the tags."""
    return flat(re.sub(r"<[^>]+>", " ", html)).replace(" .", ".").replace(" ,", ",")


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


def golive(desk: Desk, text: str, message_id: str):
    desk.receive(make_message(sender="jane@acme.example", subject="Go-live", message_id=message_id, body=text))


def test_a_meeting_cancelled_by_a_go_live_moved_too_close_says_why_and_what_next_in_each_readers_time(desk):
    start(desk)
    golive(desk, "We plan to go live on 14 January 2027.", "<g1@acme.example>")
    golive(desk, "We are moving the go-live to 19 November 2026.", "<g2@acme.example>")
    cancels = {p.to[0].email: p for _, p in desk.mail("invite") if p.subject.startswith("Cancelled: Pre-launch review")}
    jane, priya = cancels["jane@acme.example"], cancels["priya@northwind.example"]
    why = ("Pre-launch review: Acme Corporation, Thu 7 Jan 2027, {}, is cancelled because the go-live moved to "
           "Thursday 19 November 2026, too soon for it. It will not be planned again, as there is no time left for "
           "it; Priya Raman will go through what it was to cover with you.")
    assert why.format("11:00-12:00 EST") in flat(jane.text) and why.format("11:00-12:00 EST") in read(jane.html)
    assert why.format("08:00-09:00 PST") in flat(priya.text)  # the engineer reads Los Angeles time


def test_a_contact_taken_off_the_engagement_is_told_the_meeting_is_no_longer_needed_for_them(desk):
    start(desk)
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n2@crm>",
                              body=NOTICE.format(engineer=PRIYA).replace("Contact: Helen Park <helen@acme.example>; role=finance\n", "")))
    [(_, helen)] = [(o, p) for o, p in desk.mail("invite", to="helen@acme.example")
                    if p.subject == "Cancelled: Introduction: Acme Corporation onboarding"]
    words = ("Introduction: Acme Corporation onboarding, Thu 19 Nov 2026, 13:00-13:30 EST, is cancelled because you are no longer "
             "listed as a contact of this onboarding. It is no longer needed for you: there is nothing to do, and it goes "
             "ahead for the others.")
    assert words in flat(helen.text) and words in read(helen.html)
