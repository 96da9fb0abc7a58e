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
