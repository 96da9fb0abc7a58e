"""Reminding people of their tasks, and engineers of the tasks that are late (the worker's job).

:meth:`TaskReminders.sweep` looks at every active engagement. Each owner of a task not done gets
one reminder ``[onboarding] task_reminder_days`` business days (on the engagement's calendar)
before it is due, in their business hours: one mail per person and sweep listing all their tasks
falling due, a customer's in the customer's words (they may answer "done", see
:mod:`ticketing.services.task_replies`), ours with the task keys and the commands. Once a task's
day has passed and it is not done, its engineer (with the project manager in copy, when they have
one) is told, once. A task is in one reminder per due date and person (and one overdue notice per
due date): what each mail listed is kept in its draft, so a second sweep, a restart or a re-plan
that keeps the date sends nothing again, while a new date is reminded again. Closed engagements,
tasks due before the engagement began, and engagements that history started (their welcome was
held: a backfill, mail from before the start mark) get nothing.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime

from ticketing.config import Config
from ticketing.core.mails import INTERNAL_MARKER, Draft, Mails, slug
from ticketing.core.reminders import (
    due_label,
    is_overdue,
    needs_reminder,
    reminder_token,
)
from ticketing.core.tasks import Task, TaskStatus
from ticketing.core.words import names_in_words
from ticketing.services.engagement_setting import Reader, Setting, Settings
from ticketing.services.engineers import engineer_address
from ticketing.services.outbox import Outbox
from ticketing.store import SqlStore

log = logging.getLogger(__name__)
REMINDER, OVERDUE = "task_reminder", "task_overdue"


@dataclass(frozen=True)
class Listed:
    """A task as one mail lists it, for one recipient."""

    purpose: str
    task_id: int
    due: date
    email: str


class TaskReminders:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox, settings: Settings):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.settings = settings

    def sweep(self, now: datetime) -> int:
        """Queue the reminders and overdue notices due at ``now``; return how many mails."""
        queued = 0
        for engagement in self.store.engagements():
            if not engagement.active or not engagement.playbook:
                continue
            with self.store.transaction():
                queued += self.engagement(self.settings.of(engagement), now)
        return queued

    def engagement(self, setting: Setting, now: datetime) -> int:
        tasks = self.store.tasks(setting.engagement.id)
        if not tasks or setting.from_history:
            return 0
        listed = sent_before(self.store, setting.engagement.id)
        today = now.astimezone(setting.counting.tz).date()
        days = self.config.onboarding.task_reminder_days
        queued = 0
        due = [t for t in tasks if needs_reminder(t, today, days, setting.counting, setting.began)]
        for reader, theirs in self._by_reader(due, setting):
            theirs = [t for t in theirs if Listed(REMINDER, t.id, t.due, reader.address.email.lower()) not in listed]
            if theirs and reader.calendar.is_open(now) and self._remind(reader, theirs, setting, now):
                queued += 1
        late = [t for t in tasks if is_overdue(t, today, setting.began)]
        if late:
            queued += self._overdue(late, listed, setting, now)
        return queued

    # -- reminders ----------------------------------------------------------------------------------

    def _by_reader(self, tasks: list[Task], setting: Setting) -> list[tuple[Reader, list[Task]]]:
        found: dict[str, tuple[Reader, list[Task]]] = {}
        for task in tasks:
            for address in self.settings.people(task.owner, setting):
                email = address.email.lower()
                if email not in found:
                    found[email] = (self.settings.reader(address, setting), [])
                found[email][1].append(task)
        return list(found.values())

    def _remind(self, reader: Reader, tasks: list[Task], setting: Setting, now: datetime) -> bool:
        engagement = setting.engagement
        engineer = self.config.engineer(engagement.engineer or "")
        engineer_name = engineer.name if engineer else self.mails.support.name
        first = min(tasks, key=lambda t: t.id)
        views = [self._view(t, setting, reader.internal) for t in tasks]
        body = self.mails.render(
            "task_reminder", internal=reader.internal, marker=INTERNAL_MARKER if reader.internal else None,
            greeting=reader.address.name or reader.address.email, account=engagement.account,
            engineer_name=engineer_name, tasks=views,
            reminded=[[t.id, t.due.isoformat()] for t in tasks],
        )
        if len(tasks) == 1:
            subject = f"Reminder: {tasks[0].name} is due {due_label(tasks[0].due)}"
        else:
            subject = f"Reminder: {len(tasks)} onboarding tasks due by {due_label(max(t.due for t in tasks))}"
        if reader.internal:
            subject = f"{engagement.account}: {subject}"
        token = reminder_token("task-reminder", first.id, first.due, slug(reader.address.email))
        draft = Draft(REMINDER, token, (reader.address,), subject, body, engagement.ticket_id,
                      reply_to=self.mails.support.mailbox, auto_submitted="auto-generated",
                      from_name=None if reader.internal else f"{engineer_name} via {self.mails.support.name}")
        queued = self.outbox.queue(draft, now, engagement_id=engagement.id)
        if queued:
            log.info("engagement %s: %d task(s) reminded to %s", engagement.id, len(tasks), reader.address.email)
        return queued is not None

    # -- overdue --------------------------------------------------------------------------------------

    def _overdue(self, tasks: list[Task], listed: set[Listed], setting: Setting, now: datetime) -> int:
        engagement = setting.engagement
        engineer = engineer_address(self.config, engagement)
        if engineer is None:
            return 0
        email = engineer.email
        reader = self.settings.reader(engineer, setting)
        tasks = [t for t in tasks if Listed(OVERDUE, t.id, t.due, email.lower()) not in listed]
        if not tasks or not reader.calendar.is_open(now):
            return 0
        pm = self.config.engineer(email).project_manager if self.config.engineer(email) else None
        cc = tuple(self.settings.people("project_manager", setting)) if pm else ()
        today = now.astimezone(setting.counting.tz).date()
        views = [dict(self._view(t, setting, True), late=_days(setting.counting.working_days_between(t.due, today)))
                 for t in tasks]
        body = self.mails.render(
            "task_overdue", marker=INTERNAL_MARKER, account=engagement.account, engagement_id=engagement.id,
            tasks=views, reminded=[[t.id, t.due.isoformat()] for t in tasks],
        )
        first = min(tasks, key=lambda t: t.id)
        subject = (f"{engagement.account}: {tasks[0].name} is overdue" if len(tasks) == 1
                   else f"{engagement.account}: {len(tasks)} onboarding tasks are overdue")
        draft = Draft(OVERDUE, reminder_token("task-overdue", first.id, first.due, slug(email)), (engineer,), subject,
                      body, engagement.ticket_id, reply_to=self.mails.support.mailbox, auto_submitted="auto-generated",
                      cc=tuple(a for a in cc if a.email.lower() != email.lower()))
        return 1 if self.outbox.queue(draft, now, engagement_id=engagement.id) else 0

    # -- words ----------------------------------------------------------------------------------------

    def _view(self, task: Task, setting: Setting, internal: bool) -> dict:
        people = [a.name or a.email for a in self.settings.people(task.owner, setting)]
        if internal:
            owner = f"{task.owner}: {names_in_words(people)}" if people else task.owner
        elif task.owner == "customer:all":
            owner = "your team"
        else:
            owner = names_in_words(people) or f"your {task.owner.partition(':')[2].replace('-', ' ')}"
        return {"key": task.key, "name": task.name, "owner": owner, "due": due_label(task.due),
                "blocked": task.note if task.status is TaskStatus.BLOCKED else None}


def sent_before(store: SqlStore, engagement_id: int) -> set[Listed]:
    """Every (task, due date, recipient) a reminder or an overdue notice of the engagement listed
    (an overdue notice's recipients are its To)."""
    listed: set[Listed] = set()
    for _, purpose, _, draft in store.drafts((REMINDER, OVERDUE), engagement_id=engagement_id):
        data = reminded_in(draft)
        emails = [a[1].lower() for a in json.loads(draft)["to"]]
        listed |= {Listed(purpose, task_id, due, email) for task_id, due in data for email in emails}
    return listed


def reminded_in(draft: str) -> list[tuple[int, date]]:
    """The (task id, due date) pairs a reminder's or overdue notice's draft lists."""
    body = json.loads(draft).get("body", {})
    return [(int(i), date.fromisoformat(d)) for i, d in body.get("context", {}).get("reminded", [])]


def _days(n: int) -> str:
    return f"{n} business day{'s' if n != 1 else ''}"
