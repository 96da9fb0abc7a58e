"""Figures the store keeps for a unit of work (each engineer's open load and last assignment, an
account): read once and then kept, they must still say what a fresh read would after every change."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ticketing.core.domain import TicketKind, TicketStatus

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
A, B = "ann@northwind.example", "bob@northwind.example"


def _open(store, assignee, at=NOW):
    return store.create_ticket(kind=TicketKind.SUPPORT, priority="P3", subject="s", requester="c@x.example",
                               requester_name="C", now=at, assignee=assignee, assigned_at=at)


def fresh(store):
    return store.open_loads([A, B]), store.last_assignments([A, B])


def test_kept_loads_follow_new_resolved_and_reassigned_tickets(store):
    _open(store, A)
    with store.transaction():
        assert store.open_loads([A, B]) == {A: 1, B: 0}
        first = _open(store, B, NOW + timedelta(minutes=1))
        _open(store, B, NOW + timedelta(minutes=2))
        assert store.open_loads([A, B]) == {A: 1, B: 2}
        assert store.last_assignments([A, B])[B] == NOW + timedelta(minutes=2)
        store.update_ticket(first, NOW, status=TicketStatus.RESOLVED)
        assert store.open_loads([A, B]) == {A: 1, B: 1}
        store.update_ticket(first, NOW, status=TicketStatus.OPEN, assignee=A, assigned_at=NOW + timedelta(minutes=3))
        kept = (store.open_loads([A, B]), store.last_assignments([A, B]))
    assert kept == fresh(store) == ({A: 2, B: 1}, {A: NOW + timedelta(minutes=3), B: NOW + timedelta(minutes=2)})


def test_a_ticket_rolled_back_with_its_message_is_not_counted(store):
    with store.transaction():
        assert store.open_loads([A]) == {A: 0}
        with pytest.raises(RuntimeError):
            with store.savepoint():
                _open(store, A)
                assert store.open_loads([A]) == {A: 1}
                raise RuntimeError("the message fails")
        assert store.open_loads([A]) == {A: 0}
        assert store.last_assignments([A]) == {}
    assert fresh(store) == ({A: 0, B: 0}, {})


def test_a_kept_account_shows_a_contact_added_in_the_same_unit_of_work(store):
    account_id = store.save_account(name="Globex", tier="enterprise", engineer=A, timezone=None, origin="config", now=NOW)
    with store.transaction():
        assert store.get_account(account_id).contacts == ()
        store.save_contact(account_id, "bob@globex.example", "Bob")
        store.add_domains(account_id, ["globex.example"])
        account = store.get_account(account_id)
        assert [c.email for c in account.contacts] == ["bob@globex.example"] and account.domains == ("globex.example",)
        with pytest.raises(RuntimeError), store.savepoint():
            store.mark_failing(["bob@globex.example"], "550 gone", NOW)
            assert store.get_account(account_id).contacts[0].failing_since is not None
            raise RuntimeError("the message fails")
        assert store.get_account(account_id).contacts[0].failing_since is None


def test_a_unit_of_work_nested_in_another_keeps_the_outer_ones_figures_until_the_outer_one_ends(store, monkeypatch):
    _open(store, A)
    counts: list[str] = []
    real = type(store.db).execute_sql
    monkeypatch.setattr(type(store.db), "execute_sql", lambda self, sql, *a, **k: (
        counts.append(sql) if sql.startswith('SELECT COUNT("t1"."id") FROM "ticket"') else None) or real(self, sql, *a, **k))
    with store.transaction():
        assert store.open_loads([A, B]) == {A: 1, B: 0}
        with store.transaction():  # a service's unit of work called inside the batch's
            _open(store, B)
        assert store.open_loads([A, B]) == {A: 1, B: 1}
        assert len(counts) == 2  # one per engineer, for the whole batch: the inner unit dropped nothing
        with pytest.raises(RuntimeError), store.transaction():
            _open(store, A)
            raise RuntimeError("rolled back")
        assert store.open_loads([A, B]) == {A: 1, B: 1}  # the rolled-back ticket is not counted
    monkeypatch.undo()
    assert fresh(store)[0] == {A: 1, B: 1}
