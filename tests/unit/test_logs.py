"""Logging as an operator sets it up: levels, -v and -vv, the JSON format, and a banner without secrets."""
import json
import logging

import pytest

from ticketing.app.cli import main
from ticketing.app.logs import CHATTY, configure_logging, redact_url, start_banner
from ticketing.app.worker import Job
from ticketing.config import config_from_dict


@pytest.fixture(autouse=True)
def restore_logging():
    """configure_logging changes process-wide state: put it back for the tests after this one."""
    root = logging.getLogger()
    saved = root.level, list(root.handlers), {name: logging.getLogger(name).level for name in CHATTY}
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def emitted(capsys):
    return capsys.readouterr().err.splitlines()


def test_json_format_is_one_object_per_line_with_time_level_logger_message_and_extra_fields(capsys):
    configure_logging(fmt="json")
    logging.getLogger("ticketing.services.intake").info("new ticket %s", "WG-3", extra={"ticket": "WG-3", "priority": "P1"})
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("ticketing.app.worker").exception("intake pass failed")
    first, second = (json.loads(line) for line in emitted(capsys))
    assert first["level"] == "INFO" and first["logger"] == "ticketing.services.intake"
    assert first["message"] == "new ticket WG-3" and first["ticket"] == "WG-3" and first["priority"] == "P1"
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]


def test_verbose_shows_whiteglove_debug_but_keeps_the_wire_libraries_at_warning(capsys):
    configure_logging(verbose=1)
    logging.getLogger("ticketing.services.intake").debug("whiteglove detail")
    for name in ("imapclient.imaplib", "peewee", "exchangelib", "urllib3.connectionpool", "msal"):
        logging.getLogger(name).debug("wire line of %s", name)
        logging.getLogger(name).info("chatter of %s", name)
    logging.getLogger("imapclient").warning("a warning still shows")
    lines = emitted(capsys)
    assert any("whiteglove detail" in line for line in lines)
    assert not any("wire line" in line or "chatter" in line for line in lines)
    assert any("a warning still shows" in line for line in lines)


def test_double_verbose_turns_on_the_wire_libraries_too(capsys):
    configure_logging(verbose=2)
    logging.getLogger("imapclient.imaplib").debug("> a001 LOGIN")
    logging.getLogger("peewee").debug("SELECT 1")
    lines = emitted(capsys)
    assert any("a001 LOGIN" in line for line in lines) and any("SELECT 1" in line for line in lines)


def test_log_level_warning_hides_info_and_error_hides_a_wire_library_warning(capsys):
    configure_logging(level="warning")
    logging.getLogger("ticketing.app.worker").info("idle: watching")
    logging.getLogger("ticketing.app.worker").warning("retrying in 2 s")
    assert [line.split(" ", 2)[2] for line in emitted(capsys)] == ["WARNING ticketing.app.worker: retrying in 2 s"]
    configure_logging(level="ERROR")
    logging.getLogger("urllib3").warning("connection pool is full")
    logging.getLogger("ticketing").error("the database is gone")
    assert [line.split(" ", 2)[2] for line in emitted(capsys)] == ["ERROR ticketing: the database is gone"]


def test_log_options_work_before_or_after_the_command_and_a_bad_level_is_one_line(capsys, tmp_path):
    missing = str(tmp_path / "missing.toml")
    assert main(["--log-level", "debug", "--log-format", "json", "status", "--config", missing]) == 2
    assert main(["status", "--log-level", "Error", "-vv", "--config", missing]) == 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit:
        main(["--log-level", "loud", "status"])
    err = capsys.readouterr().err
    assert exit.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "invalid choice: 'LOUD'" in err and "DEBUG" in err


@pytest.mark.parametrize("url, shown", [
    ("postgresql://wg:s3cr@t!@db.example:5433/helpdesk", "postgresql://wg:***@db.example:5433/helpdesk"),
    ("postgresql://wg@db.example/helpdesk", "postgresql://wg@db.example/helpdesk"),
    ("postgresql://db.example/helpdesk?sslmode=require&password=hunter2", "postgresql://db.example/helpdesk?sslmode=require&password=***"),
    ("sqlite:////var/lib/whiteglove/wg.db", "sqlite:////var/lib/whiteglove/wg.db"),
])
def test_a_database_url_is_shown_without_its_password(url, shown):
    assert redact_url(url) == shown


def test_the_start_banner_says_what_run_uses_and_holds_no_secret(monkeypatch):
    monkeypatch.setenv("WG_TEST_IMAP_PASSWORD", "imap-hunter2")
    monkeypatch.setenv("WG_TEST_SMTP_PASSWORD", "smtp-hunter2")
    config = config_from_dict({
        "database": {"url": "postgresql://wg:pg-hunter2@db.example/helpdesk"},
        "mailbox": {"backend": "imap", "host": "imap.example.com", "username": "support@example.com",
                    "password_env": "WG_TEST_IMAP_PASSWORD", "poll_seconds": 45},
        "outgoing": {"backend": "smtp", "host": "smtp.example.com", "port": 587, "username": "support@example.com",
                     "password_env": "WG_TEST_SMTP_PASSWORD"},
        "support": {"address": "support@example.com"},
        "managers": [{"email": "dana@example.com", "name": "Dana"}],
        "sla": {"summary_weekday": "fri", "summary_time": "16:30"},
    })
    banner = start_banner(config, "/etc/whiteglove/whiteglove.toml", "1.2.3", "imap:support@example.com@imap.example.com/INBOX",
                          [Job("SLA sweep", 60, print), Job("weekly summaries", 300, print)])
    assert "hunter2" not in banner
    assert banner.startswith("whiteglove 1.2.3 starting: config /etc/whiteglove/whiteglove.toml;")
    assert "database postgresql://wg:***@db.example/helpdesk;" in banner
    assert "mailbox imap:support@example.com@imap.example.com/INBOX (IDLE, else polled every 45 s)" in banner
    assert "outgoing smtp support@example.com@smtp.example.com:587 (starttls)" in banner
    assert "SLA sweep every 60 s" in banner and "weekly summaries fri 16:30 in each manager's time zone" in banner
