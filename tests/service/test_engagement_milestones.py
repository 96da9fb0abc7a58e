"""Milestones by mail: an engineer's #live, #signoff, #close and #reopen, #task add, and a customer's
"we are live" that the engineer is asked to confirm."""
from __future__ import annotations

import tomllib
from datetime import date, timedelta

import pytest
from support.desk import CONFIG, SUPPORT, Desk
from support.mail import make_message
from test_engagement_commands import (
    PRIYA,
    ROOT,
    events,
    meetings,
    results_of,
    start,
    steer,
)

from ticketing.core.domain import EventKind, MeetingStatus


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def milestones(desk, engagement) -> list[dict]:
    return [e.detail for e in events(desk, engagement, EventKind.MILESTONE)]


def test_live_records_the_day_against_the_plan_as_an_event(desk):
    engagement = start(desk)
    steer(desk, "#golive 2026-12-01")
    desk.now += timedelta(days=14)  # 2 December
    sent = steer(desk, "#live yesterday", n=2)
    got = desk.store.get_engagement(engagement.id)
    assert got.live_on == date(2026, 12, 1) and got.golive_date == date(2026, 12, 1)
    assert "went live on 2026-12-01 (as planned)" in results_of(sent)
    [event] = milestones(desk, engagement)
    assert (event["milestone"], event["on"], event["planned"]) == ("live", "2026-12-01", "2026-12-01")

    sent = steer(desk, "#live 2027-01-10", n=3)  # ahead: that is a plan
    assert "is ahead" in results_of(sent) and desk.store.get_engagement(engagement.id).live_on == date(2026, 12, 1)


def test_signoff_needs_a_name_and_records_who_signed_off_today(desk):
    engagement = start(desk)
    sent = steer(desk, "#signoff")
    assert "#signoff needs the name" in results_of(sent)
    sent = steer(desk, '#signoff "Jane Doe"', n=2)
    got = desk.store.get_engagement(engagement.id)
    assert (got.signed_off_on, got.signed_off_by) == (desk.now.date(), "Jane Doe")
    assert "signed off by Jane Doe" in results_of(sent)
    assert milestones(desk, engagement)[-1]["by"] == "Jane Doe"


def test_close_cancels_the_meetings_ahead_and_a_closed_engagement_is_steered_no_more(desk):
    engagement = start(desk)
    ahead = [m for m in meetings(desk, engagement).values() if m.status is MeetingStatus.PLANNED]
    assert ahead
    sent = steer(desk, "#close")
    text = results_of(sent)
    assert "engagement closed on" in text and "its go-live was never recorded" in text
    cancels = [p for m, p in sent if m.purpose == "invite"]
    assert cancels and all("onboarding has ended" in p.text for p in cancels)
    assert all(m.status is MeetingStatus.CANCELLED for m in meetings(desk, engagement).values()
               if m.key in {a.key for a in ahead})
    assert not desk.store.get_engagement(engagement.id).active

    sent = steer(desk, "#golive 2027-01-14", n=2)
    assert "the engagement was closed on" in results_of(sent)
    assert desk.store.get_engagement(engagement.id).golive_date is None
    sent = steer(desk, "#reopen", n=3)
    assert "open again" in results_of(sent) and desk.store.get_engagement(engagement.id).active
    assert [e["milestone"] for e in milestones(desk, engagement)] == ["closed", "reopened"]


def test_task_add_gives_the_engagement_a_task_of_its_own_that_a_replan_keeps(desk):
    engagement = start(desk)
    sent = steer(desk, '#task add "Export the legacy tickets" 2026-12-10 customer:it')
    assert "task export-the-legacy-tickets (Export the legacy tickets) added, due 2026-12-10, owner customer:it" \
        in results_of(sent)
    steer(desk, "#golive 2027-01-14", n=2)  # a re-plan
    [task] = [t for t in desk.store.tasks(engagement.id) if t.key == "export-the-legacy-tickets"]
    assert (task.due, task.owner, task.customer_visible) == (date(2026, 12, 10), "customer:it", True)
    sent = steer(desk, "#done legacy tickets", n=3)
    assert "task export-the-legacy-tickets (Export the legacy tickets) done" in results_of(sent)
    sent = steer(desk, '#task add "export the legacy tickets" 2026-12-11', n=4)  # the same reply twice
    assert "has a task export-the-legacy-tickets (Export the legacy tickets) already" in results_of(sent)
    sent = steer(desk, "#task add nothing", n=5)
    assert '#task needs add "NAME" DATE [OWNER]' in results_of(sent)


def test_a_customers_we_are_live_asks_the_engineer_who_confirms_it_with_live(desk):
    engagement = start(desk)
    steer(desk, "#golive 2026-11-30")
    desk.now += timedelta(days=14)  # Wed 2 December
    before = len(desk.store.outbox())
    desk.receive(make_message(sender="Jane Doe <jane@acme.example>", to=SUPPORT, subject="Great news",
                              message_id="<live1@acme.example>", body="Hi Priya,\n\nWe went live yesterday!\n\nJane"))
    new = [(m, p) for m, p in desk.mail() if m.id in {o.id for o in desk.store.outbox()[before:]}]
    [(_, asked)] = [(m, p) for m, p in new if m.purpose == "planning"]
    assert asked.to[0].email == PRIYA and "Acme Corporation says they are live" in asked.subject
    assert "went live: 2026-12-01 (planned 2026-11-30: 1 day late)" in asked.text
    assert "Reply #live to record the go-live on 2026-12-01" in asked.text
    assert desk.store.get_engagement(engagement.id).live_on is None  # a claim, not the milestone
    assert any(m.purpose == "acknowledgement" for m, _ in new)  # and the mail is a ticket as ever

    desk.receive(make_message(sender="Jane Doe <jane@acme.example>", to=SUPPORT, subject="Re: Great news",
                              message_id="<live2@acme.example>", body="We are live, as I said yesterday."))
    assert len([m for m in desk.store.outbox() if m.purpose == "planning" and "are live" in m.subject]) == 1

    before = len(desk.store.outbox())  # Priya answers the question with #live, no date: the day Jane said
    desk.receive(make_message(sender=PRIYA, to=SUPPORT, subject=f"Re: {asked.subject}", message_id="<s9@northwind.example>",
                              in_reply_to=f"<{asked.message_id}>", body="#live\n\nGreat!"))
    assert desk.store.get_engagement(engagement.id).live_on == date(2026, 12, 1)
    sent = [(m, p) for m, p in desk.mail() if m.id in {o.id for o in desk.store.outbox()[before:]}]
    assert "as jane@acme.example said" in results_of(sent)
    assert [e["milestone"] for e in milestones(desk, engagement)] == ["live-claimed", "live"]


def test_a_stranger_or_an_account_without_an_engagement_asks_nobody(desk):
    start(desk)
    desk.receive(make_message(sender="eve@elsewhere.example", to=SUPPORT, subject="We are live",
                              message_id="<x1@elsewhere.example>", body="We are live!"))
    assert not [m for m in desk.store.outbox() if m.purpose == "planning" and "are live" in m.subject]


def test_a_playbook_switch_replaces_the_open_tasks_and_keeps_done_and_own_ones(desk):
    engagement = start(desk)
    before = {t.key: t for t in desk.store.tasks(engagement.id)}
    first = sorted(before)[0]
    steer(desk, f"#done {first}")
    steer(desk, '#task add "Export the legacy tickets" 2026-12-10', n=2)
    steer(desk, "#playbook white-glove", n=3)
    after = {t.key: t for t in desk.store.tasks(engagement.id)}
    with open(ROOT / "playbooks" / "white-glove.toml", "rb") as file:
        wanted = {t["key"] for t in tomllib.load(file)["tasks"]}
    assert set(after) == wanted | {first, "export-the-legacy-tickets"}
    assert after[first].status.value == "done"


def test_the_log_line_of_a_reply_with_only_commands_says_nothing_went_to_the_customer(desk, caplog):
    start(desk)
    with caplog.at_level("INFO", logger="ticketing.services.intake"):
        steer(desk, "#signoff Jane")
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("answer from")]
    assert "nothing sent to the customer" in line and "relayed" not in line


def test_two_contacts_added_in_one_reply_are_each_welcomed(desk):
    # The joiners' welcome once took its Message-ID from the clock's second: the second was dropped.
    start(desk)
    steer(desk, '#contact add "Kim Park <kim@acme.example>" IT\n#contact add "Lee Wu <lee@acme.example>" IT')
    welcomed = [p.to[0].email for m, p in desk.mail("welcome") if len(p.to) == 1]
    assert sorted(welcomed) == ["kim@acme.example", "lee@acme.example"]
