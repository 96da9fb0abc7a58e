"""What ``whiteglove run`` and ``ingest`` write to standard error, as an operator follows it: the
banner (no secret in it), one line per message handled, JSON lines, and log lines above ingest's
progress bar."""
import io
import json
import logging
import re
import shutil
import sys
from pathlib import Path

import pytest
from freezegun import freeze_time

from ticketing.app.cli import main
from ticketing.app.logs import CHATTY

ROOT = Path(__file__).resolve().parents[2]
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) ")


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    saved = root.level, list(root.handlers), {name: logging.getLogger(name).level for name in CHATTY}
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def example(tmp_path):
    shutil.copy(ROOT / "config.example.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path / "config.toml"


def test_each_handled_message_is_one_info_line_with_ticket_priority_engineer_and_why(capsys, example):
    with freeze_time("2026-11-20 17:00:00"):
        assert main(["run", "--once", "--config", str(example)]) == 0
    lines = [line.split(": ", 1)[1] for line in capsys.readouterr().err.splitlines()
             if " INFO ticketing.services.intake: " in line]
    said = [line.rpartition(" [maildir:examples/inbox ")[0] for line in lines]
    assert said == [
        "new ticket WG-1 (contract_closed, P2) from crm-notifications@northwind.example, "
        "assigned to priya.raman@northwind.example: named by the notice",
        "new ticket WG-2 (golive_intent, P3) from jane.doe@acme.example, "
        "assigned to priya.raman@northwind.example: the engineer of the account",
        "new ticket WG-3 (support, P3) from bob.martinez@globex.example, "
        "assigned to tom.becker@northwind.example: the engineer of the account",
        "reply from bob.martinez@globex.example on WG-3 (support, P3, tom.becker@northwind.example)",
        "automated mail (no ticket, never answered) from peter.gibbons@initech.example: auto_reply: Auto-Submitted: auto-replied",
        # The example's bounce returns a welcome that was never ours: it counts against nobody.
        "automated mail (no ticket, never answered) from MAILER-DAEMON@mx1.northwind.example: bounce: multipart/report;"
        " report-type=delivery-status; matches nothing we sent: <wg.1.welcome.7c1d@northwind.example> is not mail of"
        " ours that went out, so it counts against nobody",
    ]


def test_run_warns_once_at_start_when_engineers_and_notices_are_believed_on_their_from_alone(capsys, example):
    with freeze_time("2026-11-20 17:00:00"):
        assert main(["run", "--once", "--config", str(example)]) == 0
    assert " WARNING " not in capsys.readouterr().err  # the example names its receiving server
    example.write_text(example.read_text(encoding="utf-8").replace('authserv_id = "mx1.northwind.example"', ""),
                       encoding="utf-8")
    with freeze_time("2026-11-20 17:00:00"):
        assert main(["run", "--once", "--config", str(example)]) == 0
    [warning] = [line for line in capsys.readouterr().err.splitlines() if " WARNING " in line]
    assert "security.authserv_id is not set" in warning and "anyone can forge" in warning


def test_json_log_format_is_one_object_per_line_with_the_message_facts_as_fields(capsys, example):
    with freeze_time("2026-11-20 17:00:00"):
        assert main(["run", "--once", "--log-format", "json", "--config", str(example)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines()]  # every line is JSON
    assert any(r["logger"] == "whiteglove" and " starting: " in r["message"] for r in records)
    [wg3] = [r for r in records if r.get("ticket") == "WG-3" and r.get("kind") == "new"]
    assert {k: wg3[k] for k in ("level", "logger", "priority", "engineer", "reason", "sender", "mailbox")} == {
        "level": "INFO", "logger": "ticketing.services.intake", "priority": "P3",
        "engineer": "tom.becker@northwind.example", "reason": "the engineer of the account",
        "sender": "bob.martinez@globex.example", "mailbox": "maildir:examples/inbox"}
    assert wg3["time"].startswith("2026-11-20T17:00:00")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_ingest_writes_log_lines_above_the_progress_bar_not_through_it(monkeypatch, example, tmp_path):
    bad = tmp_path / "nobody.eml"
    bad.write_bytes(b"Subject: no sender here\r\nMessage-ID: <nobody@x.example>\r\n\r\nhello\r\n")
    good = next((ROOT / "examples/inbox/new").glob("1795018203*"))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["ingest", str(good), str(bad), "--config", str(example)]) == 0
    written = terminal.getvalue()
    assert "2/2" in written  # the bar was drawn
    [line] = [line for line in written.split("\n") if "quarantined ingest" in line]
    # What the terminal shows on that line: the text after the last carriage return. Through the
    # bar, the log line would follow the bar's text; above it, tqdm cleared the bar first.
    assert LOG_LINE.match(line.rpartition("\r")[2]), repr(line)
    assert "WARNING ticketing.services.intake: quarantined ingest" in line


def test_the_banner_of_run_shows_the_database_and_mailbox_but_no_password(capsys, monkeypatch, tmp_path, pg_url):
    monkeypatch.setenv("WG_TEST_IMAP_PASSWORD", "imap-hunter2")
    url = pg_url.replace("postgres@", "postgres:pg-hunter2@", 1)  # trust auth: the password is never checked
    assert "pg-hunter2" in url
    config = tmp_path / "wg.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n'
        '[mailbox]\nbackend = "imap"\nhost = "127.0.0.1"\nport = 1\nsecurity = "none"\nusername = "support@example.com"\n'
        'password_env = "WG_TEST_IMAP_PASSWORD"\npoll_seconds = 30\n'
        f'[outgoing]\nbackend = "directory"\npath = "{tmp_path / "out"}"\n'
        '[support]\naddress = "support@example.com"\n')
    code = main(["run", "--once", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 1  # nothing listens on port 1
    assert "hunter2" not in err
    [banner] = [line for line in err.splitlines() if " starting: " in line]
    masked = url.replace("pg-hunter2", "***")
    assert f"database {masked};" in banner
    assert "mailbox imap:support@example.com@127.0.0.1/INBOX (IDLE, else polled every 30 s)" in banner
    assert f"outgoing directory {tmp_path / 'out'}" in banner
