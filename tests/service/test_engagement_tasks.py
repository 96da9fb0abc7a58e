"""An engagement carries its playbook's tasks from its start: stored with owners and due dates,
dated once the go-live is known, and the customer's checklist is in the welcome."""
from __future__ import annotations

from datetime import date

import pytest
from support.desk import CONFIG, Desk
from support.desk import start_engagement as start
from support.mail import make_message

from ticketing.core.tasks import TaskStatus


@pytest.fixture
def desk(store):
    return Desk(store, CONFIG)


def test_a_started_engagement_stores_its_playbook_tasks_with_owners_and_due_dates(desk):
    engagement = start(desk)
    tasks = {t.key: t for t in desk.store.tasks(engagement.id)}
    assert set(tasks) == {"staging-live", "staging-cdn", "cut-over-date", "pre-launch-review", "production-cdn"}
    assert all(t.status is TaskStatus.OPEN and t.done_at is None for t in tasks.values())
    developer = {m.key: m for m in desk.store.meetings(engagement.id)}["developer-workflow"]
    # five business days after the developer consultation, then the staging CDN two after that
    assert tasks["staging-live"].owner == "customer:it" and tasks["staging-live"].due > developer.start.date()
    assert tasks["staging-cdn"].due > tasks["staging-live"].due
    assert tasks["production-cdn"].due is None and "go-live" in tasks["production-cdn"].note
    assert tasks["pre-launch-review"].due is None and "go-live" in tasks["pre-launch-review"].note


def test_the_welcome_lists_the_customer_checklist_with_owners_and_due_dates(desk):
    engagement = start(desk)
    staging = {t.key: t for t in desk.store.tasks(engagement.id)}["staging-live"]
    [(_, welcome)] = desk.mail("welcome")
    checklist = welcome.text.split("The onboarding checklist", 1)[1]
    due = f"{staging.due:%a} {staging.due.day} {staging.due:%b %Y}"
    assert f"Your application live on the staging environment\n    Marcus Lee, due {due}" in checklist
    assert "Production CDN configured, mirroring staging\n    Priya Raman, due once your go-live date is known" in checklist
    assert "The onboarding checklist" in welcome.html


def test_a_go_live_date_dates_the_tasks_that_waited_for_it_and_keeps_the_others(desk):
    engagement = start(desk)
    before = {t.key: t.due for t in desk.store.tasks(engagement.id)}
    desk.receive(make_message(sender="jane@acme.example", subject="Go-live", message_id="<g1@acme.example>",
                              body="We plan to go live on 14 January 2027."))
    after = {t.key: t.due for t in desk.store.tasks(engagement.id)}
    assert after["production-cdn"] == date(2027, 1, 13)  # the business day before
    assert after["pre-launch-review"] is not None and after["pre-launch-review"] < date(2027, 1, 14)
    assert {k: after[k] for k in ("staging-live", "staging-cdn", "cut-over-date")} == {
        k: before[k] for k in ("staging-live", "staging-cdn", "cut-over-date")}


def test_milestones_and_survey_answers_are_kept_with_the_engagement(desk):
    engagement = start(desk)
    store = desk.store
    now = desk.now
    with store.transaction():
        store.set_live(engagement.id, date(2027, 2, 1))
        store.set_signoff(engagement.id, date(2027, 2, 3), "Jane Doe")
        store.save_survey_answer(engagement.id, "Jane@acme.example", 7, "slow start", now)
        store.save_survey_answer(engagement.id, "jane@acme.example", 9, "", now)  # she changed her mind
        store.close_engagement(engagement.id, now)
    got = store.get_engagement(engagement.id)
    assert (got.live_on, got.signed_off_on, got.signed_off_by) == (date(2027, 2, 1), date(2027, 2, 3), "Jane Doe")
    assert not got.active and got.closed_at == now
    assert got.as_json()["milestones"]["live_on"] == "2027-02-01" and got.as_json()["status"] == "closed"
    assert [(a.email, a.score) for a in store.survey_answers(engagement.id)] == [("jane@acme.example", 9)]
    assert store.active_engagement(engagement.account_id) is None  # a closed engagement is steered no more
