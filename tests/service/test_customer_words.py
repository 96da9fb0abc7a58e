"""The words a customer or an engineer reads in the onboarding's mail: the welcome greets everyone
and says who leads, when support works, what the SLA promises and whom to escalate to; a
cancellation says why and what next; each reader sees times in their own zone, with the zone."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from support.desk import CONFIG, NOW, SLA, Desk
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


def test_the_hand_off_lists_the_plan_in_the_berlin_engineers_time_while_the_new_york_customer_reads_new_york_time(store):
    desk = desk_with(store)
    engagement = start(desk, TOM)
    intro = next(m for m in desk.store.meetings(engagement.id) if m.key == "introduction")
    [(_, handoff)] = desk.mail("notification")
    assert handoff.to[0].email == "tom@northwind.example"
    text = flat(handoff.text)
    # Tom's calendar is Berlin's; the customer's zone is New York
    assert f"{intro.start:%Y-%m-%d %H:%M}" == "2026-11-20 13:00"
    assert ("Planned (the invitations are sent), in Berlin time (CET): - Introduction: Acme Corporation onboarding: "
            "Fri 20 Nov 2026, 14:00-14:30 CET (08:00-08:30 EST for the customer)") in text
    assert ("Not placed yet, and why: - Pre-launch review: Acme Corporation: waiting for the go-live date "
            "- Go-live debrief: Acme Corporation: waiting for the go-live date") in text
    assert "Fri 20 Nov 2026, 14:00-14:30 CET (08:00-08:30 EST for the customer)" in read(handoff.html)
    assert desk.mail("planning") == []  # the hand-off says it all

    [(_, welcome)] = desk.mail("welcome")
    assert "Introduction: Acme Corporation onboarding Fri 20 Nov 2026, 08:00-08:30 EST" in flat(welcome.text)
    invites = {p.to[0].email: p for _, p in desk.mail("invite") if p.subject == "Invitation: " + intro.title}
    assert "When: Fri 20 Nov 2026, 14:00-14:30 CET" in flat(invites["tom@northwind.example"].text)
    assert "When: Fri 20 Nov 2026, 08:00-08:30 EST" in flat(invites["jane@acme.example"].text)


def test_a_re_planning_tells_the_berlin_engineer_each_new_time_in_berlin_time_and_the_customers(store):
    desk = desk_with(store)
    engagement = start(desk, TOM)
    golive(desk, "We plan to go live on 14 January 2027.", "<g1@acme.example>")
    pre = next(m for m in desk.store.meetings(engagement.id) if m.key == "pre-launch")
    [(_, told)] = [(o, p) for o, p in desk.mail("planning") if "re-planned" in p.subject]
    assert told.to[0].email == "tom@northwind.example"
    local = pre.start.astimezone(ZoneInfo("Europe/Berlin"))
    assert local.tzname() == "CET" and f"{local:%H:%M}" in flat(told.text)
    ny = pre.start.astimezone(ZoneInfo("America/New_York"))
    assert (f"Pre-launch review: Acme Corporation: planned for {local:%a} {local.day} {local:%b %Y}, {local:%H:%M}-"
            f"{pre.end.astimezone(local.tzinfo):%H:%M} CET ({ny:%H:%M}-{pre.end.astimezone(ny.tzinfo):%H:%M} EST for the customer)"
            ) in flat(told.text)


def test_sla_warnings_and_breaches_say_the_due_time_in_each_readers_zone(store):
    managers = [{**CONFIG["managers"][0], "timezone": "Europe/Berlin"}]
    desk = desk_with(store, managers=managers)
    desk.receive(make_message(sender="bob@globex.example", subject="Outage of the API"), after=timedelta(0))
    for hours in (1, 2):  # 50 % of the 2 h first response, to Priya; the breach, to her manager Dana
        desk.now = NOW + timedelta(hours=hours)
        desk.intake.desk.sla.sweep(desk.now)
    warning = next(p for _, p in desk.mail("sla", to="priya@northwind.example"))
    breach = next(p for _, p in desk.mail("sla", to="dana@northwind.example"))
    assert "Due: Wed 18 Nov 2026, 10:00 PST" in flat(warning.text)  # 18:00 UTC, in Los Angeles
    assert "Due: Wed 18 Nov 2026, 19:00 CET" in flat(breach.text)  # and in Berlin


def test_a_customers_decline_reaches_the_berlin_engineer_with_the_meeting_in_berlin_time(store):
    desk = desk_with(store)
    engagement = start(desk, TOM)
    intro = next(m for m in desk.store.meetings(engagement.id) if m.key == "introduction")
    ics = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "METHOD:REPLY", "BEGIN:VEVENT", f"UID:{intro.uid}",
        f"SEQUENCE:{intro.sequence}", "DTSTAMP:20261118T180000Z", f"DTSTART:{intro.start:%Y%m%dT%H%M%SZ}",
        f"DTEND:{intro.end:%Y%m%dT%H%M%SZ}", "ORGANIZER:mailto:support@northwind.example",
        "ATTENDEE;PARTSTAT=DECLINED:mailto:marcus@acme.example", "END:VEVENT", "END:VCALENDAR", ""])
    desk.receive((f"From: marcus@acme.example\r\nTo: support@northwind.example\r\nSubject: Declined: {intro.title}\r\n"
                  "Message-ID: <d1@acme.example>\r\nMIME-Version: 1.0\r\n"
                  f"Content-Type: text/calendar; charset=utf-8; method=REPLY\r\n\r\n{ics}").encode())
    [(_, told)] = desk.mail("calendar_answer")
    assert told.to[0].email == "tom@northwind.example"
    assert "Fri 20 Nov 2026, 14:00-14:30 CET" in flat(told.text)
