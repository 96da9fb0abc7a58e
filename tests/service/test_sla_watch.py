"""SLA clocks kept up to date with the tickets, and the sweep's warnings, breach notices and
escalations: each once, at the right time, to the right people (time is explicit, not the wall clock)."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
from support.desk import CONFIG, SLA, WED_8AM, Desk
from support.mail import make_message, unsigned

from ticketing.store import SqlStore


@pytest.fixture
def desk(store):
    config = copy.deepcopy(CONFIG)
    config["sla"] = SLA
    desk = Desk(store, config)
    desk.now = WED_8AM
    return desk


def sweep_at(desk: Desk, moment: datetime) -> int:
    desk.now = moment
    return desk.intake.desk.sla.sweep(moment)


def sla_mail(desk: Desk) -> list[tuple[str, str]]:
    return [(unsigned(m.message_id).split("@")[0].removeprefix("wg.sla."), m.recipients[0]) for m in desk.store.outbox()
            if m.purpose == "sla"]


def test_a_new_ticket_carries_its_due_times_and_the_notification_says_them(desk):
    desk.receive(make_message(sender="bob@globex.example", subject="Outage of the API"), after=timedelta(0))
    [ticket] = desk.store.list_tickets()
    assert ticket.priority == "P0" and ticket.sla_policy == "enterprise"
    assert ticket.first_response_due == WED_8AM + timedelta(hours=2)
    assert ticket.resolution_due == WED_8AM + timedelta(hours=8)
    assert (ticket.first_response_state, ticket.resolution_state) == ("running", "running")
    data = ticket.as_json()
    assert data["first_response_due"] == "2026-11-18T18:00:00+00:00" and data["first_response"] == "running"
    [(_, note)] = desk.mail("notification")
    # in Priya's time (her calendar is Los Angeles'), with the zone
    assert ("first response due Wed 18 Nov 2026, 10:00 PST, resolution due Wed 18 Nov 2026, 16:00 PST (enterprise)"
            in note.text)


def test_warnings_a_breach_and_escalations_are_sent_once_each_at_their_time(desk):
    desk.receive(make_message(sender="bob@globex.example", subject="Outage of the API"), after=timedelta(0))
    [ticket] = desk.store.list_tickets()
    assert sweep_at(desk, WED_8AM + timedelta(minutes=59)) == 0
    assert sweep_at(desk, WED_8AM + timedelta(hours=1)) == 1  # 50 % of 2 h
    assert sla_mail(desk) == [(f"{ticket.id}.first_response.warning-50", "priya@northwind.example")]
    assert sweep_at(desk, WED_8AM + timedelta(hours=1, minutes=30)) == 0  # the next is at 80 %: 1 h 36 min
    assert sweep_at(desk, WED_8AM + timedelta(hours=1, minutes=36)) == 1
    assert sweep_at(desk, WED_8AM + timedelta(hours=2)) == 1  # the breach, to Priya's manager
    assert sla_mail(desk)[-1] == (f"{ticket.id}.first_response.breach", "dana@northwind.example")
    assert sweep_at(desk, WED_8AM + timedelta(hours=3)) == 1  # unanswered an hour after: escalation 1
    assert sweep_at(desk, WED_8AM + timedelta(hours=3, minutes=30)) == 0
    assert sweep_at(desk, WED_8AM + timedelta(hours=4)) == 2  # escalation 2, and 50 % of the 8 h resolution
    kinds = [kind for kind, _ in sla_mail(desk)]
    assert kinds == [f"{ticket.id}.{k}" for k in (
        "first_response.warning-50", "first_response.warning-80", "first_response.breach",
        "first_response.escalation-1", "first_response.escalation-2", "resolution.warning-50")]
    assert sweep_at(desk, WED_8AM + timedelta(hours=4, minutes=1)) == 0  # nothing twice
    [breach] = [m for m in desk.store.outbox() if unsigned(m.message_id).startswith(f"wg.sla.{ticket.id}.first_response.breach@")]
    assert "SLA breached" in breach.subject


def test_an_answer_stops_the_first_response_clock_and_its_notices(desk):
    desk.receive(make_message(sender="bob@globex.example", subject="Outage of the API"), after=timedelta(0))
    [(_, note)] = desk.mail("notification")
    desk.now = WED_8AM + timedelta(minutes=30)
    desk.receive(make_message(sender="priya@northwind.example", to="support@northwind.example", message_id="<a1@nw>",
                              in_reply_to=f"<{note.message_id}>", body="Looking into it now."), after=timedelta(0))
    [ticket] = desk.store.list_tickets()
    assert ticket.first_response_state == "met" and ticket.first_response_at == WED_8AM + timedelta(minutes=30)
    assert sweep_at(desk, WED_8AM + timedelta(hours=3)) == 0  # no first-response warning, breach or escalation
    assert all(".first_response." not in kind for kind, _ in sla_mail(desk))


def test_waiting_on_the_customer_pauses_resolution_and_moves_its_due_time(desk):
    desk.receive(make_message(sender="bob@globex.example", subject="Outage of the API"), after=timedelta(0))
    [(_, note)] = desk.mail("notification")
    desk.now = WED_8AM + timedelta(hours=1)
    desk.receive(make_message(sender="priya@northwind.example", to="support@northwind.example", message_id="<a1@nw>",
                              in_reply_to=f"<{note.message_id}>", body="#pending\nWhich region?"), after=timedelta(0))
    [ticket] = desk.store.list_tickets()
    assert ticket.resolution_state == "paused" and ticket.resolution_due is None
    desk.now = WED_8AM + timedelta(hours=5)
    desk.receive(make_message(sender="bob@globex.example", message_id="<q2@globex.example>", body="EU-west.",
                              in_reply_to="<q1@globex.example>"), after=timedelta(0))
    ticket = desk.store.get_ticket(ticket.id)
    assert ticket.resolution_state == "running"
    assert ticket.resolution_due == WED_8AM + timedelta(hours=8 + 4)  # four hours pending did not count


def test_a_warning_on_a_business_clock_waits_for_the_engineers_working_hours(db_url):
    # A P2 for Tom, who works 08:00-17:00 in Berlin, on a policy counting Pacific business hours
    # (16 h). Asked Wednesday 16:00 PST: half the target is used Thursday 15:00 PST, midnight in
    # Berlin, so the warning waits for Tom's Friday 08:00 (Thursday 23:00 PST). The breach, at
    # Friday 14:00 PST, goes at once; the 80 % warning would only reach Tom on Monday, after the
    # breach: it is not sent.
    config = copy.deepcopy(CONFIG)
    config["sla"] = copy.deepcopy(SLA)
    config["sla"]["policies"][0]["targets"].append(
        {"priority": "P2", "first_response": "16h", "resolution": "40h", "clock": "us-pacific"})
    config["priorities"]["rules"].append({"priority": "P2", "keywords": ["export"]})
    config["accounts"][0]["engineer"] = "tom@northwind.example"
    store = SqlStore.open(db_url)
    try:
        desk = Desk(store, config)
        desk.now = WED_8AM
        desk.receive(make_message(sender="bob@globex.example", subject="The export is slow"), after=timedelta(hours=8))
        [ticket] = desk.store.list_tickets()
        assert (ticket.priority, ticket.assignee) == ("P2", "tom@northwind.example")
        assert sweep_at(desk, datetime(2026, 11, 19, 23, 30, tzinfo=timezone.utc)) == 0  # 00:30 in Berlin
        assert sweep_at(desk, datetime(2026, 11, 20, 7, 0, tzinfo=timezone.utc)) == 1  # Friday 08:00 in Berlin
        assert sla_mail(desk) == [(f"{ticket.id}.first_response.warning-50", "tom@northwind.example")]
        assert sweep_at(desk, datetime(2026, 11, 20, 22, 0, tzinfo=timezone.utc)) == 1  # Friday 14:00 PST: breach
        assert sweep_at(desk, datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)) == 0  # no warning after the breach
        assert [k.split(".", 1)[1] for k, _ in sla_mail(desk)] == ["first_response.warning-50", "first_response.breach"]
    finally:
        store.close()


def test_the_sweep_reads_only_tickets_whose_time_has_come(desk):
    for n in range(3):
        desk.receive(make_message(sender=f"user{n}@globex.example", message_id=f"<m{n}@g>", subject="Outage"),
                     after=timedelta(0))
    assert desk.store.tickets_to_check(WED_8AM + timedelta(minutes=59)) == []
    assert len(desk.store.tickets_to_check(WED_8AM + timedelta(hours=1))) == 3
