"""What the operator's ``tickets`` filters and dry runs rely on, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ticketing.core.domain import EventKind, TicketKind
from ticketing.store import SqlStore

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)


def ticket(store: SqlStore, subject: str, requester: str, *, at: datetime = NOW, body: str = "") -> int:
    with store.transaction():
        ticket_id = store.create_ticket(kind=TicketKind.SUPPORT, priority="P3", subject=subject, requester=requester,
                                        requester_name="", now=at)
        if body:
            store.add_message(dedupe_key=f"k{ticket_id}", message_id=None, mailbox="test", source_key=str(ticket_id),
                              status="processed", kind="new_ticket", ticket=ticket_id, received_at=at,
                              body_text=body, size=len(body), raw=body.encode(), created_at=at)
    return ticket_id


def found(store: SqlStore, **filters) -> list[int]:
    return [t.id for t in store.list_tickets(status="all", **filters)]


def test_search_looks_in_subjects_requesters_and_every_message_of_the_thread_in_any_case(store):
    one = ticket(store, "Login broken", "ann@initech.example", body="Since Monday the SAML assertion is rejected.")
    two = ticket(store, "Export fails 50 times off hours", "bob@globex.example", body="The CSV has no header.")
    three = ticket(store, "Question", "carol@INITECH.example")
    assert found(store, search="saml") == [one]
    assert found(store, search="LOGIN") == [one]
    assert found(store, search="initech") == [one, three]
    assert found(store, search="50% off") == []  # LIKE's wildcards are text here
    assert found(store, requester="@initech.example") == [one, three]
    assert found(store, since=NOW + timedelta(seconds=1)) == []
    assert found(store, limit=2) == [two, three]
    assert found(store, after=one) == [two, three]


def test_overdue_means_a_clock_breached_or_running_past_its_due_time(store):
    late, running, paused, met = (ticket(store, f"t{i}", "a@b.example") for i in range(4))
    with store.transaction():
        store.set_sla(late, policy="p", first_response_due=NOW, resolution_due=None, first_response_state="breached",
                      resolution_state="", next_check=None)
        store.set_sla(running, policy="p", first_response_due=NOW + timedelta(hours=1), resolution_due=None,
                      first_response_state="running", resolution_state="", next_check=None)
        store.set_sla(paused, policy="p", first_response_due=NOW - timedelta(hours=1), resolution_due=None,
                      first_response_state="paused", resolution_state="", next_check=None)
        store.set_sla(met, policy="p", first_response_due=NOW - timedelta(hours=1), resolution_due=None,
                      first_response_state="met", resolution_state="", next_check=None)
    assert found(store, overdue_at=NOW) == [late]
    assert found(store, overdue_at=NOW + timedelta(hours=2)) == [late, running]


def test_a_rehearsal_is_rolled_back_with_every_unit_of_work_inside_it(store):
    kept = ticket(store, "before", "a@b.example")
    with store.rehearsal():
        inside = ticket(store, "during", "a@b.example")  # its own transaction commits... into the rehearsal
        assert found(store) == [kept, inside]
    assert found(store) == [kept]
    assert ticket(store, "after", "a@b.example") > kept  # the store works on as before


def test_tickets_read_in_pages_are_the_tickets_listed_at_once_with_the_same_filters(store):
    ids = [ticket(store, f"Question {i}", f"user{i % 2}@initech.example", body="SAML" if i % 3 else "")
           for i in range(7)]
    assert [t for t in store.iter_tickets(status="all", page=2)] == store.list_tickets(status="all")
    assert [t.id for t in store.iter_tickets(status="all", page=3)] == ids  # 7 = 3 + 3 + 1
    assert [t.id for t in store.iter_tickets(status="all", page=7)] == ids  # a full last page, then an empty one
    assert ([t.id for t in store.iter_tickets(status="all", search="saml", requester="user1@", page=1)]
            == found(store, search="saml", requester="user1@"))
    assert list(store.iter_tickets(status="resolved")) == []


def test_event_logs_read_by_the_batch_are_each_tickets_own_log(store):
    first, second, quiet = (ticket(store, f"t{i}", "a@b.example") for i in range(3))
    with store.transaction():
        for ticket_id in (first, second):
            store.add_event(ticket_id, EventKind.CUSTOMER_REPLIED, NOW + timedelta(hours=1), "a@b.example", n=ticket_id)
    logs = store.events_of([second, first, quiet])
    assert logs[first] == store.events(first) and logs[second] == store.events(second)
    assert logs[first][-1].detail == {"n": first}
    assert logs.get(quiet, []) == store.events(quiet)
