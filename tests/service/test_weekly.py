"""The weekly summary as the worker sends it: at the configured time in the manager's zone, once a
week, with the figures of the manager's engineers; and 'whiteglove report weekly'."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from support.desk import CONFIG, SLA, WED_8AM, Desk
from support.mail import make_message, unsigned

from ticketing.app.bootstrap import App
from ticketing.files.templates import Renderer
from ticketing.services.outbox import message_bytes

# Monday 23 November 2026 in Los Angeles
MONDAY_0759 = datetime(2026, 11, 23, 15, 59, tzinfo=timezone.utc)
MONDAY_0800 = datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc)


def configured() -> dict:
    config = copy.deepcopy(CONFIG)
    config["sla"] = copy.deepcopy(SLA)
    config["managers"][0]["timezone"] = "America/Los_Angeles"
    return config


@pytest.fixture
def desk(store):
    desk = Desk(store, configured())
    desk.now = WED_8AM
    return desk


def weekly(desk: Desk):
    app = App(config=desk.config, store=desk.store, intake=desk.intake, desk=desk.intake.desk, clock=lambda: desk.now)
    return app.weekly()


def test_the_summary_goes_once_when_its_weekday_and_time_come_in_the_managers_zone(desk):
    desk.receive(make_message(sender="bob@globex.example", subject="Outage of the API"), after=timedelta(0))
    desk.intake.desk.sla.sweep(WED_8AM + timedelta(hours=3))  # breached and unanswered
    summaries = weekly(desk)
    assert summaries.run(WED_8AM) == 0  # W46's went on its Monday; two days late it is stale news
    assert summaries.run(MONDAY_0759) == 0  # 07:59 on Monday in Los Angeles: W47's not yet
    assert summaries.run(MONDAY_0800) == 1
    assert summaries.run(MONDAY_0800 + timedelta(minutes=5)) == 0  # once, however often the job runs
    assert summaries.run(MONDAY_0800 + timedelta(hours=30)) == 0
    [mail] = [m for m in desk.store.outbox() if m.purpose == "weekly" and "W47" in m.message_id]
    assert mail.recipients == ("dana@northwind.example",)
    assert unsigned(mail.message_id) == "wg.weekly.2026-W47.dana-northwind-example@northwind.example"
    from mailer.message import parse_message

    parsed = parse_message(message_bytes(desk.store, mail.id, Renderer()))
    # the P0 asked on Wednesday missed both its 2 h first response and its 8 h resolution
    assert parsed.subject == "Weekly SLA summary, 2026-W47: 1 opened, 0 resolved, 2 breaches"
    assert [a.filename for a in parsed.attachments] == ["tickets-2026-W47.csv"]
    assert "Outage of the API" in parsed.text
    assert "All times are Los Angeles time (PST)." in parsed.text and "All times are Los Angeles time (PST)." in parsed.html


def test_the_figures_cover_the_managers_engineers_tickets(desk):
    desk.receive(make_message(sender="bob@globex.example", subject="Outage of the API"), after=timedelta(0))
    [(_, note)] = desk.mail("notification")
    desk.receive(make_message(sender="priya@northwind.example", to="support@northwind.example", message_id="<a1@nw>",
                              in_reply_to=f"<{note.message_id}>", body="On it."), after=timedelta(minutes=30))
    manager = desk.config.managers[0]
    summary = weekly(desk).summary(manager, MONDAY_0800.date() - timedelta(days=7), MONDAY_0800)
    data = summary.as_json()
    assert data["week"] == "2026-W47"
    assert summary.this.opened == 1
    assert str(summary.this.first_response.overall).startswith("100%")  # answered in 30 minutes


def test_report_weekly_writes_the_html_prints_json_and_sends_once(tmp_path, capsys):
    import shutil
    from pathlib import Path

    from freezegun import freeze_time

    from ticketing.app.cli import main

    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "config.example.toml", tmp_path / "config.toml")
    shutil.copytree(root / "examples", tmp_path / "examples")
    config = str(tmp_path / "config.toml")
    with freeze_time("2026-11-20 17:00:00"):
        assert main(["run", "--once", "--config", config]) == 0
    capsys.readouterr()
    with freeze_time("2026-11-24 17:00:00"):
        assert main(["report", "weekly", "--config", config, "--out", str(tmp_path / "w.html")]) == 0
        html = (tmp_path / "w.html").read_text()
        assert "2026-W47" in html and "<script" not in html
        capsys.readouterr()
        assert main(["report", "weekly", "--config", config, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["week"] == "2026-W47" and data["manager"]["email"] == "dana.whitfield@northwind.example"
        assert main(["report", "weekly", "--week", "2026-W47", "--send", "--config", config]) == 0
        assert "queued" in capsys.readouterr().out
        assert main(["report", "weekly", "--week", "2026-W47", "--send", "--config", config]) == 0
        assert "already queued before" in capsys.readouterr().out
        assert main(["report", "weekly", "--week", "2026-W99", "--config", config]) == 2


def test_every_late_clock_the_summary_shows_comes_with_its_sentence_and_no_other_clock_pays_for_one(desk):
    """The sentence of a clock is written only for the clocks shown with it (breaches, open past
    target): each of those has the very sentence of its full clock, whatever its outcome."""
    from ticketing.services.weekly import _why

    desk.receive(make_message(sender="bob@globex.example", subject="Outage of the API", message_id="<o1@globex>"),
                 after=timedelta(0))  # never answered: both clocks breach and stay open
    desk.receive(make_message(sender="bob@globex.example", subject="Question about SAML", message_id="<q1@globex>"),
                 after=timedelta(hours=1))
    [(_, note)] = [(m, p) for m, p in desk.mail("notification") if "SAML" in p.subject]
    desk.receive(make_message(sender="priya@northwind.example", to="support@northwind.example", message_id="<a1@nw>",
                              in_reply_to=f"<{note.message_id}>", body="On it."), after=timedelta(minutes=20))
    summaries, manager = weekly(desk), desk.config.managers[0]
    summary = summaries.summary(manager, MONDAY_0800.date() - timedelta(days=7), MONDAY_0800)
    late = summary.breaches + summary.open_past_target
    shown = {(item.ticket.subject, item.clock) for item in late}
    assert shown == {("Outage of the API", "first_response"), ("Outage of the API", "resolution"),
                     ("Question about SAML", "resolution")}  # answered in 20 minutes, never resolved
    for item in late:
        _, full = summaries.sla.clocks(desk.store.get_ticket(item.ticket.id), MONDAY_0800, explain=False)
        [clock] = [c for c in full if c.name == item.clock]
        assert item.facts.why == _why(clock) != ""
    answered = next(t for t in summary.tickets if t.subject == "Question about SAML")
    assert answered.first_response.state == "met" and answered.first_response.why == ""
