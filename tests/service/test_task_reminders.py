"""Everyone is reminded of their tasks by mail and answers by mail: a reminder before a task is due
(once, in the reader's hours, whatever restarts happen), an overdue notice to the engineer, a
customer's "done" in reply to a reminder, and nothing for done tasks or closed engagements."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from support.desk import CONFIG, Desk
from support.desk import start_engagement as start
from support.mail import make_message

from ticketing.app.bootstrap import App
from ticketing.core.domain import EventKind
from ticketing.core.tasks import TaskStatus
from ticketing.services.engagement_setting import Settings
from ticketing.services.task_reminders import TaskReminders

PRIYA, MARCUS, PAT = "priya@northwind.example", "marcus@acme.example", "pat@northwind.example"
# staging-live (customer:it, Marcus) is due Tuesday 8 December 2026, staging-cdn (engineer) Thursday 10:
# two business days on Priya's Pacific calendar before them are Friday 4 and Tuesday 8 December.
FRI_10AM_NEW_YORK = datetime(2026, 12, 4, 15, 0, tzinfo=timezone.utc)
WED_9AM_LOS_ANGELES = datetime(2026, 12, 9, 17, 0, tzinfo=timezone.utc)


@pytest.fixture
def desk(store):
    config = dict(CONFIG, engineers=[dict(CONFIG["engineers"][0], project_manager=PAT), *CONFIG["engineers"][1:]])
    return Desk(store, config)


def reminders(desk: Desk) -> TaskReminders:
    """The worker's job as a restart builds it: nothing of an earlier one is kept."""
    helpdesk = desk.intake.desk
    return TaskReminders(desk.store, desk.config, helpdesk.mails, helpdesk.outbox,
                         Settings(desk.store, desk.config, helpdesk.calendars, helpdesk.onboarding))


def task(desk: Desk, engagement, key: str):
    return {t.key: t for t in desk.store.tasks(engagement.id)}[key]


def redate(desk: Desk, engagement, key: str, due: date) -> None:
    """A re-plan gives task ``key`` a new due date and keeps the others as they are."""
    with desk.store.transaction():
        desk.store.save_tasks(engagement.id, [(t.key, t.name, t.owner, due if t.key == key else t.due, t.customer_visible,
                                               t.note) for t in desk.store.tasks(engagement.id)], desk.now)


def sweep(desk: Desk, now: datetime) -> int:
    desk.now = now
    return reminders(desk).sweep(now)


def test_a_customer_is_reminded_once_in_their_hours_before_their_task_is_due(desk):
    engagement = start(desk)
    assert task(desk, engagement, "staging-live").due == date(2026, 12, 8)
    assert sweep(desk, datetime(2026, 12, 3, 15, 0, tzinfo=timezone.utc)) == 0  # Thursday: three business days before
    assert sweep(desk, datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)) == 0  # 07:00 in New York: not yet
    assert sweep(desk, FRI_10AM_NEW_YORK) == 1
    [(mail, reminder)] = desk.mail("task_reminder")
    assert mail.recipients == (MARCUS,) and reminder.from_.name == "Priya Raman via Northwind Support"
    assert reminder.subject == "Reminder: Your application live on the staging environment is due Tue 8 Dec 2026"
    assert "Your application live on the staging environment\n    Marcus Lee, due Tue 8 Dec 2026" in reminder.text
    assert 'reply to this message with "done"' in reminder.text and "staging-live" not in reminder.text
    assert sweep(desk, FRI_10AM_NEW_YORK.replace(minute=15)) == 0  # the next pass
    assert sweep(desk, datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)) == 0  # Monday, after a restart
    assert [m.recipients for m, _ in desk.mail("task_reminder")] == [(MARCUS,)]


def test_the_engineer_is_reminded_of_their_own_task_in_their_hours_with_its_key(desk):
    start(desk)
    sweep(desk, FRI_10AM_NEW_YORK)
    assert sweep(desk, datetime(2026, 12, 8, 15, 0, tzinfo=timezone.utc)) == 0  # 07:00 in Los Angeles
    assert sweep(desk, datetime(2026, 12, 8, 17, 0, tzinfo=timezone.utc)) == 1
    [(mail, reminder)] = desk.mail("task_reminder", to=PRIYA)
    assert mail.recipients == (PRIYA,) and reminder.subject.startswith("Acme Corporation: Reminder: Staging CDN")
    assert "(staging-cdn)" in reminder.text and "#done KEY" in reminder.text
    assert reminder.text.startswith("-- Reply above this line")


def test_a_done_task_is_not_reminded_and_a_task_given_a_new_date_is_reminded_again(desk):
    engagement = start(desk)
    staging, cdn = task(desk, engagement, "staging-live"), task(desk, engagement, "staging-cdn")
    with desk.store.transaction():
        desk.store.set_task_status(cdn.id, TaskStatus.DONE, desk.now)
    sweep(desk, FRI_10AM_NEW_YORK)
    redate(desk, engagement, staging.key, date(2026, 12, 10))  # a re-plan moves it to Thursday 10 December
    assert sweep(desk, datetime(2026, 12, 8, 17, 0, tzinfo=timezone.utc)) == 1
    assert [m.recipients for m, _ in desk.mail("task_reminder")] == [(MARCUS,), (MARCUS,)]  # nothing for Priya's done task
    assert "due Thu 10 Dec 2026" in desk.mail("task_reminder")[1][1].text


def test_an_overdue_task_is_told_once_to_the_engineer_and_the_project_manager_with_why_it_is_blocked(desk):
    engagement = start(desk)
    staging = task(desk, engagement, "staging-live")
    sweep(desk, FRI_10AM_NEW_YORK)
    with desk.store.transaction():
        desk.store.set_task_status(staging.id, TaskStatus.BLOCKED, desk.now, "waiting for their VPN")
    assert sweep(desk, datetime(2026, 12, 9, 12, 0, tzinfo=timezone.utc)) == 0  # 04:00 in Los Angeles
    assert sweep(desk, WED_9AM_LOS_ANGELES) == 2  # the overdue notice, and Priya's reminder for the CDN
    [(mail, notice)] = desk.mail("task_overdue")
    assert mail.recipients == (PRIYA, PAT) and [a.email for a in notice.to] == [PRIYA]
    assert notice.subject == "Acme Corporation: Your application live on the staging environment is overdue"
    assert "customer:it: Marcus Lee, was due Tue 8 Dec 2026, 1 business day late" in notice.text
    assert "Blocked: waiting for their VPN" in notice.text
    assert sweep(desk, WED_9AM_LOS_ANGELES.replace(hour=20)) == 0
    assert sweep(desk, datetime(2026, 12, 14, 17, 0, tzinfo=timezone.utc)) == 1  # the CDN task, late in its turn
    assert [len(desk.mail("task_overdue"))] == [2]
    assert "Staging CDN" in desk.mail("task_overdue")[1][1].subject


def test_history_and_closed_engagements_get_nothing(desk):
    engagement = start(desk)
    staging = task(desk, engagement, "staging-live")
    redate(desk, engagement, staging.key, date(2026, 11, 16))  # due before the engagement was seen: history
    assert sweep(desk, datetime(2026, 11, 19, 17, 0, tzinfo=timezone.utc)) == 0
    with desk.store.transaction():
        desk.store.close_engagement(engagement.id, desk.now)
    assert sweep(desk, FRI_10AM_NEW_YORK) == 0 and sweep(desk, WED_9AM_LOS_ANGELES) == 0
    assert desk.mail("task_reminder") == [] and desk.mail("task_overdue") == []


def test_an_engagement_that_history_started_gets_no_reminders(desk):
    desk.intake.start_at = desk.now + timedelta(days=1)  # the notice arrived before the start mark: a backfill
    start(desk)
    assert [m.status.value for m, _ in desk.mail("welcome")] == ["held"]
    assert sweep(desk, FRI_10AM_NEW_YORK) == 0 and sweep(desk, WED_9AM_LOS_ANGELES) == 0


def test_reminders_are_off_with_zero_days(store):
    desk = Desk(store, dict(CONFIG, onboarding={"task_reminder_days": 0}))
    start(desk)
    assert sweep(desk, FRI_10AM_NEW_YORK) == 0 and sweep(desk, datetime(2026, 12, 8, 17, 0, tzinfo=timezone.utc)) == 0
    assert sweep(desk, WED_9AM_LOS_ANGELES) == 1  # overdue notices still go
    assert desk.mail("task_reminder") == []


# -- a customer's "done" ---------------------------------------------------------------------------

def reply(desk: Desk, sender: str, body: str, n: int = 1):
    [(_, reminder)] = desk.mail("task_reminder", to=MARCUS)
    before = len(desk.store.outbox())
    summary = desk.receive(make_message(
        sender=sender, subject=f"Re: {reminder.subject}", message_id=f"<r{n}@acme.example>",
        in_reply_to=f"<{reminder.message_id}>", references=f"<{reminder.message_id}>",
        body=f"{body}\n\nOn Fri, Northwind Support wrote:\n> {reminder.text.splitlines()[0]}"))
    assert (summary.processed, summary.quarantined) == (1, 0)
    return [(m, p) for m, p in desk.mail() if m.id in {o.id for o in desk.store.outbox()[before:]}]


def test_a_customers_done_marks_the_task_records_who_and_tells_the_engineer(desk):
    engagement = start(desk)
    sweep(desk, FRI_10AM_NEW_YORK)
    sent = reply(desk, "Marcus Lee <marcus@acme.example>", "Done. It is live on staging.acme.example")
    staging = task(desk, engagement, "staging-live")
    assert staging.status is TaskStatus.DONE and staging.done_at == desk.now
    [event] = [e for e in desk.store.events(engagement.ticket_id) if e.kind is EventKind.ENGAGEMENT_CHANGED]
    assert event.actor == MARCUS and "task staging-live" in str(event.detail)
    [(mail, told)] = sent
    assert mail.purpose == "task_done" and mail.recipients == (PRIYA,)
    assert told.subject == "Acme Corporation: Your application live on the staging environment marked done by the customer"
    assert "Marcus Lee <marcus@acme.example> answered a reminder" in told.text and "#todo KEY" in told.text
    assert "It is live on staging.acme.example" in told.text
    assert sweep(desk, WED_9AM_LOS_ANGELES) == 1  # Priya's own reminder; no overdue notice for the done task
    assert desk.mail("task_overdue") == []


def test_a_reply_that_is_not_done_goes_to_the_engineer_as_any_reply(desk):
    engagement = start(desk)
    sweep(desk, FRI_10AM_NEW_YORK)
    sent = reply(desk, "Marcus Lee <marcus@acme.example>", "Not done yet, the VPN is down. Can we move it?")
    assert task(desk, engagement, "staging-live").status is TaskStatus.OPEN
    [(mail, update)] = sent
    assert mail.purpose == "update" and mail.recipients == (PRIYA,) and "the VPN is down" in update.text


@pytest.mark.parametrize("sender", ["Mallory <mallory@evil.example>", "Eve <eve@acme.example>"])
def test_a_done_from_someone_who_is_not_a_contact_of_the_account_changes_nothing(desk, sender):
    engagement = start(desk)
    sweep(desk, FRI_10AM_NEW_YORK)
    sent = reply(desk, sender, "done")
    assert task(desk, engagement, "staging-live").status is TaskStatus.OPEN
    assert not [m for m, _ in sent if m.purpose == "task_done"]
    # an engineer reads it: Eve's as a reply on the hand-off ticket (her domain is the account's), Mallory's as a new ticket
    [(mail, _)] = [(m, p) for m, p in sent if m.purpose in ("update", "notification")]
    assert mail.purpose == ("update" if "acme" in sender else "notification")


def test_a_done_that_answers_no_reminder_changes_nothing(desk):
    engagement = start(desk)
    sweep(desk, FRI_10AM_NEW_YORK)
    [(_, welcome)] = desk.mail("welcome")
    desk.receive(make_message(sender="Marcus Lee <marcus@acme.example>", subject=f"Re: {welcome.subject}",
                              message_id="<w1@acme.example>", in_reply_to=f"<{welcome.message_id}>", body="Done!"))
    assert task(desk, engagement, "staging-live").status is TaskStatus.OPEN
    assert desk.mail("task_done") == []


def test_the_worker_runs_the_reminders_and_the_check_points_every_fifteen_minutes(desk):
    start(desk)
    app = App(config=desk.config, store=desk.store, intake=desk.intake, desk=desk.intake.desk, clock=lambda: desk.now)
    jobs = {job.name: job for job in app.jobs()}
    assert (jobs["task reminders"].seconds, jobs["check-points"].seconds) == (900, 900)
    assert jobs["task reminders"].action(FRI_10AM_NEW_YORK) == 1
    assert jobs["check-points"].action(FRI_10AM_NEW_YORK) == 0  # an enterprise engagement has none
    assert [m.recipients for m, _ in desk.mail("task_reminder")] == [(MARCUS,)]


def test_the_engineer_answers_their_reminder_with_done_and_the_task_is_done(desk):
    engagement = start(desk)
    sweep(desk, datetime(2026, 12, 8, 17, 0, tzinfo=timezone.utc))
    [(_, reminder)] = desk.mail("task_reminder", to=PRIYA)
    desk.receive(make_message(sender="Priya Raman <priya@northwind.example>", subject=f"Re: {reminder.subject}",
                              message_id="<p1@northwind.example>", in_reply_to=f"<{reminder.message_id}>",
                              body=f"#done staging-cdn\n\n{reminder.text}"))
    assert task(desk, engagement, "staging-cdn").status is TaskStatus.DONE
    assert not [m for m, _ in desk.mail() if MARCUS in m.recipients and m.purpose != "task_reminder"
                and m.created_at > datetime(2026, 12, 8, tzinfo=timezone.utc)]  # nothing of it reached the customer


def test_one_mail_lists_all_of_a_persons_tasks_falling_due_and_their_done_ticks_off_each(desk):
    engagement = start(desk)
    cut_over = task(desk, engagement, "cut-over-date")
    redate(desk, engagement, cut_over.key, date(2026, 12, 7))  # both of Marcus's tasks fall due together
    assert sweep(desk, FRI_10AM_NEW_YORK) == 1
    [(_, reminder)] = desk.mail("task_reminder")
    assert reminder.subject == "Reminder: 2 onboarding tasks due by Tue 8 Dec 2026"
    assert "due Mon 7 Dec 2026" in reminder.text and "due Tue 8 Dec 2026" in reminder.text
    reply(desk, "Marcus Lee <marcus@acme.example>", "All done!")
    assert {task(desk, engagement, key).status for key in ("staging-live", "cut-over-date")} == {TaskStatus.DONE}
    [(_, told)] = desk.mail("task_done")
    assert told.subject == "Acme Corporation: 2 tasks marked done by the customer"


def test_a_contact_whose_mail_bounces_is_not_reminded(desk):
    start(desk)
    with desk.store.transaction():
        desk.store.mark_failing([MARCUS], "550 no such user", desk.now)
    assert sweep(desk, FRI_10AM_NEW_YORK) == 0
    assert desk.mail("task_reminder") == []
