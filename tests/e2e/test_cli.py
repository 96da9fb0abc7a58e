"""The command line as an operator uses it, on a copy of the shipped example configuration."""
import json
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from support.configs import example_copy

from ticketing.app.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def friday_morning():
    """The worker reads the wall clock (meetings are planned from now): Friday 20 November 2026,
    09:00 in Los Angeles, a day after the example mailbox's last message."""
    with freeze_time("2026-11-20 17:00:00"):
        yield


@pytest.fixture
def example(tmp_path, db_url):
    """A copy of config.example.toml and the example mailbox in a temp folder, on an empty database:
    SQLite, and again PostgreSQL."""
    return example_copy(tmp_path, db_url)


@pytest.fixture
def example_file(tmp_path):
    """The copy as shipped (SQLite beside the file), for the tests of the configuration and of the
    command line's answers to mistakes, which store nothing or are about SQLite's file: run once."""
    return example_copy(tmp_path)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def tickets_json(capsys, config, *extra):
    code, out, _ = run(capsys, "tickets", "--json", "--config", str(config), *extra)
    assert code == 0
    return json.loads(out)


def test_run_once_on_the_example_mailbox_creates_tickets_and_a_second_run_creates_nothing(capsys, example):
    code, out, _ = run(capsys, "run", "--once", "--config", str(example))
    assert code == 0
    assert "6 processed, 0 duplicates, 0 quarantined (3 new tickets)" in out

    # The welcome, invitations, notifications and acknowledgements; no SLA notice: the clocks that
    # ran out did so before whiteglove first saw the tickets, and history is never warned about.
    assert "outbox: 29 sent, 0 to retry, 0 failed" in out

    tickets = tickets_json(capsys, example)
    assert [(t["requester"], t["message_count"]) for t in tickets] == [
        ("crm-notifications@northwind.example", 1),
        ("jane.doe@acme.example", 1),
        ("bob.martinez@globex.example", 2),  # the question and the customer's reply
    ]
    # The notice started Acme's engagement with the engineer it names; Jane is one of the
    # notice's contacts, so her go-live intent goes to the same engineer; Globex is declared in
    # the configuration with Tom as its engineer.
    assert [(t["kind"], t["priority"], t["assignee"], t["account"], t["golive_date"]) for t in tickets] == [
        ("contract_closed", "P2", "priya.raman@northwind.example", "Acme Corporation", None),
        ("golive_intent", "P3", "priya.raman@northwind.example", "Acme Corporation", "2027-01-14"),  # weeks ahead
        ("support", "P3", "tom.becker@northwind.example", "Globex Corporation", None),
    ]
    # Out: a notification for each ticket and an update for Bob's follow-up, to the engineers;
    # an acknowledgement to Jane and to Bob (none to the CRM); nothing to the auto-reply or the
    # bounce. The notice's engagement (the enterprise playbook) sends the welcome email and one
    # invitation per meeting per attendee; Jane's go-live date lets the pre-launch review and the
    # debrief be planned too, and Priya hears that they were.
    sent = sorted(p.name.split("@")[0].rsplit(".", 1)[0] for p in (example.parent / "outbox").glob("*.eml"))  # unsigned
    invites = [name for name in sent if name.startswith("wg.invite.")]
    assert [name for name in sent if not name.startswith(("wg.invite.", "wg.sla."))] == [
        "wg.ack.2", "wg.ack.3", "wg.notify.1.priya-raman-northwind-example", "wg.notify.2.priya-raman-northwind-example",
        "wg.notify.3.tom-becker-northwind-example", "wg.planning.1.1.33ba755b6c006a99",
        "wg.update.4.tom-becker-northwind-example", "wg.welcome.1",
    ]
    assert len(invites) == 21  # 5 meetings: 5 + 4 + 3 + 4 + 5 attendees (the organizer is support)
    # Nobody answered for days: Jane's P1 (2 h / 8 h round the clock) and Bob's P3 ran out of time
    # before whiteglove first saw them. That is history: the clocks say "breached" (in the ticket, the
    # reports), but no breach notice or escalation goes out about it.
    assert [name for name in sent if name.startswith("wg.sla.")] == []
    for t in tickets:
        assert set(t) >= {"id", "kind", "status", "priority", "subject", "requester", "created_at", "message_count"}
    assert tickets[2]["subject"] == "SSO login loop after enabling SAML"
    assert tickets[2]["created_at"] == "2026-11-18T16:10:03+00:00"  # the Maildir delivery time

    code, out, _ = run(capsys, "run", "--once", "--config", str(example))
    assert code == 0 and "0 processed, 0 duplicates, 0 quarantined (0 new tickets)" in out
    assert "outbox: 0 sent" in out and len(list((example.parent / "outbox").glob("*.eml"))) == 29
    assert len(tickets_json(capsys, example)) == 3
    # the example mailbox itself is never changed
    assert sorted(p.name for p in (example.parent / "examples/inbox/new").iterdir()) == sorted(
        p.name for p in (ROOT / "examples/inbox/new").iterdir()
    )


def test_ticket_shows_the_thread_with_attachments(capsys, example):
    run(capsys, "run", "--once", "--config", str(example))
    code, out, _ = run(capsys, "ticket", "3", "--config", str(example))
    assert code == 0
    assert "Ticket 3: SSO login loop after enabling SAML" in out
    assert "Attachment: saml-response.xml (application/xml" in out
    assert "only happens in Chrome and Edge" in out
    code, out, _ = run(capsys, "ticket", "3", "--json", "--config", str(example))
    data = json.loads(out)
    assert [m["kind"] for m in data["thread"]] == ["new", "reply"]
    assert data["thread"][0]["from_name"] == "Bob Martínez"


def test_ingest_reports_processed_and_duplicates(capsys, example, tmp_path):
    eml = tmp_path / "one.eml"
    shutil.copy(next((ROOT / "examples/inbox/new").glob("1795018203*")), eml)
    code, out, _ = run(capsys, "ingest", str(eml), str(example.parent / "examples/inbox"), "--config", str(example))
    assert code == 0
    assert out.strip() == "ingest: 6 processed, 1 duplicates, 0 quarantined (3 new tickets)"
    code, out, _ = run(capsys, "ingest", str(eml), "--config", str(example))
    assert out.strip() == "ingest: 0 processed, 1 duplicates, 0 quarantined (0 new tickets)"


def test_quarantine_list_and_retry(capsys, example, tmp_path):
    bad = tmp_path / "nobody.eml"
    bad.write_bytes(b"Subject: no sender here\r\nMessage-ID: <nobody@x.example>\r\n\r\nhello\r\n")
    code, out, _ = run(capsys, "ingest", str(bad), "--config", str(example))
    assert "1 quarantined" in out
    code, out, _ = run(capsys, "quarantine", "list", "--config", str(example))
    assert "reason: no sender address" in out and "no sender here" in out
    code, out, _ = run(capsys, "quarantine", "retry", "1", "--config", str(example))
    assert code == 1 and "still cannot be handled" in out
    code, out, err = run(capsys, "quarantine", "retry", "99", "--config", str(example))
    assert code == 1 and "no quarantined message 99" in err


def test_config_check_lists_each_problem_with_its_key_and_a_fix(capsys, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[mailbox]\nbackend = "imap"\nhots = "x"\n[support]\naddress = "support@example.com"\n')
    code, out, err = run(capsys, "config", "check", "--config", str(config))
    assert code == 2
    lines = err.strip().splitlines()
    assert any("mailbox.hots: unknown key" in line and "fix:" in line for line in lines)
    assert any("mailbox.host: required" in line for line in lines)


def test_config_check_accepts_the_example(capsys):
    code, out, _ = run(capsys, "config", "check", "--config", str(ROOT / "config.example.toml"))
    assert code == 0 and "OK" in out
    assert "warning" not in out  # the example names its receiving server: forged commands are refused


def test_config_check_warns_when_engineers_and_notices_are_believed_on_their_from_alone(capsys, example_file):
    text = example_file.read_text(encoding="utf-8")
    example_file.write_text(text.replace('authserv_id = "mx1.northwind.example"', ""), encoding="utf-8")
    code, out, _ = run(capsys, "config", "check", "--config", str(example_file))
    [warning] = [line for line in out.splitlines() if line.startswith("warning:")]
    assert code == 0 and "security.authserv_id is not set" in warning and "anyone can forge" in warning
    example_file.write_text(text.replace("# require_authentication = false", "require_authentication = false"),
                       encoding="utf-8")
    code, out, _ = run(capsys, "config", "check", "--config", str(example_file))
    assert code == 0 and "warning: security.require_authentication = false" in out


def test_db_upgrade_creates_then_reports_up_to_date(capsys, example):
    code, out, _ = run(capsys, "db", "upgrade", "--config", str(example))
    assert code == 0 and "database created" in out
    code, out, _ = run(capsys, "db", "upgrade", "--config", str(example))
    assert "up to date" in out


def test_user_errors_print_one_line_and_no_traceback(tmp_path, example_file):
    """The installed console script, as an operator runs it."""
    script = Path(sys.executable).parent / "whiteglove"
    cases = [
        (["run", "--once", "--config", str(tmp_path / "missing.toml")], "no configuration file"),
        (["tickets", "--config", str(example_file), "--status", "open"], "no database at"),  # nothing ran yet
        (["db", "upgrade", "--config", str(example_file)], None),  # now there is one
    ]
    imap = tmp_path / "imap.toml"
    imap.write_text(
        '[database]\nurl = "sqlite:///wg.db"\n[mailbox]\nbackend = "imap"\nhost = "127.0.0.1"\nport = 1\nsecurity = "none"\n'
        'username = "u"\npassword_env = "WG_TEST_UNSET_PASSWORD"\n[support]\naddress = "support@example.com"\n'
    )
    cases.append((["run", "--once", "--config", str(imap)], "WG_TEST_UNSET_PASSWORD is not set"))
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    not_a_database = tmp_path / "not-a-database.toml"
    not_a_database.write_text(example_file.read_text(encoding="utf-8").replace(
        'url = "sqlite:///whiteglove.db"', f'url = "sqlite:///{notes}"'), encoding="utf-8")
    cases.append((["tickets", "--config", str(not_a_database)], "file is not a database"))
    cases.append((["playbooks", "preview", "enterprise-onboarding", "--start", "2026-12-07", "--timezone", "Mars/Olympus",
                   "--config", str(example_file)], "no time zone 'Mars/Olympus'"))
    cases.append((["report", "weekly", "--out", str(tmp_path / "missing" / "week.html"), "--config", str(example_file)],
                  "cannot write"))
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(example_file.read_bytes() + "# café\n".encode("latin-1"))
    cases.append((["config", "check", "--config", str(latin1)], "not UTF-8 text"))
    for argv, expected in cases:
        result = subprocess.run([str(script), *argv], capture_output=True, text=True, timeout=60)
        assert "Traceback" not in result.stderr, result.stderr
        if expected:
            assert result.returncode != 0
            assert expected in result.stderr
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        else:
            assert result.returncode == 0


def test_tickets_filter_by_engineer_kind_and_priority(capsys, example):
    run(capsys, "run", "--once", "--config", str(example))
    assert [t["id"] for t in tickets_json(capsys, example, "--engineer", "PRIYA.RAMAN@northwind.example")] == [1, 2]
    assert [t["id"] for t in tickets_json(capsys, example, "--kind", "golive_intent")] == [2]
    assert [t["id"] for t in tickets_json(capsys, example, "--priority", "P3")] == [2, 3]
    code, out, _ = run(capsys, "tickets", "--wide", "--config", str(example))
    assert "(go-live 2027-01-14)" in out and "tom.becker@northwind.example" in out


def test_ticket_explains_its_classification_assignment_and_events(capsys, example):
    run(capsys, "run", "--once", "--config", str(example))
    code, out, _ = run(capsys, "ticket", "2", "--config", str(example))
    assert code == 0
    assert "intent phrase 'plan to go live'" in out
    assert "Assigned to priya.raman@northwind.example: the engineer of the account" in out
    assert "tom.becker@northwind.example" in out  # every candidate is listed with its load
    assert "created" in out and "assigned" in out and "acknowledgement" in out
    data = json.loads(run(capsys, "ticket", "2", "--json", "--config", str(example))[1])
    assert data["assignment"]["reason"] == "the engineer of the account"
    assert [e["kind"] for e in data["events"]] == ["created", "assigned"]
    assert {o["purpose"] for o in data["outgoing"]} == {"notification", "acknowledgement"}  # its 2 h ran out unseen


def test_outbox_lists_outgoing_mail_and_failed_mail(capsys, example):
    run(capsys, "run", "--once", "--config", str(example))
    code, out, _ = run(capsys, "outbox", "--json", "--config", str(example))
    mails = json.loads(out)
    assert len(mails) == 29 and {m["status"] for m in mails} == {"sent"}
    assert run(capsys, "outbox", "--failed", "--config", str(example))[1].strip() == "no failed mail"
    code, _, err = run(capsys, "outbox", "--retry", "1", "--config", str(example))
    assert code == 1 and "is sent, not failed" in err


def test_every_failed_message_can_be_queued_again_at_once(capsys, example):
    from ticketing.config import load_config
    from ticketing.store import SqlStore

    run(capsys, "run", "--once", "--config", str(example))
    store = SqlStore.open(load_config(example).database_url())
    try:
        store.db.execute_sql("UPDATE outbound_message SET status = 'failed' WHERE id IN (3, 4, 5)")
    finally:
        store.close()
    code, out, _ = run(capsys, "outbox", "--retry-failed", "--config", str(example))
    assert code == 0 and out.strip() == "3 outgoing message(s) queued again"
    assert run(capsys, "outbox", "--failed", "--config", str(example))[1].strip() == "no failed mail"


def test_run_once_exits_1_when_every_new_message_was_quarantined(capsys, example):
    box = example.parent / "examples" / "inbox"
    for path in (box / "new").iterdir():
        path.unlink()
    (box / "new" / "1795000000.M1P1.test").write_bytes(b"\r\n\r\n")  # an empty message: nothing to act on
    code, out, err = run(capsys, "run", "--once", "--config", str(example))
    assert code == 1 and "1 quarantined" in out and "was quarantined: see whiteglove quarantine list" in err


def test_the_example_notice_invites_everyone_inside_business_hours_in_playbook_order(capsys, example):
    from icalendar import Calendar

    from mailer.message import parse_message
    from ticketing.app.bootstrap import build_calendars
    from ticketing.config import load_config
    from ticketing.files.playbooks import load_playbooks

    run(capsys, "run", "--once", "--config", str(example))
    calendar = build_calendars(load_config(example))["us-pacific"]
    order = [m.key for m in load_playbooks(ROOT / "playbooks")["enterprise-onboarding"].order()]
    data = json.loads(run(capsys, "engagement", "1", "--json", "--config", str(example))[1])
    by_uid = {m["uid"]: m["key"] for m in data["meetings"]}
    starts = {}
    for path in (example.parent / "outbox").glob("wg.invite.*.eml"):
        [part] = {p.text: p for p in parse_message(path.read_bytes()).calendars}.values()
        [event] = Calendar.from_ical(part.text).walk("VEVENT")
        start, end = event["DTSTART"].dt, event["DTEND"].dt
        assert part.method == "REQUEST" and calendar.is_open(start) and calendar.is_open(end - timedelta(minutes=1))
        starts.setdefault(by_uid[str(event["UID"])], set()).add(start)
    assert all(len(times) == 1 for times in starts.values())  # every attendee got the same time
    assert sorted(starts, key=lambda key: min(starts[key])) == order
    golive = date(2027, 1, 14)
    assert min(starts["pre-launch"]).date() < golive < min(starts["debrief"]).date()


def test_options_go_before_or_after_the_command_and_a_ticket_is_named_as_its_subject_shows_it(capsys, example):
    assert run(capsys, "--config", str(example), "run", "--once")[0] == 0  # --config before the command counts
    code, out, _ = run(capsys, "--config", str(example), "ticket", "WG-2")
    assert code == 0 and out.startswith("Ticket 2: Go-live planned")
    assert run(capsys, "ticket", "[WG-3]", "--config", str(example))[1].startswith("Ticket 3:")
    with pytest.raises(SystemExit) as version:
        main(["--version"])
    assert version.value.code == 0 and capsys.readouterr().out.startswith("whiteglove ")


def test_config_check_fails_where_run_would_each_problem_one_line(capsys, example_file, monkeypatch):
    """An unset password variable, a missing database folder and an outbox that cannot be created
    used to pass the check and then stop run."""
    monkeypatch.delenv("WG_TEST_UNSET_SMTP", raising=False)
    (example_file.parent / "notes.txt").write_text("")
    text = example_file.read_text(encoding="utf-8").replace('url = "sqlite:///whiteglove.db"', 'url = "sqlite:///data/whiteglove.db"')
    text = text.replace('backend = "directory"\npath = "outbox"', 'backend = "directory"\npath = "notes.txt/outbox"')
    example_file.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "config", "check", "--config", str(example_file))
    lines = err.strip().splitlines()
    assert code == 2 and "OK" not in out
    assert [line.split(": ")[3] for line in lines] == ["database.url", "outgoing.path"]
    assert all(line.startswith("whiteglove: config error: ") and "(fix: " in line for line in lines)
    code, _, run_err = run(capsys, "run", "--once", "--config", str(example_file))
    assert code == 2 and run_err == err  # run stops with the same lines, before creating anything
    assert not (example_file.parent / "data").exists()
    smtp = 'backend = "smtp"\nhost = "127.0.0.1"\nsecurity = "none"\nusername = "support@northwind.example"\n' \
           'password_env = "WG_TEST_UNSET_SMTP"'
    example_file.write_text(text.replace('backend = "directory"\npath = "notes.txt/outbox"', smtp), encoding="utf-8")
    code, _, err = run(capsys, "config", "check", "--config", str(example_file))
    assert code == 2 and "outgoing.password_env: the environment variable WG_TEST_UNSET_SMTP is not set" in err


def test_run_once_logs_in_to_smtp_with_a_password_file_from_the_credentials_directory(capsys, example, tmp_path,
                                                                                       monkeypatch, smtp_server_factory):
    server = smtp_server_factory(users={"support@northwind.example": "s3cret pass"})
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "smtp-password").write_text("s3cret pass\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    smtp = (f'backend = "smtp"\nhost = "{server.host}"\nport = {server.port}\nsecurity = "none"\n'
            'username = "support@northwind.example"\npassword_file = "smtp-password"')
    example.write_text(example.read_text(encoding="utf-8").replace('backend = "directory"\npath = "outbox"', smtp),
                       encoding="utf-8")
    code, out, _ = run(capsys, "config", "check", "--config", str(example))
    assert code == 0 and "OK" in out
    code, out, err = run(capsys, "run", "--once", "--config", str(example))
    assert code == 0, err
    assert server.logins == ["support@northwind.example"] and len(server.received) > 0
    assert out.splitlines()[-1] == f"outbox: {len(server.received)} sent, 0 to retry, 0 failed"
    assert "s3cret" not in out + err
    (credentials / "smtp-password").unlink()
    code, _, err = run(capsys, "config", "check", "--config", str(example))
    # (the test SMTP server's thread may still log the run's session closing: not whiteglove's output)
    assert code == 2 and len([line for line in err.strip().splitlines() if " mail.log: " not in line]) == 1
    assert f"outgoing.password_file: the file {example.parent / 'smtp-password'} does not exist" in err


def test_playbooks_preview_marks_internal_meetings_and_check_refuses_an_unknown_calendar(capsys, example_file, tmp_path):
    code, out, _ = run(capsys, "playbooks", "preview", "professional-services", "--start", "2026-11-23",
                       "--timezone", "America/New_York", "--config", str(example_file))
    meetings = out.partition("\ntasks:\n")[0].splitlines()  # the tasks follow the meetings
    [post_mortem] = [line for line in meetings if "post-mortem" in line]
    assert code == 0 and "[internal]" in post_mortem
    assert not [line for line in out.splitlines() if "[internal]" in line and "post-mortem" not in line]
    folder = tmp_path / "own-playbooks"
    shutil.copytree(ROOT / "playbooks", folder)
    quickstart = folder / "quickstart.toml"
    text = quickstart.read_text(encoding="utf-8")
    start = text.index("calendar = {")
    quickstart.write_text(text[:start] + 'calendar = "pst-support"' + text[text.index("\n", start):], encoding="utf-8")
    example_file.write_text(example_file.read_text(encoding="utf-8").replace("[onboarding]\n", f'[onboarding]\nplaybooks = "{folder}"\n'),
                       encoding="utf-8")
    code, _, err = run(capsys, "playbooks", "check", "--config", str(example_file))
    assert code != 0 and "quickstart.toml: calendar: no calendar named 'pst-support'" in err


def test_engagement_shows_its_tasks_after_the_meetings_and_in_its_json(capsys, example):
    run(capsys, "run", "--once", "--config", str(example))
    code, out, _ = run(capsys, "engagement", "1", "--config", str(example))
    assert code == 0 and "  Tasks:" in out
    meetings_end, tasks_start = out.rindex("[planned]"), out.index("  Tasks:")
    assert meetings_end < tasks_start
    listed = out[tasks_start:]
    assert "staging-live" in listed and "customer:it" in listed and " open " in listed
    rows = [line for line in listed.splitlines()[1:] if not line.strip().startswith("note:")]
    assert len(rows) == 5 and all(re.match(r"    (\d{4}-\d\d-\d\d|waiting)\s", row) for row in rows)
    data = json.loads(run(capsys, "engagement", "1", "--json", "--config", str(example))[1])
    tasks = {t["key"]: t for t in data["tasks"]}
    assert tasks["staging-live"]["status"] == "open" and tasks["staging-live"]["due"]
    assert tasks["production-cdn"]["owner"] and tasks["production-cdn"]["done_at"] is None


def test_engagement_shows_its_milestones_and_health_with_metrics_and_its_json_carries_them(capsys, example):
    run(capsys, "run", "--once", "--config", str(example))
    code, out, _ = run(capsys, "engagement", "1", "--config", str(example))
    assert code == 0
    head = out[:out.index("  Tasks:")]
    assert "  active: went live not yet, signed off not yet, closed not yet" in head
    assert "  Health: on track (as of 2026-11-20)" in head
    assert "    go-live   planned 2027-01-14, not live yet; 0 weeks since the start; target within 12 weeks" in head
    assert "    meetings  held 0 of 5 (5 ahead, 0 cancelled); required held 0/1" in head
    assert "    survey    no answers yet, target 8" in head
    # Three weeks on, the customer's staging task (due Friday 11 December) is overdue: at risk, and why.
    with freeze_time("2026-12-14 17:00:00"):
        out = run(capsys, "engagement", "1", "--config", str(example))[1]
        data = json.loads(run(capsys, "engagement", "1", "--json", "--config", str(example))[1])
    head = out[:out.index("  Tasks:")]
    assert "  Health: at risk (as of 2026-12-14)\n    - 1 task overdue (customer:it)\n" in head
    assert "    length    business day 14 of 60 planned" in head
    assert "1 overdue: staging-live (customer:it, due 2026-12-11)" in head
    assert "    meetings  held 3 of 5 (2 ahead, 0 cancelled); required held 0/1" in head
    assert data["health"] == {"verdict": "at_risk", "label": "at risk", "reasons": ["1 task overdue (customer:it)"]}
    assert data["metrics"]["golive"] == {"planned": "2027-01-14", "live_on": None, "on_time": None, "days_late": None,
                                         "weeks_from_start": 3.4}
    assert data["metrics"]["length"] == {"business_days": 14, "planned_days": 60}
    assert [t["key"] for t in data["metrics"]["tasks"]["overdue"]] == ["staging-live"]
    assert data["metrics"]["targets"]["max_weeks"] == 12 and data["milestones"]["live_on"] is None
