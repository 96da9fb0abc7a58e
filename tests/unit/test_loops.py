"""The loop limits and the note's token (pure)."""
from datetime import datetime, timedelta, timezone

from ticketing.core.loops import Limits, Trip, alert_token, tripped

NOW = datetime(2026, 11, 18, 16, 7, 31, tzinfo=timezone.utc)


def test_a_limit_trips_when_the_window_holds_as_many_as_it_allows():
    limits = Limits(per_thread=10, per_correspondent=20)
    assert tripped(limits, 9, {"bob@globex.example": 19}) is None
    assert tripped(limits, 10, {}) == Trip("thread", 10)
    assert tripped(limits, 3, {"bob@globex.example": 20}) == Trip("correspondent", 20, "bob@globex.example")
    assert tripped(limits, None, {}) is None  # mail of no ticket: only the correspondent limit


def test_zero_turns_a_limit_off():
    assert tripped(Limits(per_thread=0, per_correspondent=0), 1000, {"bob@globex.example": 1000}) is None


def test_the_notes_token_is_its_cause_and_the_hour_never_the_second():
    trip = Trip("thread", 10)
    same_hour = [alert_token(trip, 7, "priya@northwind.example", NOW + timedelta(minutes=m)) for m in (0, 20, 52)]
    assert len(set(same_hour)) == 1 and same_hour[0] == "loop.ticket.7.20261118T16.priya-northwind-example"
    assert alert_token(trip, 7, "priya@northwind.example", NOW + timedelta(hours=1)) != same_hour[0]
    assert alert_token(trip, 8, "priya@northwind.example", NOW) != same_hour[0]
    assert alert_token(Trip("correspondent", 20, "bob@globex.example"), 7, "priya@northwind.example", NOW) \
        == "loop.to.bob-globex-example.20261118T16.priya-northwind-example"


def test_whiteglove_outbox_says_a_stopped_mail_was_not_sent_and_why(capsys):
    from ticketing.app.cli.views import outbox_table
    from ticketing.core.domain import OutboxStatus, OutgoingMail

    reason = Trip("thread", 10).reason
    outbox_table([OutgoingMail(7, "wg.relay.9@northwind.example", 1, "relay", ("bob@globex.example",), "Re: Export",
                               OutboxStatus.SUPPRESSED, 0, NOW, reason, NOW, None)], failed_only=False)
    out = capsys.readouterr().out
    assert "suppressed" in out and f"not sent: {reason}" in out and "attempt" not in out
