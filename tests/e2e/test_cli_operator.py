"""The operator's command line beyond the quick start: finding tickets, changing them, the
quarantine, dry runs and backfills of folders that hold more than mail."""
import contextlib
import io
import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from support.configs import example_copy

from ticketing.app.cli import main
from ticketing.app.cli.parser import build_parser
from ticketing.store import SqlStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def friday_morning():
    """Friday 20 November 2026, 09:00 in Los Angeles, a day after the example mailbox's last message."""
    with freeze_time("2026-11-20 17:00:00"):
        yield


@pytest.fixture
def example(tmp_path, db_url):
    """The shipped example on an empty database: SQLite, and again PostgreSQL."""
    return example_copy(tmp_path, db_url)


def first_run(example: Path) -> Path:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["run", "--once", "--config", str(example)]) == 0
    return example


@pytest.fixture
def ran(example):
    """The example after its first run: three tickets (WG-3 is Globex's, Tom's, P3)."""
    return first_run(example)


@pytest.fixture
def ran_on_sqlite(tmp_path):
    """The same on SQLite only, for the command line's answers to mistakes (argument handling: the
    database's content is the same on both)."""
    return first_run(example_copy(tmp_path))


def run(capture, *argv):
    code = main(list(argv))
    out, err = capture.readouterr()
    if isinstance(out, bytes):  # capsysbinary
        out, err = out.decode(), err.decode()
    return code, out, err


def ids(capsys, config, *filters):
    code, out, err = run(capsys, "tickets", "--json", "--config", str(config), *filters)
    assert code == 0, err
    return [t["id"] for t in json.loads(out)]


# -- finding tickets --------------------------------------------------------------------------------


QUESTION = (b"From: Bob Martinez <bob.martinez@globex.example>\r\nTo: support@northwind.example\r\n"
            b"Subject: Export to CSV drops the last column of every row in the quarterly report\r\n"
            b"Date: Fri, 20 Nov 2026 16:55:00 +0000\r\nMessage-ID: <q-77@globex.example>\r\n\r\nIt drops it.\r\n")


def test_the_ticket_list_fits_80_columns_and_shows_each_tickets_sla(capsys, ran, tmp_path):
    (tmp_path / "new.eml").write_bytes(QUESTION)
    assert main(["ingest", "--notify", str(tmp_path / "new.eml"), "--config", str(ran)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "tickets", "--config", str(ran))
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].split() == ["ID", "PRI", "STATUS", "SLA", "ASSIGNEE", "SUBJECT"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"WG-1", "WG-2", "WG-3", "WG-4"}
    # Globex's question of a day ago is breached; the new one shows when its first response is due.
    assert " breached " in rows["WG-3"] and "tom.becker" in rows["WG-3"]
    [new] = [t for t in json.loads(run(capsys, "tickets", "--json", "--config", str(ran))[1]) if t["id"] == 4]
    due = datetime.fromisoformat(new["first_response_due"]).astimezone()
    assert f" due {due:%m-%d %H:%M} " in rows["WG-4"] and new["sla"] == "due"
    assert rows["WG-4"].endswith("…")  # the long subject is cut to fit

    code, out, _ = run(capsys, "tickets", "--wide", "--config", str(ran))
    assert "REQUESTER" in out and "bob.martinez@globex.example" in out and "Globex Corporation" in out
    assert max(len(line) for line in out.splitlines()) > 80


def test_tickets_are_found_by_text_account_requester_age_priority_and_newest(capsys, ran):
    assert ids(capsys, ran, "--search", "saml") == [3]  # in the subject, any case
    assert ids(capsys, ran, "--search", "login loop") == [3]
    assert ids(capsys, ran, "--search", "nothing like this") == []
    assert ids(capsys, ran, "--account", "acme corporation") == [1, 2]
    assert ids(capsys, ran, "--requester", "@globex.example") == [3]
    assert ids(capsys, ran, "--priority", "p2") == [1]  # any case
    assert ids(capsys, ran, "--since", "2026-11-17") == [2, 3]  # when their first message arrived
    assert ids(capsys, ran, "--since", "2026-11-19") == []
    assert ids(capsys, ran, "--since", "3d") == [2, 3]  # since Tuesday 17:00 UTC
    assert ids(capsys, ran, "--since", "12h") == []
    assert ids(capsys, ran, "--limit", "2") == [2, 3]  # the newest two
    assert ids(capsys, ran, "--account", "acme corporation", "--priority", "P3") == [2]


def test_overdue_lists_the_tickets_whose_clock_ran_out(capsys, ran, tmp_path):
    (tmp_path / "new.eml").write_bytes(QUESTION)
    assert main(["ingest", "--notify", str(tmp_path / "new.eml"), "--config", str(ran)]) == 0
    capsys.readouterr()
    now = set(ids(capsys, ran, "--overdue"))
    with freeze_time("2026-12-31 17:00:00"):  # weeks later the new question's clock is past due too
        later = set(ids(capsys, ran, "--overdue"))
    assert now == {2, 3} and later == {2, 3, 4}
    code, out, _ = run(capsys, "tickets", "--json", "--config", str(ran))
    states = {t["id"]: t["sla"] for t in json.loads(out)}
    assert {states[i] for i in now} <= {"breached", "overdue"}


@pytest.mark.parametrize("argv, says", [
    (["tickets", "--engineer", "nobody@northwind.example"], "nobody@northwind.example is not one of the engineers"),
    (["tickets", "--priority", "P7"], "no priority 'P7'"),
    (["tickets", "--since", "last week"], "not a day or an age"),
    (["tickets", "--limit", "0"], "not a positive number"),
    (["outbox", "--retry", "9999"], "no outgoing message 9999"),
    (["ticket", "99", "resolve"], "no ticket 99"),
    (["ticket", "3", "assign", "nobody@northwind.example"], "nobody@northwind.example is not one of the engineers"),
    (["ticket", "3", "priority", "P9"], "priority needs one of P0, P1, P2, P3"),
    (["ticket", "3", "priority"], "priority needs a priority"),
    (["ticket", "3", "fix"], "invalid choice: 'fix'"),
    (["ticket", "3", "resolve", "now"], "resolve takes nothing more"),
    (["quarantine", "show", "42"], "no quarantined message 42"),
    (["quarantine", "discard", "42"], "no quarantined message 42 waiting"),
    (["report", "weekly", "--week", "2026-W60"], "week"),
])
def test_operator_mistakes_are_one_line_and_a_non_zero_exit(capsys, ran_on_sqlite, argv, says):
    try:
        code, _, err = run(capsys, *argv, "--config", str(ran_on_sqlite))
    except SystemExit as exc:  # argparse's own errors exit from inside main
        code, (_, err) = exc.code, capsys.readouterr()
    assert code in (1, 2)
    assert says in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


# -- changing tickets -------------------------------------------------------------------------------


def test_the_operator_changes_a_ticket_as_an_engineers_command_would_and_it_is_in_the_log(capsys, ran):
    assert run(capsys, "ticket", "WG-3", "priority", "p1", "--config", str(ran))[:2] == (0, "WG-3: priority P3 -> P1\n")
    assert run(capsys, "ticket", "3", "note", "called", "Bob:", "it", "is", "the", "IdP", "--config", str(ran))[0] == 0
    code, out, _ = run(capsys, "ticket", "3", "assign", "priya.raman@northwind.example", "--config", str(ran))
    assert code == 0 and out == "WG-3: assigned to priya.raman@northwind.example\n"
    assert run(capsys, "ticket", "3", "pending", "--config", str(ran))[0] == 0
    assert run(capsys, "ticket", "3", "resolve", "--config", str(ran))[0] == 0

    code, out, _ = run(capsys, "ticket", "3", "--json", "--config", str(ran))
    ticket = json.loads(out)
    assert (ticket["status"], ticket["priority"], ticket["assignee"]) == ("resolved", "P1", "priya.raman@northwind.example")
    mine = [(e["kind"], e["detail"]) for e in ticket["events"] if e["actor"].endswith("(operator)")]
    assert [kind for kind, _ in mine] == ["priority_changed", "note", "assigned", "pending", "resolved"]
    assert mine[1][1]["text"] == "called Bob: it is the IdP"
    # Priya is told, as with #assign, by the next pass.
    handed = [o for o in ticket["outgoing"] if o["purpose"] == "notification" and o["recipients"] == ["priya.raman@northwind.example"]]
    assert handed and handed[-1]["status"] == "queued"
    # The resolution clock stopped with the operator's resolve.
    assert ticket["resolution"] in ("met", "breached") and ticket["resolved_at"]

    code, out, _ = run(capsys, "ticket", "3", "open", "--config", str(ran))
    assert (code, out) == (0, "WG-3: opened\n")


# -- the quarantine ---------------------------------------------------------------------------------

NOBODY = (b"To: support@northwind.example\r\nSubject: who sent this?\r\nDate: Thu, 19 Nov 2026 10:00:00 +0000\r\n"
          b"Message-ID: <nobody-1@example.net>\r\n\r\nNo From header at all.\x1b[31m red\r\n")


def test_a_quarantined_message_is_shown_saved_raw_and_discarded(capsysbinary, ran, tmp_path):
    capsys = capsysbinary
    (tmp_path / "nobody.eml").write_bytes(NOBODY)
    assert main(["ingest", str(tmp_path / "nobody.eml"), "--config", str(ran)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "quarantine", "list", "--json", "--config", str(ran))
    [entry] = json.loads(out)

    code, out, _ = run(capsys, "quarantine", "show", str(entry["id"]), "--config", str(ran))
    assert code == 0
    assert entry["reason"] in out and "Subject: who sent this?" in out and "No From header at all." in out
    assert "\x1b" not in out  # a stranger's bytes do not drive the operator's terminal
    assert f"whiteglove quarantine retry {entry['id']}" in out

    assert main(["quarantine", "show", str(entry["id"]), "--raw", "--config", str(ran)]) == 0
    assert capsysbinary.readouterr().out == NOBODY

    code, out, _ = run(capsys, "quarantine", "discard", str(entry["id"]), "--config", str(ran))
    assert code == 0 and "discarded" in out
    assert run(capsys, "quarantine", "list", "--config", str(ran))[1] == "no quarantined messages\n"
    code, out, _ = run(capsys, "quarantine", "list", "--all", "--config", str(ran))
    assert "discarded by" in out and "(operator)" in out
    # Nothing lost: the message is still stored with its bytes.
    assert main(["quarantine", "show", str(entry["id"]), "--raw", "--config", str(ran)]) == 0
    assert capsysbinary.readouterr().out == NOBODY


# -- backfills and dry runs -------------------------------------------------------------------------


def test_ingest_takes_only_mail_files_from_a_folder(capsys, ran, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "README.md").write_text("# Export of the old help desk\n\nTitle: notes\n")
    shutil.copy(ROOT / "examples/inbox/new" / sorted((ROOT / "examples/inbox/new").iterdir())[0].name, folder / "0001")
    (folder / "meeting.ics").write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nEND:VCALENDAR\r\n")
    code, out, err = run(capsys, "ingest", str(folder), "--config", str(ran))
    assert code == 0
    assert "0 quarantined" in out and "2 file(s) skipped as not mail" in out
    assert "1 duplicates" in out  # the mail file without a suffix was read (it is one ran already had)
    skipped = sorted(line for line in err.splitlines() if "skipped" in line)
    assert len(skipped) == 2 and "README.md: not a mail file" in skipped[0] and "meeting.ics" in skipped[1]


def test_a_dry_run_prints_what_the_first_run_would_do_and_leaves_nothing_behind(capsys, example, db_url):
    code, out, _ = run(capsys, "run", "--once", "--dry-run", "--config", str(example))
    assert code == 0
    assert "would create 3 ticket(s):" in out and "would send 29 mail(s):" in out
    assert "acknowledgement  to bob.martinez@globex.example: Re: SSO login loop after enabling SAML [WG-3]" in out
    folder = example.parent
    assert not (folder / "whiteglove.db").exists()  # no database where there was none
    if not db_url.startswith("sqlite"):
        store = SqlStore.open(db_url, create=False)
        try:
            assert store.schema_version() == 0  # the server's database: still without a table
        finally:
            store.close()
    assert not list(folder.glob("outbox/*.eml"))

    code, out, _ = run(capsys, "run", "--once", "--config", str(example))
    assert "6 processed" in out and "outbox: 29 sent" in out  # the real run is not affected


def test_a_dry_run_backfill_stores_nothing(capsys, ran, tmp_path):
    (tmp_path / "nobody.eml").write_bytes(NOBODY)
    (tmp_path / "question.eml").write_bytes(
        b"From: Ann <ann@initech.example>\r\nTo: support@northwind.example\r\nSubject: Export fails\r\n"
        b"Date: Thu, 19 Nov 2026 10:00:00 +0000\r\nMessage-ID: <q-1@initech.example>\r\n\r\nThe export fails.\r\n")
    before = ids(capsys, ran, "--status", "all")
    code, out, _ = run(capsys, "ingest", "--dry-run", str(tmp_path / "question.eml"), str(tmp_path / "nobody.eml"),
                       "--config", str(ran))
    assert code == 0
    assert "1 processed" in out and "1 quarantined" in out and "would create 1 ticket(s)" in out
    assert "would send 0 mail(s)" in out  # a backfill is history
    assert ids(capsys, ran, "--status", "all") == before
    assert run(capsys, "quarantine", "list", "--config", str(ran))[1] == "no quarantined messages\n"


# -- the command itself -----------------------------------------------------------------------------


def test_python_dash_m_whiteglove_is_the_command_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "whiteglove", "--version"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("whiteglove ")


def test_every_option_and_argument_has_help_text():
    import argparse

    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help and action.dest != "help":
                missing.append(f"{path} {action.dest}")

    walk(build_parser(), "whiteglove")
    assert missing == []


def test_run_against_a_mailbox_host_that_does_not_resolve_is_one_line_and_exit_1(capsys, example, monkeypatch):
    text = example.read_text().replace('backend = "maildir"\npath = "examples/inbox"',
                                       'backend = "imap"\nhost = "imap.nowhere.invalid"\n'
                                       'username = "support@northwind.example"\npassword_env = "WG_TEST_IMAP"', 1)
    example.write_text(text)
    monkeypatch.setenv("WG_TEST_IMAP", "secret")

    code, out, err = run(capsys, "run", "--config", str(example))

    assert code == 1
    assert "Traceback" not in err and "retrying" not in err  # the log lines before it, then one line that says it
    assert err.splitlines()[-1:] == [f"whiteglove: the mailbox: the host name imap.nowhere.invalid does not resolve "
                                f"(fix: [mailbox] in {example}; `whiteglove check` tries each connection)"]
