"""History is never answered: mail from before the mailbox's start mark, and a quiet backfill, are
stored and classified but send nothing; an SLA clock that ran out before whiteglove saw its ticket
never warns or escalates."""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from support.desk import CONFIG, SLA, WED_8AM, Desk
from support.mail import make_message

from mailer import SourceMessage


@pytest.fixture
def desk(store):
    config = copy.deepcopy(CONFIG)
    config["sla"] = SLA
    desk = Desk(store, config)
    desk.now = WED_8AM
    return desk


def test_mail_that_arrived_before_the_first_start_is_stored_but_nobody_is_mailed(desk, store):
    desk.source.add(make_message(sender="bob@globex.example", subject="An outage, last month", message_id="<old@x>"),
                    received_at=desk.now - timedelta(days=30))
    summary = desk.intake.poll(desk.source)  # the first start: the mark is now
    assert summary.tickets_created == 1
    assert {m.status for m in store.outbox()} == {"held"}  # what it would have sent, kept, never sent
    desk.receive(make_message(sender="bob@globex.example", subject="A new question", message_id="<new@x>"))
    sent_now = [m for m in store.outbox() if m.status == "queued"]
    assert {m.purpose for m in sent_now} == {"notification", "acknowledgement"}


def test_a_backfill_is_quiet_unless_told_to_notify(desk, store):
    old = SourceMessage("f1", make_message(sender="bob@globex.example", message_id="<b1@x>"), desk.now - timedelta(days=9))
    desk.intake.ingest([old])
    assert store.outbox() and {m.status for m in store.outbox()} == {"held"}
    new = SourceMessage("f2", make_message(sender="bob@globex.example", subject="Other", message_id="<b2@x>"), desk.now)
    desk.intake.ingest([new], notify=True)
    assert "queued" in {m.status for m in store.outbox()}


def test_a_clock_that_ran_out_before_the_ticket_was_seen_never_warns_or_escalates(desk, store):
    # An outage (P0, 2 h to answer) that arrived a day before whiteglove was pointed at the mailbox.
    desk.source.add(make_message(sender="bob@globex.example", subject="Total outage", message_id="<p0@x>"),
                    received_at=desk.now - timedelta(days=1))
    desk.intake.poll(desk.source)
    [ticket] = store.list_tickets()
    assert ticket.priority == "P0" and ticket.seen_at == desk.now
    sweep = desk.intake.desk.sla
    assert sweep.sweep(desk.now + timedelta(minutes=5)) == 0
    assert [m for m in store.outbox() if m.purpose == "sla"] == []
    assert store.get_ticket(ticket.id).first_response_state == "breached"  # the reports still say so
