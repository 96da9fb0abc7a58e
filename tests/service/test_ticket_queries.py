"""What the operator's ``tickets`` filters and dry runs rely on, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ticketing.core.domain import TicketKind
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
