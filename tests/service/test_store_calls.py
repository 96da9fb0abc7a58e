"""A new ticket costs few store reads: the worker's log line uses the ticket the help desk already read."""
from __future__ import annotations

import logging

from support.desk import CONFIG, Desk
from support.mail import make_message


def test_a_new_ticket_is_read_back_twice_at_most_with_its_log_line(store, monkeypatch, caplog):
    desk = Desk(store, CONFIG)
    reads = []
    real = type(store).get_ticket
    monkeypatch.setattr(type(store), "get_ticket", lambda self, ticket_id: reads.append(ticket_id) or real(self, ticket_id))
    with caplog.at_level(logging.INFO, logger="ticketing.services.intake"):
        summary = desk.receive(make_message(message_id="<q1@globex.example>"))
    assert summary.tickets_created == 1
    assert "new ticket WG-1" in caplog.text  # the line is written, from the ticket in hand
    assert len(reads) <= 2  # after the SLA clocks and for the notification; not again for the log line


def _statements_for_new_tickets(store, count: int, monkeypatch) -> tuple[int, int]:
    """(all statements, counts of an engineer's open tickets) for ``count`` new tickets from
    strangers taken in one batch."""
    desk = Desk(store, CONFIG)
    for n in range(count):
        desk.source.add(make_message(sender=f"Someone {n} <someone{n}@elsewhere{n}.example>", subject=f"Question {n}",
                                     message_id=f"<q{n}@elsewhere.example>"), received_at=desk.now)
    seen: list[str] = []
    real = type(store.db).execute_sql
    monkeypatch.setattr(type(store.db), "execute_sql", lambda self, sql, *a, **k: seen.append(sql) or real(self, sql, *a, **k))
    summary = desk.intake.poll(desk.source)
    monkeypatch.undo()
    assert summary.tickets_created == count
    loads = sum(1 for sql in seen if sql.startswith('SELECT COUNT("t1"."id") FROM "ticket"'))
    return len(seen), loads


def test_a_batch_of_new_tickets_counts_each_engineers_open_tickets_once_and_costs_few_statements(store, monkeypatch):
    statements, loads = _statements_for_new_tickets(store, 20, monkeypatch)
    assert loads == 2  # two engineers, counted once for the batch (it was once per engineer per ticket)
    assert statements / 20 <= 24  # 23 here, 25 on the bench's mix (some 41 before the routing figures and accounts were kept)
