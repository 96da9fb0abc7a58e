"""``whiteglove tickets --json`` streams its array a page at a time, and prints exactly what it printed
when it built the whole list first (scripts parse it, some compare it)."""
import json
from pathlib import Path

import pytest
from freezegun import freeze_time
from support.configs import example_copy

from ticketing.app.bootstrap import build_store
from ticketing.app.cli import main, views
from ticketing.app.clock import utcnow
from ticketing.config import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def friday_morning():
    with freeze_time("2026-11-20 17:00:00"):
        yield


@pytest.fixture
def ran(tmp_path, db_url, capsys):
    config = example_copy(tmp_path, db_url)
    assert main(["run", "--once", "--config", str(config)]) == 0
    capsys.readouterr()
    return config


def the_list_printed_whole(config, **filters) -> str:
    """What the command printed before it streamed: ``json.dumps`` of the whole list."""
    store = build_store(load_config(config), must_exist=True)
    try:
        tickets = store.list_tickets(**filters)
    finally:
        store.close()
    now = utcnow()
    return json.dumps([dict(t.as_json(), sla=views.sla_state(t, now)[0]) for t in tickets], indent=2) + "\n"


@pytest.mark.parametrize("argv, filters", [
    (["--status", "all"], {"status": "all"}),
    ([], {"status": "open"}),
    (["--status", "all", "--search", "sso"], {"status": "all", "search": "sso"}),
    (["--status", "all", "--limit", "2"], {"status": "all", "limit": 2}),
    (["--status", "resolved"], {"status": "resolved"}),
])
def test_tickets_json_prints_what_the_whole_list_printed(capsys, ran, argv, filters):
    expected = the_list_printed_whole(ran, **filters)
    assert main(["tickets", "--json", "--config", str(ran), *argv]) == 0
    out, _ = capsys.readouterr()
    assert out == expected
    if filters == {"status": "all"}:
        assert len(json.loads(out)) >= 3  # the example mailbox's tickets, not an empty array


def test_an_engineer_nobody_configured_is_still_an_error_not_an_empty_array(capsys, ran):
    assert main(["tickets", "--json", "--engineer", "nobody@northwind.example", "--config", str(ran)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "nobody@northwind.example is not one of the engineers" in err


def test_tickets_json_never_holds_the_whole_list(capsys, ran, monkeypatch):
    from ticketing.store import SqlStore

    expected = the_list_printed_whole(ran, status="all")
    pages = []
    real = SqlStore._tickets_where

    def one_page(self, *conditions, limit=None, ascending=False):
        assert limit, "a query without a limit reads every ticket at once"
        found = real(self, *conditions, limit=limit, ascending=ascending)
        pages.append(len(found))
        return found

    monkeypatch.setattr(SqlStore, "_tickets_where", one_page)
    paged = SqlStore.iter_tickets
    monkeypatch.setattr(SqlStore, "iter_tickets", lambda self, **filters: paged(self, page=2, **filters))
    assert main(["tickets", "--json", "--status", "all", "--config", str(ran)]) == 0
    assert capsys.readouterr().out == expected
    assert len(pages) >= 2 and max(pages) == 2
