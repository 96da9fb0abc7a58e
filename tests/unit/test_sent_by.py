"""Mail and invitations sent by one mailbox for another: RFC 5322 ``Sender:`` and RFC 5545 ``SENT-BY``."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default

import pytest
import vobject
from icalendar import Calendar

from mailer import Address, Attendee, Invitation, compose, request

START = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)
PRIYA = Address("Priya Raman", "priya@northwind.example")
SUPPORT = Address("Northwind Support", "support@northwind.example")


def composed(**kwargs) -> object:
    raw = compose(sender=PRIYA, to=[Address("Jane", "jane@acme.example")], subject="Invitation: Kick-off",
                  text="Kick-off", message_id="<m1@northwind.example>", date=START, **kwargs)
    return message_from_bytes(raw, policy=default)


def test_a_message_sent_for_its_author_names_the_sending_mailbox_in_sender():
    msg = composed(sent_by=SUPPORT)
    assert msg["From"].addresses[0].addr_spec == PRIYA.email
    assert msg["Sender"].addresses[0].addr_spec == SUPPORT.email
    assert composed()["Sender"] is None
    assert composed(sent_by=Address("", PRIYA.email))["Sender"] is None  # the author sends it: no Sender


def test_a_sender_header_cannot_be_injected():
    with pytest.raises(ValueError):
        composed(sent_by=Address("x", "support@northwind.example\r\nBcc: mallory@evil.example"))
    msg = composed(sent_by=Address("Support\r\nBcc: mallory@evil.example", SUPPORT.email))
    assert msg["Bcc"] is None and "\n" not in str(msg["Sender"])


def test_an_organizer_sent_by_a_shared_mailbox_reads_the_same_in_icalendar_and_vobject():
    invitation = Invitation(uid="kick-off.1@northwind.example", sequence=0, summary="Kick-off", description="",
                            location=None, start=START, end=START + timedelta(hours=1),
                            organizer=Attendee(PRIYA.email, PRIYA.name, "CHAIR", sent_by=SUPPORT.email),
                            attendees=(Attendee("jane@acme.example", "Jane Doe"),))
    text = request(invitation, START)
    [event] = Calendar.from_ical(text).walk("VEVENT")
    assert str(event["ORGANIZER"]) == f"mailto:{PRIYA.email}"
    assert event["ORGANIZER"].params["SENT-BY"] == f"mailto:{SUPPORT.email}"
    organizer = vobject.readOne(text).vevent.organizer
    assert (organizer.value, organizer.params["SENT-BY"]) == (f"mailto:{PRIYA.email}", [f"mailto:{SUPPORT.email}"])
    with pytest.raises(ValueError):
        request(Invitation(**{**invitation.__dict__, "organizer": Attendee(PRIYA.email, sent_by='x"@evil')}), START)
