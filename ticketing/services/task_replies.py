"""A customer answers a task reminder with "done" (part of the help desk's unit of work).

:meth:`TaskReplies.answered` is asked about a customer's reply before it goes on as an ordinary
reply. It acts only when all of these hold: the new text says done
(:func:`ticketing.core.task_answers.says_done`); the message answers one of our reminders (its
In-Reply-To or References name the reminder's Message-ID, and the reminder's draft says which
tasks it listed); the engagement is active; and the sender is a contact of the engagement's
account. Then the reminder's customer tasks not yet done are marked done, an
``engagement_changed`` event with the sender goes in the hand-off ticket's log, and the engineer
gets a mail saying who said so (their reply ``#todo KEY`` opens a task again). Anything else
returns None, and the help desk handles the message as any reply: nothing is lost.
"""
from __future__ import annotations

import logging

from ticketing.config import Config
from ticketing.core.domain import EventKind, MessageKind
from ticketing.core.mails import INTERNAL_MARKER, Draft, Mails
from ticketing.core.reminders import due_label
from ticketing.core.task_answers import says_done
from ticketing.core.tasks import TaskStatus
from ticketing.core.threads import thread_ids
from ticketing.services.assignment import who
from ticketing.services.engineers import engineer_address
from ticketing.services.inbound import Handled, Inbound
from ticketing.services.outbox import Outbox
from ticketing.services.task_reminders import REMINDER, reminded_in
from ticketing.services.ticket_log import TicketLog
from ticketing.store import SqlStore

log = logging.getLogger(__name__)


class TaskReplies:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox

    def answered(self, inbound: Inbound, reasons: tuple[str, ...], text: str, ticket_log: TicketLog) -> Handled | None:
        """Mark the tasks of the reminder a customer's "done" answers (see the module docstring);
        None when the message is not that."""
        parsed = inbound.parsed
        if parsed.from_ is None or not says_done(text):
            return None
        ids = thread_ids(parsed)  # In-Reply-To first, then References newest first
        reminders = {mid: (engagement_id, draft)
                     for mid, _, engagement_id, draft in self.store.drafts((REMINDER,), message_ids=ids)}
        answered = next((mid for mid in ids if mid in reminders), None)
        if answered is None:
            return None
        engagement_id, draft = reminders[answered]
        engagement = self.store.get_engagement(engagement_id) if engagement_id else None
        if engagement is None or not engagement.active:
            return None
        account = self.store.get_account(engagement.account_id) if engagement.account_id else None
        sender = parsed.from_.email.lower()
        if account is None or sender not in {c.email.lower() for c in account.contacts}:
            log.info("a 'done' from %s to reminder %s: not a contact of the account, handled as a reply", sender, answered)
            return None
        tasks = {t.id: t for t in self.store.tasks(engagement.id)}
        marked = [tasks[i] for i, _ in reminded_in(draft)
                  if i in tasks and tasks[i].owner.startswith("customer:") and tasks[i].status is not TaskStatus.DONE]
        if not marked:
            return None  # done already (or not theirs): the engineer reads it as any reply
        now = inbound.now
        changes = []
        for task in marked:
            self.store.set_task_status(task.id, TaskStatus.DONE, now, "" if task.status is TaskStatus.BLOCKED else None)
            changes.append(f"task {task.key} ({task.name}) done (was {task.status.value})")
        if engagement.ticket_id:
            ticket_log.event(engagement.ticket_id, EventKind.ENGAGEMENT_CHANGED, now, sender,
                             command="done (a reply to a task reminder)", engagement=engagement.id, changes=changes,
                             reminder=answered)
        self._tell_engineer(engagement, marked, who(parsed.from_), text, inbound.row_id, now)
        log.info("engagement %s: %s marked %d task(s) done by reply", engagement.id, sender, len(marked))
        return Handled(MessageKind.REPLY, engagement.ticket_id,
                       reasons + (f"a customer's done to task reminder {answered}: " + "; ".join(changes),))

    def _tell_engineer(self, engagement, tasks, customer: str, text: str, inbound_pk: int, now) -> None:
        engineer = engineer_address(self.config, engagement)
        if engineer is None:
            return
        body = self.mails.render(
            "task_done", marker=INTERNAL_MARKER, account=engagement.account, engagement_id=engagement.id,
            customer=customer, text=text.strip()[:2000],
            tasks=[{"key": t.key, "name": t.name, "due": due_label(t.due) if t.due else "not dated"} for t in tasks],
        )
        # the sender's words stay in the body: the subject holds only what we wrote (the account, the task names)
        subject = (f"{engagement.account}: {tasks[0].name} marked done by the customer" if len(tasks) == 1
                   else f"{engagement.account}: {len(tasks)} tasks marked done by the customer")
        draft = Draft("task_done", f"task-done.{inbound_pk}", (engineer,), subject,
                      body, engagement.ticket_id, reply_to=self.mails.support.mailbox, auto_submitted="auto-generated")
        self.outbox.queue(draft, now, engagement_id=engagement.id)
