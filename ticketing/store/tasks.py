"""The tasks of engagements: their playbook's tasks planned, and how far each got."""
from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

import peewee as pw

from ticketing.core.tasks import Task, TaskStatus


class TasksMixin:
    db: pw.Database

    def save_tasks(self, engagement_id: int, tasks: Sequence[tuple[str, str, str, date | None, bool, str]],
                   now: datetime) -> None:
        """Create or update the engagement's tasks from (key, name, owner, due, customer_visible, note).

        A task already stored keeps its status and ``done_at``; its name, owner, due date and note
        follow the plan (a new go-live date moves the tasks tied to it), except that a blocked task
        keeps its note: the reason an engineer gave (``#blocked``). A playbook's task the plan no
        longer has (the engagement switched playbooks) goes unless it was done; an engineer's own
        task (``#task add``) stays.
        """
        m = self.m
        stored = {row.key: row for row in m.Task.select().where(m.Task.engagement == engagement_id)}
        for key, name, owner, due, visible, note in tasks:
            values = dict(name=name, owner=owner, due=due, customer_visible=visible, note=note, updated_at=now)
            if key in stored:
                if stored[key].status == TaskStatus.BLOCKED.value:
                    del values["note"]
                m.Task.update(**values).where(m.Task.id == stored[key].id).execute()
            else:
                self._insert(m.Task, dict(values, engagement=engagement_id, key=key, status=TaskStatus.OPEN.value,
                                          done_at=None, created_at=now))
        gone = [row.id for key, row in stored.items() if row.origin == "playbook" and row.status != TaskStatus.DONE.value
                and key not in {t[0] for t in tasks}]
        if gone:
            m.Task.delete().where(m.Task.id.in_(gone)).execute()

    def tasks(self, engagement_id: int) -> list[Task]:
        """The engagement's tasks by due date (those waiting last), then key."""
        m = self.m
        rows = m.Task.select().where(m.Task.engagement == engagement_id).order_by(m.Task.due.is_null(), m.Task.due,
                                                                                   m.Task.key)
        return [Task(row.id, row.engagement_id, row.key, row.name, row.owner, row.due, TaskStatus(row.status),
                     row.customer_visible, row.note, row.done_at) for row in rows]

    def set_task_status(self, task_id: int, status: TaskStatus, now: datetime, note: str | None = None) -> None:
        """Set a task's status: done records ``done_at`` (now), open or blocked clears it; ``note``,
        when given, replaces the task's note (a blocked task's reason)."""
        m = self.m
        values = {"status": status.value, "done_at": now if status is TaskStatus.DONE else None, "updated_at": now}
        if note is not None:
            values["note"] = note
        m.Task.update(**values).where(m.Task.id == task_id).execute()

    def add_task(self, engagement_id: int, name: str, owner: str, due: date, customer_visible: bool, note: str,
                 now: datetime) -> str:
        """Add a task of the engagement's own (an engineer's ``#task add``); a re-plan leaves it as it is.
        Returns its key: its name as a slug, numbered when another task has it."""
        m = self.m
        base = "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())[:60] or "task"
        taken = {row.key for row in m.Task.select(m.Task.key).where(m.Task.engagement == engagement_id)}
        key, n = base, 1
        while key in taken:
            n += 1
            key = f"{base}-{n}"
        self._insert(m.Task, dict(engagement=engagement_id, key=key, name=name, owner=owner, due=due,
                                  status=TaskStatus.OPEN.value, customer_visible=customer_visible, note=note,
                                  done_at=None, created_at=now, updated_at=now, origin="engineer"))
        return key
