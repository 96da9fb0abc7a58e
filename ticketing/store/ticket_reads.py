"""Reading many tickets: in pages (``tickets --json``), a manager's week, event logs by the batch.

Memory stays that of a page however many tickets there are: pages are read by id (keyset, each
its own short query, so no cursor is held open between them and PostgreSQL and SQLite behave
alike), and event logs in groups of :data:`PAGE` tickets with one query each.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

import peewee as pw

from ticketing.core.domain import (
    EventKind,
    Ticket,
    TicketEvent,
    TicketHead,
    TicketKind,
    TicketStatus,
)
from ticketing.store.base import storage_error

PAGE = 500  # tickets per query (and ids per IN list: under SQLite's 999 variables)


class TicketReadsMixin:
    def iter_tickets(self, *, status: str | None = None, assignee: str | None = None, kind: str | None = None,
                     priority: str | None = None, search: str | None = None, account: str | None = None,
                     requester: str | None = None, since: datetime | None = None,
                     overdue_at: datetime | None = None, page: int = PAGE) -> Iterator[Ticket]:
        """What :meth:`list_tickets` returns without a limit (the same tickets, by id), read ``page``
        at a time."""
        after = None
        while True:
            conditions = self._ticket_filters(status=status, assignee=assignee, kind=kind, priority=priority,
                                              search=search, account=account, requester=requester, since=since,
                                              overdue_at=overdue_at, after=after)
            try:  # a generator: the store's translation of errors covers only its first call
                found = self._tickets_where(*conditions, limit=page, ascending=True)
            except pw.PeeweeException as exc:
                raise storage_error(exc) from exc
            yield from found
            if len(found) < page:
                return
            after = found[-1].id

    def week_tickets(self, assignees: Iterable[str], since: datetime) -> list[TicketHead]:
        """The tickets of ``assignees`` (any case) a weekly summary from ``since`` on looks at: all
        but the contract-closed hand-offs and those resolved, and created, before ``since``; by id.

        Only the columns a summary shows (:class:`TicketHead`), read raw: a week of tens of
        thousands of tickets is read in a fraction of a second.
        """
        m = self.m
        emails = sorted({a.lower() for a in assignees})
        if not emails:
            return []
        resolved = TicketStatus.RESOLVED.value
        t = m.Ticket
        query = (t.select(t.id, t.kind, t.status, t.priority, t.subject, t.requester, m.Account.name, t.assignee,
                          t.created_at)
                 .join(m.Account, pw.JOIN.LEFT_OUTER, on=(t.account == m.Account.id))
                 .where(pw.fn.LOWER(t.assignee).in_(emails), t.kind != TicketKind.CONTRACT_CLOSED.value,
                        (t.status != resolved) | (t.created_at >= since) | t.resolved_at.is_null()
                        | (t.resolved_at >= since))
                 .order_by(t.id))
        at = t.created_at.python_value
        kinds, statuses = {k.value: k for k in TicketKind}, {s.value: s for s in TicketStatus}
        try:
            return [TicketHead(id, kinds[kind], statuses[status], priority, subject, requester, account, assignee,
                               at(created))
                    for id, kind, status, priority, subject, requester, account, assignee, created
                    in self.db.execute(query)]
        except pw.PeeweeException as exc:
            raise storage_error(exc) from exc

    def events_of(self, ticket_ids: Sequence[int]) -> dict[int, list[TicketEvent]]:
        """The event log of each of ``ticket_ids``, as :meth:`events` reads one (tickets without
        events are left out)."""
        m = self.m
        e = m.TicketEvent
        at = e.at.python_value
        kinds = {k.value: k for k in EventKind}
        found: dict[int, list[TicketEvent]] = {}
        ids = sorted(set(ticket_ids))
        # Written out once rather than built by the query builder for each group: building the
        # IN list of 500 parameters costs more than running it.
        columns = ", ".join(f.column_name for f in (e.ticket, e.at, e.kind, e.actor, e.detail))
        sql = (f"SELECT {columns} FROM {e._meta.table_name} WHERE {e.ticket.column_name} IN ({{}}) "
               f"ORDER BY {e.ticket.column_name}, {e.at.column_name}, {e.id.column_name}")
        param = self.db.param
        for start in range(0, len(ids), PAGE):
            group = ids[start:start + PAGE]
            try:
                rows = self.db.execute_sql(sql.format(", ".join([param] * len(group))), group).fetchall()
            except pw.PeeweeException as exc:
                raise storage_error(exc) from exc
            for ticket_id, when, kind, actor, detail in rows:
                found.setdefault(ticket_id, []).append(
                    TicketEvent(at(when), kinds[kind], actor, json.loads(detail) if detail and detail != "{}" else {}))
        return found
