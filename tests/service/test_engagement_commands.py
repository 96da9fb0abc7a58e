"""Engineers steer an engagement by replying to its hand-off ticket (or any ticket of the account):
#golive, #playbook, #contact, #accept, #move, #cancel, #location, and #done, #todo and #blocked for its
tasks, end to end without servers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar
from support.desk import CONFIG, NOTICE, SUPPORT, Desk
from support.desk import start_engagement as start
from support.mail import make_message

from ticketing.core.domain import EventKind, MeetingStatus

PRIYA = "priya@northwind.example"
ROOT = Path(__file__).resolve().parents[2]
LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def steer(desk: Desk, commands: str, sender: str = PRIYA, n: int = 1):
    """Priya replies to the hand-off notification with ``commands``; return the mail queued by it."""
    [(_, handoff)] = desk.mail("notification")
    before = len(desk.store.outbox())
    desk.receive(make_message(sender=sender, to=SUPPORT, subject=f"Re: {handoff.subject}", message_id=f"<s{n}@northwind.example>",
                              in_reply_to=f"<{handoff.message_id}>", body=f"{commands}\n\nThanks"))
    return [(m, p) for m, p in desk.mail() if m.id in {o.id for o in desk.store.outbox()[before:]}]


def meetings(desk: Desk, engagement) -> dict:
    return {m.key: m for m in desk.store.meetings(engagement.id)}


def results_of(sent) -> str:
    [(_, results)] = [(m, p) for m, p in sent if m.purpose == "commands"]
    assert results.to[0].email == PRIYA
    return results.text


def events(desk: Desk, engagement, kind: EventKind) -> list:
    return [e for e in desk.store.events(engagement.ticket_id) if e.kind is kind]


def calendar(parsed):
    """The one calendar part, read by icalendar and by vobject (both must accept it)."""
    [part] = {p.text: p for p in parsed.calendars}.values()
    vobject.readOne(part.text)
    cal = Calendar.from_ical(part.text)
    [event] = cal.walk("VEVENT")
    return str(cal["METHOD"]), event


def test_golive_sets_the_date_plans_the_go_live_meetings_and_answers_in_one_mail(desk):
    engagement = start(desk)
    sent = steer(desk, "#golive 2027-01-14")
    assert desk.store.get_engagement(engagement.id).golive_date.isoformat() == "2027-01-14"
    found = meetings(desk, engagement)
    assert found["pre-launch"].status == found["debrief"].status == MeetingStatus.PLANNED
    invited = {m.recipients[0] for m, _ in sent if m.purpose == "invite"}
    assert invited == {a.email for key in ("pre-launch", "debrief") for a in found[key].attendees}
    text = results_of(sent)
    assert "#golive 2027-01-14: go-live 2027-01-14 (was not known)" in text and "Pre-launch review" in text
    assert [m for m, _ in sent if m.purpose in ("planning", "relay")] == []  # one mail, the hand-off is internal
    [event] = events(desk, engagement, EventKind.ENGAGEMENT_CHANGED)
    assert event.actor == PRIYA and event.detail["command"] == "#golive 2027-01-14"


def test_move_sends_the_updated_request_to_every_attendee_and_warns_outside_business_hours(desk):
    engagement = start(desk)
    intro = meetings(desk, engagement)["introduction"]
    sent = steer(desk, "#move intro Dec 3 10:30")  # Priya's time: Los Angeles
    moved = meetings(desk, engagement)["introduction"]
    assert moved.start == datetime(2026, 12, 3, 10, 30, tzinfo=LA) and moved.end - moved.start == intro.end - intro.start
    assert (moved.uid, moved.sequence) == (intro.uid, intro.sequence + 1)
    updates = [p for m, p in sent if m.purpose == "invite"]
    assert {p.to[0].email for p in updates} == {a.email for a in intro.attendees if a.email != SUPPORT}
    for parsed in updates:
        method, event = calendar(parsed)
        assert (method, int(event["SEQUENCE"]), event["DTSTART"].dt) == ("REQUEST", 1, moved.start)
        assert parsed.subject.startswith("Updated invitation:")
    assert "warning" not in results_of(sent)

    sent = steer(desk, "#move hand-off Dec 4 6:00", n=2)  # 09:00 in New York, before Priya's day
    assert meetings(desk, engagement)["hand-off"].start == datetime(2026, 12, 4, 6, tzinfo=LA)
    assert "warning: Hand-off: Acme Corporation resources and workflow is outside the engineer's business hours" \
        in results_of(sent)


def test_move_onto_another_of_the_engineers_meetings_is_refused_and_nothing_is_sent(desk):
    """Schema 16: the database never books an engineer twice, so #move (and #accept) onto a time she
    has another meeting at leaves the meeting where it was and says why, in the reply to her."""
    engagement = start(desk)
    before = meetings(desk, engagement)
    other = before["hand-off"].start.astimezone(LA)
    sent = steer(desk, f"#move intro {other:%b} {other.day} {other:%H:%M}")
    assert meetings(desk, engagement)["introduction"] == before["introduction"]  # same time, same SEQUENCE
    assert [m for m, _ in sent if m.purpose == "invite"] == []
    assert "not moved" in results_of(sent) and "overlaps another meeting of priya@northwind.example" in results_of(sent)
    assert desk.store.list_quarantine() == []


def test_cancel_sends_a_cancel_to_every_attendee_and_re_planning_leaves_it_cancelled(desk):
    engagement = start(desk)
    workflow = meetings(desk, engagement)["developer-workflow"]
    sent = steer(desk, "#cancel consultation")
    cancelled = meetings(desk, engagement)["developer-workflow"]
    assert (cancelled.status, cancelled.sequence) == (MeetingStatus.CANCELLED, workflow.sequence + 1)
    cancels = [p for m, p in sent if m.purpose == "invite"]
    assert {p.to[0].email for p in cancels} == {a.email for a in workflow.attendees}
    assert all(calendar(p)[0] == "CANCEL" and p.subject.startswith("Cancelled:") for p in cancels)
    assert "Developer workflow consultation: Acme Corporation cancelled" in results_of(sent)

    sent = steer(desk, "#golive 2027-01-14", n=2)
    assert meetings(desk, engagement)["developer-workflow"].status == MeetingStatus.CANCELLED
    assert not any("Developer workflow" in m.subject for m, _ in sent if m.purpose == "invite")


def test_location_puts_a_join_link_in_every_attendees_invitation(desk):
    engagement = start(desk)
    link = "https://meet.example/j/42?pwd=x"
    sent = steer(desk, f"#location hand-off {link}")
    handoff = meetings(desk, engagement)["hand-off"]
    assert (handoff.location, handoff.sequence) == (link, 1)
    updates = [p for m, p in sent if m.purpose == "invite"]
    assert {p.to[0].email for p in updates} == {a.email for a in handoff.attendees}
    method, event = calendar(updates[0])
    assert (method, str(event["LOCATION"]), str(event["URL"])) == ("REQUEST", link, link)
    assert f"Join: {link}" in str(event["DESCRIPTION"]) and link in updates[0].text
    assert "join link" in results_of(sent)

    steer(desk, '#location "introduction" Room 4B, 2nd floor', n=2)
    assert meetings(desk, engagement)["introduction"].location == "Room 4B, 2nd floor"


def counter(meeting, attendee: str, start: datetime, message_id: str) -> bytes:
    stamp = datetime(2026, 11, 18, 18, tzinfo=timezone.utc)
    ics = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "METHOD:COUNTER", "BEGIN:VEVENT",
        f"UID:{meeting.uid}", f"SEQUENCE:{meeting.sequence}", f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{start + (meeting.end - meeting.start):%Y%m%dT%H%M%SZ}",
        f"ORGANIZER:mailto:{SUPPORT}", f"ATTENDEE;PARTSTAT=TENTATIVE:mailto:{attendee}", "END:VEVENT", "END:VCALENDAR", ""])
    return (f"From: {attendee}\r\nTo: {SUPPORT}\r\nSubject: New time proposed: {meeting.title}\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/calendar; charset=utf-8; method=COUNTER\r\n\r\n{ics}").encode()


def test_accept_moves_the_meeting_to_the_latest_proposed_time_for_everyone(desk):
    engagement = start(desk)
    found = meetings(desk, engagement)
    intro, handoff = found["introduction"], found["hand-off"]
    desk.receive(counter(handoff, "marcus@acme.example", handoff.start + timedelta(days=1), "<c1@acme.example>"))
    proposed = intro.start + timedelta(days=1, hours=1)
    desk.receive(counter(intro, "jane@acme.example", proposed, "<c2@acme.example>"))  # the latest
    sent = steer(desk, "#accept")
    moved = meetings(desk, engagement)["introduction"]
    assert (moved.start, moved.end, moved.sequence) == (proposed, proposed + (intro.end - intro.start), intro.sequence + 1)
    assert all(a.proposed_start is None and a.partstat == "NEEDS-ACTION" for a in moved.attendees)
    updates = [p for m, p in sent if m.purpose == "invite"]
    assert {p.to[0].email for p in updates} == {a.email for a in intro.attendees}
    assert all(calendar(p)[1]["DTSTART"].dt == proposed for p in updates)
    text = results_of(sent)
    assert "(proposed by jane@acme.example)" in text and "also proposed, not taken: marcus@acme.example" in text

    sent = steer(desk, "#accept hand-off", n=2)
    assert meetings(desk, engagement)["hand-off"].start == handoff.start + timedelta(days=1)
    sent = steer(desk, "#accept", n=3)
    assert "not done, #accept: nobody proposed another time" in results_of(sent)
    assert not [m for m, _ in sent if m.purpose == "invite"]


def test_contact_add_welcomes_and_invites_them_and_remove_cancels_for_them_only(desk):
    engagement = start(desk)
    sent = steer(desk, '#contact add "Ann Lee <ann@acme.example>" IT')
    found = meetings(desk, engagement)
    called = {k for k, m in found.items() if "ann@acme.example" in {a.email for a in m.attendees}}
    assert called == {"introduction", "hand-off", "developer-workflow", "pre-launch", "debrief"}  # customer:it and :all
    invites = [m for m, _ in sent if m.purpose == "invite"]
    assert {m.recipients[0] for m in invites} == {"ann@acme.example"} and len(invites) == 3  # the planned ones
    assert [list(m.recipients) for m, _ in sent if m.purpose == "welcome"] == [
        ["ann@acme.example", PRIYA, "sam@northwind.example"]]
    assert "Ann Lee <ann@acme.example> is a contact of Acme Corporation (IT)" in results_of(sent)

    sent = steer(desk, "#contact remove marcus@acme.example", n=2)
    cancels = [p for m, p in sent if m.purpose == "invite"]
    assert {p.to[0].email for p in cancels} == {"marcus@acme.example"} and len(cancels) == 3
    for parsed in cancels:
        method, event = calendar(parsed)
        attendees = event.get("ATTENDEE")
        assert method == "CANCEL" and str(attendees).lower() == "mailto:marcus@acme.example"
    assert all("marcus@acme.example" not in {a.email for a in m.attendees} for m in meetings(desk, engagement).values())
    assert "marcus@acme.example" not in {c.email for c in desk.store.get_account(engagement.account_id).contacts}


def test_playbook_starts_an_engagement_no_playbook_matched_and_a_switch_cancels_the_old_meetings(desk):
    engagement = start(desk, NOTICE.replace("Package: Enterprise", "Package: Platinum Mystery"))
    assert desk.store.meetings(engagement.id) == []
    sent = steer(desk, "#playbook enterprise-onboarding")
    assert desk.store.get_engagement(engagement.id).playbook == "enterprise-onboarding"
    planned = {k for k, m in meetings(desk, engagement).items() if m.status == MeetingStatus.PLANNED}
    assert planned == {"introduction", "hand-off", "developer-workflow"}
    assert [m.purpose for m, _ in sent].count("welcome") == 1 and "enterprise-onboarding started" in results_of(sent)

    sent = steer(desk, "#playbook quickstart", n=2)
    found = meetings(desk, engagement)
    assert all(found[k].status == MeetingStatus.CANCELLED for k in planned)
    assert found["kickoff"].status == MeetingStatus.PLANNED
    cancels = [m for m, p in sent if m.purpose == "invite" and m.subject.startswith("Cancelled:")]
    assert len(cancels) == sum(len(found[k].attendees) for k in planned)
    assert any(m.subject.startswith("Invitation: QuickStart kick-off") for m, _ in sent)
    assert "switched from enterprise-onboarding" in results_of(sent)


def test_an_ambiguous_meeting_or_unknown_playbook_changes_nothing_and_is_answered_with_the_lists(desk):
    engagement = start(desk)
    before = meetings(desk, engagement)
    sent = steer(desk, "#cancel acme\n#playbook platinum")
    assert meetings(desk, engagement) == before and desk.store.get_engagement(engagement.id).playbook == "enterprise-onboarding"
    assert [m.purpose for m, _ in sent] == ["commands"]
    text = results_of(sent)
    assert "#cancel acme: matches 5 meetings, name one: introduction (Introduction: Acme Corporation onboarding)" in text
    assert "no playbook 'platinum'; one of enterprise-onboarding, professional-services, quickstart" in text
    assert "#move MEETING DATE HH:MM" in text  # the list of commands
    rejected = events(desk, engagement, EventKind.COMMAND_REJECTED)
    assert [e.detail["command"] for e in rejected] == ["#cancel acme", "#playbook platinum"]


def test_a_customer_cannot_steer_and_a_ticket_without_engagement_is_refused(desk):
    engagement = start(desk)
    before = meetings(desk, engagement)
    desk.receive(make_message(sender="jane@acme.example", to=SUPPORT, message_id="<q1@acme.example>",
                              subject="Question", body="How do we log in?"))
    [question] = [t for t in desk.store.list_tickets() if t.id != engagement.ticket_id]
    [(_, ack)] = desk.mail("acknowledgement")
    desk.receive(make_message(sender="jane@acme.example", to=SUPPORT, message_id="<q2@acme.example>",
                              in_reply_to=f"<{ack.message_id}>", body="#cancel intro"))
    assert meetings(desk, engagement) == before
    assert [e.detail["commands"] for e in desk.store.events(question.id) if e.kind is EventKind.COMMAND_IGNORED] == [
        ["#cancel intro"]]

    # Priya steers from the customer's ticket: the account's active engagement
    [(_, note)] = [(m, p) for m, p in desk.mail("notification") if f"WG-{question.id}" in p.subject]
    desk.receive(make_message(sender=PRIYA, to=SUPPORT, message_id="<p1@northwind.example>",
                              in_reply_to=f"<{note.message_id}>", body="#cancel intro"))
    assert meetings(desk, engagement)["introduction"].status == MeetingStatus.CANCELLED
    assert events(desk, engagement, EventKind.ENGAGEMENT_CHANGED)  # on the hand-off ticket too

    desk.receive(make_message(sender="bob@globex.example", message_id="<g1@globex.example>", subject="Export"))
    [(_, globex)] = [(m, p) for m, p in desk.mail("notification") if "Export" in p.subject]
    desk.receive(make_message(sender=PRIYA, to=SUPPORT, message_id="<p2@northwind.example>",
                              in_reply_to=f"<{globex.message_id}>", body="#golive 2027-01-14"))
    [export] = [t for t in desk.store.list_tickets() if t.subject == "Export"]
    [(_, refused)] = [(m, p) for m, p in desk.mail("commands") if m.ticket_id == export.id]
    assert "not done, #golive 2027-01-14: this ticket belongs to no onboarding engagement" in refused.text


def test_a_playbooks_default_location_is_in_the_invitations_and_location_overrides_it(store, tmp_path):
    folder = tmp_path / "playbooks"
    folder.mkdir()
    text = (ROOT / "playbooks" / "enterprise-onboarding.toml").read_text()
    text = text.replace('key = "introduction"\n', 'key = "introduction"\nlocation = "Acme HQ, Room 4B"\n', 1)
    (folder / "enterprise-onboarding.toml").write_text(text)
    desk = Desk(store, {**CONFIG, "onboarding": {"playbooks": str(folder)}})
    engagement = start(desk)
    assert meetings(desk, engagement)["introduction"].location == "Acme HQ, Room 4B"
    [to_jane] = [p for m, p in desk.mail("invite", to="jane@acme.example") if "Introduction" in m.subject]
    assert str(calendar(to_jane)[1]["LOCATION"]) == "Acme HQ, Room 4B"

    sent = steer(desk, "#location intro https://meet.example/acme\n#golive 2027-01-14")
    assert meetings(desk, engagement)["introduction"].location == "https://meet.example/acme"  # re-planning keeps it
    [update] = [p for m, p in sent if m.purpose == "invite" and m.recipients == ("jane@acme.example",)
                and "Introduction" in m.subject]
    assert str(calendar(update)[1]["LOCATION"]) == "https://meet.example/acme"


def tasks_of(desk: Desk, engagement) -> dict:
    return {t.key: t for t in desk.store.tasks(engagement.id)}


def test_done_todo_and_blocked_set_a_tasks_status_log_it_and_answer_in_one_mail(desk):
    from ticketing.core.tasks import TaskStatus

    engagement = start(desk)
    sent = steer(desk, '#done staging-live\n#blocked "CDN distribution" waiting for the customer\'s DNS')
    tasks = tasks_of(desk, engagement)
    assert tasks["staging-live"].status is TaskStatus.DONE and tasks["staging-live"].done_at is not None
    assert tasks["staging-cdn"].status is TaskStatus.BLOCKED and tasks["staging-cdn"].done_at is None
    assert tasks["staging-cdn"].note == "waiting for the customer's DNS"
    assert [m.purpose for m, _ in sent] == ["commands"]
    text = results_of(sent)
    assert "task staging-live (Your application live on the staging environment) done (was open)" in text
    assert "task staging-cdn (Staging CDN distribution created) blocked (was open): waiting for the customer's DNS" in text
    changed = events(desk, engagement, EventKind.ENGAGEMENT_CHANGED)
    assert [e.detail["command"] for e in changed] == ["#done staging-live",
                                                      '#blocked "CDN distribution" waiting for the customer\'s DNS']

    sent = steer(desk, "#todo STAGING-LIVE\n#todo cdn distribution", n=2)
    tasks = tasks_of(desk, engagement)
    assert all(tasks[k].status is TaskStatus.OPEN and tasks[k].done_at is None for k in ("staging-live", "staging-cdn"))
    assert tasks["staging-cdn"].note == ""
    text = results_of(sent)
    assert "task staging-live (Your application live on the staging environment) open (was done)" in text
    assert "task staging-cdn (Staging CDN distribution created) open (was blocked)" in text
    assert len(events(desk, engagement, EventKind.ENGAGEMENT_CHANGED)) == 4


def test_an_ambiguous_or_unknown_task_changes_nothing_and_is_answered_with_the_tasks(desk):
    engagement = start(desk)
    before = tasks_of(desk, engagement)
    sent = steer(desk, "#done staging\n#blocked billing no budget\n#done pre-launch-review\n#done pre-launch-review")
    after = tasks_of(desk, engagement)
    assert {k: t for k, t in after.items() if k != "pre-launch-review"} == \
        {k: t for k, t in before.items() if k != "pre-launch-review"}
    text = results_of(sent)
    assert ("#done staging: matches 3 tasks, name one: staging-live (Your application live on the staging environment, "
            "open); staging-cdn (Staging CDN distribution created, open); production-cdn (Production CDN configured, "
            "mirroring staging, open)") in text
    assert "#blocked billing: no task matches; the tasks:" in text and "production-cdn (Production CDN" in text
    assert "is done already" in text
    assert "#done TASK" in text  # the list of commands
    rejected = events(desk, engagement, EventKind.COMMAND_REJECTED)
    assert [e.detail["command"] for e in rejected] == ["#done staging", "#blocked billing no budget",
                                                       "#done pre-launch-review"]


def test_a_blocked_tasks_reason_outlives_a_re_plan_that_dates_it(desk):
    from ticketing.core.tasks import TaskStatus

    engagement = start(desk)
    steer(desk, "#blocked production-cdn the customer has no production account yet")
    steer(desk, "#golive 2027-01-14", n=2)
    task = tasks_of(desk, engagement)["production-cdn"]
    assert task.status is TaskStatus.BLOCKED and task.due is not None
    assert task.note == "the customer has no production account yet"
