"""Who gets a ticket, and why."""
from datetime import datetime, timezone

from ticketing.core.routing import Candidate, choose_engineer

T = datetime(2026, 11, 20, 18, tzinfo=timezone.utc)


def c(email, load=0, last=None, away=False, working=True, serves=True):
    return Candidate(email, load, last, away, working, serves)


def test_the_account_engineer_gets_the_ticket_whatever_the_loads():
    pool = (c("a@x.example", 9), c("b@x.example", 0))
    assert choose_engineer("P3", "A@x.example", pool).engineer == "a@x.example"


def test_without_an_account_engineer_the_least_loaded_wins_then_the_least_recently_assigned():
    pool = (c("a@x.example", 2), c("b@x.example", 1, T), c("c@x.example", 1, T.replace(hour=10)))
    result = choose_engineer("P3", None, pool)
    assert result.engineer == "c@x.example"
    assert "least open load (1)" in result.reason and "least recently" in result.reason


def test_engineers_out_of_office_are_skipped_even_the_account_engineer():
    pool = (c("a@x.example", 0, away=True), c("b@x.example", 5))
    result = choose_engineer("P3", "a@x.example", pool)
    assert result.engineer == "b@x.example" and "a@x.example is out of office" in result.reason
    assert choose_engineer("P3", None, (c("a@x.example", away=True),)).engineer is None


def test_urgent_tickets_go_to_someone_inside_working_hours_when_anyone_is():
    pool = (c("night@x.example", 0, working=False), c("day@x.example", 4))
    assert choose_engineer("P1", None, pool).engineer == "day@x.example"
    assert choose_engineer("P3", None, pool).engineer == "night@x.example"
    asleep = (c("night@x.example", 0, working=False), c("late@x.example", 4, working=False))
    assert choose_engineer("P0", None, asleep).engineer == "night@x.example"


def test_an_unknown_account_engineer_falls_back_to_the_pool_and_says_so():
    result = choose_engineer("P2", "gone@x.example", (c("a@x.example"),))
    assert result.engineer == "a@x.example" and "not a configured engineer" in result.reason
    assert result.as_json()["candidates"][0]["email"] == "a@x.example"


def test_a_playbook_calendar_narrows_the_pool_to_engineers_whose_hours_cover_it():
    pool = (c("a@x.example", 0, serves=False), c("b@x.example", 3))
    result = choose_engineer("P3", None, pool)
    assert result.engineer == "b@x.example" and "cover the playbook's calendar" in result.reason
    # nobody covers it: the pool as before; the account's engineer always keeps the account
    nobody = (c("a@x.example", 0, serves=False), c("b@x.example", 3, serves=False))
    assert choose_engineer("P3", None, nobody).engineer == "a@x.example"
    assert choose_engineer("P3", "a@x.example", pool[:1] + nobody[1:]).engineer == "a@x.example"
