"""An engagement's tasks: planned with its meetings (:func:`task_rows`, stored by the onboarding on
every plan) and listed to the customer in the welcome (:func:`welcome_tasks`)."""
from __future__ import annotations

from datetime import date
from typing import Callable, Sequence

from mailer import Address
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.planner import Plan
from ticketing.core.playbooks import Playbook
from ticketing.core.tasks import WAITING_FOR_GOLIVE, Task, plan_tasks
from ticketing.core.words import names_in_words


def task_rows(playbook: Playbook, start: date, golive: date | None, result: Plan,
              counting: BusinessCalendar) -> list[tuple[str, str, str, date | None, bool, str]]:
    """(key, name, owner, due, customer_visible, note) of each task of ``playbook``, due on
    ``counting``'s business days from the start, the go-live and the first occurrence of each
    meeting placed in ``result``."""
    meetings = {p.spec_key: p.start.astimezone(counting.tz).date() for p in result.placed if p.occurrence == 1}
    waiting = {u.spec_key for u in result.unplaced if u.reason == WAITING_FOR_GOLIVE}
    specs = {spec.key: spec for spec in playbook.tasks}
    rows = []
    for p in plan_tasks(playbook.tasks, start, golive, meetings, counting):
        note = p.reason
        if p.due is None and any(f"meeting '{key}'" in note for key in waiting):
            note += f" ({WAITING_FOR_GOLIVE})"  # its meeting waits for the date: so does it
        rows.append((p.key, specs[p.key].name, specs[p.key].owner, p.due, specs[p.key].customer_visible, note))
    return rows


def welcome_tasks(tasks: Sequence[Task], resolve: Callable[[str], list[Address]]) -> list[dict]:
    """The tasks the customer sees, for the welcome: ``{"name", "owner", "due"}`` in words, by due
    date; ``resolve`` gives the people a role names in the engagement."""
    listed = []
    for task in tasks:
        if not task.customer_visible:
            continue
        people = [a.name or a.email for a in resolve(task.owner)]
        if task.owner == "customer:all":
            owner = "your team"
        elif people:
            owner = names_in_words(people)
        elif task.owner.startswith("customer:"):
            owner = f"your {task.owner.partition(':')[2].replace('-', ' ')}"
        else:
            owner = "us"
        if task.due is not None:
            due = f"{task.due:%a} {task.due.day} {task.due:%b %Y}"
        elif WAITING_FOR_GOLIVE in task.note:
            due = "once your go-live date is known"
        else:
            due = "once its meeting is planned"
        listed.append({"name": task.name, "owner": owner, "due": due})
    return listed
