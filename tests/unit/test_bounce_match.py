"""Which recipients a bounce may count against: only those our returned mail went to."""
from datetime import datetime, timedelta, timezone

from ticketing.core.bounce_match import match_bounce
from ticketing.core.domain import OutboxStatus, OutgoingMail

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)


def mail(status=OutboxStatus.SENT, attempts=1, created=NOW - timedelta(hours=1), to=("bob@globex.example",)):
    return OutgoingMail(7, "wg.ack.1@n.example", 3, "acknowledgement", to, "s", status, attempts, created, "",
                        created, created if status is OutboxStatus.SENT else None)


def test_our_sent_mail_to_the_failed_address_counts_in_any_case():
    match = match_bounce(["Bob@Globex.example"], ["wg.ack.1@n.example"], [mail()])
    assert match.recipients == ("Bob@Globex.example",) and match.ticket_id == 3


def test_mail_never_sent_counts_for_nothing():
    for never in (mail(OutboxStatus.HELD, 0), mail(OutboxStatus.QUEUED, 0)):
        match = match_bounce(["bob@globex.example"], ["wg.ack.1@n.example"], [never])
        assert not match.counts and "matches nothing we sent" in match.reason


def test_a_bounce_without_a_returned_id_or_about_someone_else_counts_for_nothing():
    assert not match_bounce(["bob@globex.example"], [], [mail()]).counts
    assert not match_bounce(["eve@globex.example"], ["wg.ack.1@n.example"], [mail()]).counts
