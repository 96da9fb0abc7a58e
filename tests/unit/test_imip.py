"""iMIP: the invitations we send, read back by two independent parsers (icalendar and vobject),
and the answers we read, from hand-made objects and from real clients' mail in the corpus."""
from __future__ import annotations

import ast
import random
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path

import icalendar
import pytest
import vobject

from mailer.compose import compose
from mailer.imip import (
    Attendee,
    Invitation,
    cancel,
    request,
)
from mailer.imip_answers import (
    ANSWER_METHODS,
    CalendarAnswer,
    parse_answers,
    read_answers,
)
from mailer.message import Address, parse_message

UTC = timezone.utc
STAMP = datetime(2025, 2, 10, 9, 30, tzinfo=UTC)
ORGANIZER = Attendee("help@whiteglove.example", "White Glove Onboarding")
JANE = Attendee("jane.doe@globex.example", "Jane Doe")
BOB = Attendee("bob@globex.example", "Bob Martinez", "OPT-PARTICIPANT")
INVITATION = Invitation(
    uid="wg-onboarding-42@whiteglove.example",
    sequence=0,
    summary="Onboarding kick-off",
    description="Agenda:\n1. Accounts\n2. Data import; questions, comments \\ anything",
    location="Teams",
    start=datetime(2025, 3, 5, 14, 0, tzinfo=timezone(timedelta(hours=1))),
    end=datetime(2025, 3, 5, 15, 0, tzinfo=timezone(timedelta(hours=1))),
    organizer=ORGANIZER,
    attendees=(JANE, BOB),
)


def invitation(**changes) -> Invitation:
    return replace(INVITATION, **changes)


def both_parsers(text: str):
    """The single VEVENT as icalendar and as vobject read it (each must find exactly one)."""
    ical = icalendar.Calendar.from_ical(text)
    events = [c for c in ical.subcomponents if c.name == "VEVENT"]
    vcal = vobject.readOne(text)
    assert len(events) == 1 and len(vcal.vevent_list) == 1
    return ical, events[0], vcal, vcal.vevent


def ical_attendees(event) -> list:
    value = event.get("ATTENDEE", [])
    return list(value) if isinstance(value, list) else [value]


def physical_lines(text: str) -> list[bytes]:
    data = text.encode("utf-8")
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


def calendar(method: str | None, *event_lines: str, before: tuple[str, ...] = ()) -> str:
    """A VCALENDAR as a client would send it, CR LF line endings."""
    head = ["BEGIN:VCALENDAR", "PRODID:-//Test//Client//EN", "VERSION:2.0"]
    if method:
        head.append(f"METHOD:{method}")
    lines = [*head, *before, "BEGIN:VEVENT", *event_lines, "END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"


def reply(*lines: str, method: str = "REPLY") -> str:
    return calendar(method, "UID:wg-onboarding-42@whiteglove.example", "SEQUENCE:2",
                    "DTSTAMP:20250211T080000Z", "ORGANIZER:mailto:help@whiteglove.example", *lines)


# -- request: the VCALENDAR ----------------------------------------------------------------------

def test_request_is_one_vcalendar_with_our_prodid_version_and_method_request():
    text = request(INVITATION, STAMP)
    ical, _, vcal, _ = both_parsers(text)
    assert str(ical["METHOD"]) == "REQUEST" and vcal.method.value == "REQUEST"
    assert str(ical["PRODID"]) == "-//whiteglove//onboarding//EN" == vcal.prodid.value
    assert str(ical["VERSION"]) == "2.0" == vcal.version.value
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert request(INVITATION, STAMP, prodid="-//Acme//Desk 2.1//EN").count("PRODID:-//Acme//Desk 2.1//EN") == 1


def test_request_event_carries_uid_sequence_dtstamp_times_summary_description_status():
    ical, event, _, vevent = both_parsers(request(invitation(sequence=3), STAMP))
    assert str(event["UID"]) == vevent.uid.value == "wg-onboarding-42@whiteglove.example"
    assert event["SEQUENCE"] == 3 and vevent.sequence.value == "3"
    assert event["DTSTAMP"].dt == vevent.dtstamp.value == STAMP
    assert event["DTSTART"].dt == vevent.dtstart.value == datetime(2025, 3, 5, 13, 0, tzinfo=UTC)
    assert event["DTEND"].dt == vevent.dtend.value == datetime(2025, 3, 5, 14, 0, tzinfo=UTC)
    assert str(event["SUMMARY"]) == vevent.summary.value == "Onboarding kick-off"
    assert str(event["DESCRIPTION"]) == vevent.description.value == INVITATION.description
    assert str(event["LOCATION"]) == vevent.location.value == "Teams"
    assert str(event["STATUS"]) == vevent.status.value == "CONFIRMED"
    assert str(ical["METHOD"]) == "REQUEST"


def test_times_are_written_in_utc_without_a_vtimezone():
    text = request(invitation(start=datetime(2025, 7, 1, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-7))),
                              end=datetime(2025, 7, 1, 10, 0, tzinfo=timezone(timedelta(hours=-7)))),
                   datetime(2025, 6, 1, 12, 0, 0, 999, tzinfo=timezone(timedelta(hours=2))))
    lines = text.split("\r\n")
    assert "DTSTART:20250701T160000Z" in lines and "DTEND:20250701T170000Z" in lines
    assert "DTSTAMP:20250601T100000Z" in lines
    assert "VTIMEZONE" not in text and "TZID" not in text


def test_request_lists_the_organizer_and_every_attendee_asked_to_answer():
    _, event, _, vevent = both_parsers(request(INVITATION, STAMP))
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:help@whiteglove.example" == vevent.organizer.value
    assert organizer.params["CN"] == "White Glove Onboarding" == vevent.organizer.params["CN"][0]
    expected = [("mailto:jane.doe@globex.example", "Jane Doe", "REQ-PARTICIPANT"),
                ("mailto:bob@globex.example", "Bob Martinez", "OPT-PARTICIPANT")]
    assert [(str(a), a.params["CN"], a.params["ROLE"]) for a in ical_attendees(event)] == expected
    assert [(a.value, a.params["CN"][0], a.params["ROLE"][0]) for a in vevent.attendee_list] == expected
    for attendee in ical_attendees(event):
        assert (attendee.params["PARTSTAT"], attendee.params["RSVP"], attendee.params["CUTYPE"]) == (
            "NEEDS-ACTION", "TRUE", "INDIVIDUAL")
    for attendee in vevent.attendee_list:
        assert (attendee.params["PARTSTAT"], attendee.params["RSVP"], attendee.params["CUTYPE"]) == (
            ["NEEDS-ACTION"], ["TRUE"], ["INDIVIDUAL"])


def test_an_attendee_without_a_name_gets_the_address_as_cn():
    _, event, _, vevent = both_parsers(request(invitation(attendees=(Attendee("bob@globex.example"),)), STAMP))
    assert ical_attendees(event)[0].params["CN"] == "bob@globex.example"
    assert vevent.attendee.params["CN"] == ["bob@globex.example"]


def test_a_location_of_none_writes_no_location():
    _, event, _, vevent = both_parsers(request(invitation(location=None), STAMP))
    assert "LOCATION" not in event and not hasattr(vevent, "location")


def test_the_same_arguments_give_the_same_text():
    assert request(INVITATION, STAMP) == request(INVITATION, STAMP)
    assert cancel(invitation(sequence=1), STAMP) == cancel(invitation(sequence=1), STAMP)


# -- request: lines and folding ----------------------------------------------------------------

def test_lines_end_in_crlf_only():
    text = request(INVITATION, STAMP)
    assert "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")


@pytest.mark.parametrize("char", ["a", "é", "✓", "😀"])  # 1, 2, 3 and 4 octets in UTF-8
@pytest.mark.parametrize("offset", range(4))
def test_long_lines_are_folded_at_75_octets_between_characters(char, offset):
    summary = "x" * offset + char * 120
    description = ("Zoë's ✓ notes 😀 " * 20).strip()
    cn = "Ünïcödé " * 12
    text = request(invitation(summary=summary, description=description,
                              attendees=(Attendee("jane.doe@globex.example", cn),)), STAMP)
    lines = physical_lines(text)
    assert any(line.startswith(b" ") for line in lines)
    for line in lines:
        assert len(line) <= 75, line
        line.decode("utf-8")  # a line cut inside a UTF-8 sequence would not decode
    _, event, _, vevent = both_parsers(text)
    assert str(event["SUMMARY"]) == vevent.summary.value == summary
    assert str(event["DESCRIPTION"]) == vevent.description.value == description
    assert vevent.attendee.params["CN"] == [cn.strip()]


# -- request: values from inbound mail -----------------------------------------------------------

def test_names_lose_quotes_line_breaks_and_controls_and_cannot_add_properties():
    evil = 'Jane "JD" Doe\r\nATTENDEE:mailto:mallory@evil.example\x00\x1b[31m'
    text = request(invitation(attendees=(Attendee("jane.doe@globex.example", evil),),
                              organizer=Attendee("help@whiteglove.example", 'Help"\rDesk')), STAMP)
    _, event, _, vevent = both_parsers(text)
    assert [str(a) for a in ical_attendees(event)] == ["mailto:jane.doe@globex.example"]
    assert [a.value for a in vevent.attendee_list] == ["mailto:jane.doe@globex.example"]
    cn = ical_attendees(event)[0].params["CN"]
    assert cn == vevent.attendee.params["CN"][0] == "Jane JD Doe ATTENDEE:mailto:mallory@evil.example [31m"
    assert event["ORGANIZER"].params["CN"] == "Help Desk"
    assert "mallory" not in "".join(line for line in text.split("\r\n") if not line.startswith(("ATTENDEE", " ")))


@pytest.mark.parametrize("name", ["Doe, Jane", "Jane; Doe: CTO", "Zoë Ünal", "O'Brien", "A^B"])
def test_names_with_separators_are_quoted_by_the_library_and_read_back_alike(name):
    _, event, _, vevent = both_parsers(request(invitation(attendees=(Attendee("jane.doe@globex.example", name),)), STAMP))
    expected = name.replace("^", "")  # a caret would need an RFC 6868 escape, which vobject does not read
    assert ical_attendees(event)[0].params["CN"] == expected == vevent.attendee.params["CN"][0]


def test_a_join_link_is_the_url_property_and_the_location_both_parsers_read():
    link = "https://meet.example/j/123?pwd=a;b,c"
    _, event, _, vevent = both_parsers(request(invitation(location=link, url=link), STAMP))
    assert str(event["URL"]) == vevent.url.value == link
    assert str(event["LOCATION"]) == vevent.location.value == link


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://x.example/\r\nORGANIZER:mailto:m@evil.example",
                                 "meet.example/j/1"])
def test_a_url_that_is_not_http_is_refused(url):
    with pytest.raises(ValueError, match="not an http"):
        request(invitation(url=url), STAMP)


def test_summary_location_and_description_cannot_add_properties():
    text = request(invitation(summary="Hi\r\nATTENDEE:mailto:mallory@evil.example",
                              location="Room\nORGANIZER:mailto:mallory@evil.example",
                              description="Line 1\r\nLine 2\rLine 3\u2028Line 4\x0cX\x00\nEND:VEVENT"), STAMP)
    _, event, _, vevent = both_parsers(text)
    assert len(ical_attendees(event)) == len(vevent.attendee_list) == 2
    assert str(event["SUMMARY"]) == vevent.summary.value == "Hi ATTENDEE:mailto:mallory@evil.example"
    assert str(event["LOCATION"]) == "Room ORGANIZER:mailto:mallory@evil.example"
    assert str(event["DESCRIPTION"]) == vevent.description.value == "Line 1\nLine 2\nLine 3\nLine 4X\nEND:VEVENT"


@pytest.mark.parametrize("email", ["jane", "jane@globex@example", "jane@globex.example\r\nBcc: x@y.example",
                                   "jane\n@globex.example", "jane doe@globex.example", '"jane"@globex.example', ""])
def test_unusable_addresses_are_refused(email):
    with pytest.raises(ValueError):
        request(invitation(attendees=(Attendee(email, "Jane"),)), STAMP)
    with pytest.raises(ValueError):
        request(invitation(organizer=Attendee(email, "Help")), STAMP)


@pytest.mark.parametrize("changes", [
    {"uid": ""}, {"uid": "has space"}, {"uid": "x\r\nATTENDEE:mailto:a@b.example"}, {"uid": "x" * 256},
    {"sequence": -1}, {"sequence": True}, {"sequence": 2**31}, {"sequence": "1"},
    {"start": datetime(2025, 3, 5, 14, 0)},
    {"end": datetime(2025, 3, 5, 13, 0, tzinfo=UTC)},
    {"end": INVITATION.start},
    {"attendees": ()},
    {"attendees": (JANE, Attendee("Jane.Doe@GLOBEX.example", "Jane again"))},
    {"attendees": (Attendee("jane.doe@globex.example", "Jane", "ATTENDEE"),)},
    {"status": "CANCELLED"}, {"status": "confirmed"},
])
def test_request_refuses_bad_arguments(changes):
    with pytest.raises(ValueError):
        request(invitation(**changes), STAMP)


def test_request_refuses_a_naive_dtstamp_and_a_prodid_with_a_line_break():
    with pytest.raises(ValueError):
        request(INVITATION, datetime(2025, 2, 10, 9, 30))
    with pytest.raises(ValueError):
        request(INVITATION, STAMP, prodid="-//x//EN\r\nMETHOD:CANCEL")


def test_a_tentative_meeting_can_be_requested():
    _, event, _, _ = both_parsers(request(invitation(status="TENTATIVE"), STAMP))
    assert str(event["STATUS"]) == "TENTATIVE"


# -- cancel ---------------------------------------------------------------------------------------

def test_cancel_keeps_the_uid_carries_the_raised_sequence_and_lists_the_attendees():
    ical, event, vcal, vevent = both_parsers(cancel(invitation(sequence=4), STAMP))
    assert str(ical["METHOD"]) == "CANCEL" == vcal.method.value
    assert str(event["STATUS"]) == "CANCELLED" == vevent.status.value
    assert str(event["UID"]) == INVITATION.uid == vevent.uid.value
    assert event["SEQUENCE"] == 4 and vevent.sequence.value == "4"
    assert [str(a) for a in ical_attendees(event)] == ["mailto:jane.doe@globex.example", "mailto:bob@globex.example"]
    assert [a.value for a in vevent.attendee_list] == ["mailto:jane.doe@globex.example", "mailto:bob@globex.example"]
    assert str(event["ORGANIZER"]) == "mailto:help@whiteglove.example"
    # Nobody is asked to answer a cancellation.
    assert all("RSVP" not in a.params for a in ical_attendees(event))


def test_cancel_refuses_a_sequence_that_was_not_raised():
    with pytest.raises(ValueError):
        cancel(invitation(sequence=0), STAMP)


# -- request and cancel in mail -----------------------------------------------------------------

def imip_mail(method: str, text: str) -> bytes:
    return compose(sender=Address("White Glove Onboarding", "help@whiteglove.example"),
                   to=[Address("Jane Doe", "jane.doe@globex.example")], subject="Onboarding kick-off",
                   text="You are invited.", message_id="wg.invite.42@whiteglove.example", date=STAMP,
                   calendar=(method, text))


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_the_object_composes_into_an_imip_mail_read_back_with_its_method(method):
    text = request(INVITATION, STAMP) if method == "REQUEST" else cancel(invitation(sequence=1), STAMP)
    raw = imip_mail(method, text)
    parsed = parse_message(raw)
    assert [c.method for c in parsed.calendars] == [method, method]  # inline and invite.ics
    for part in parsed.calendars:
        assert part.text.replace("\n", "\r\n") == text
        assert [str(icalendar.Calendar.from_ical(part.text)["METHOD"])] == [method]
    mail = message_from_bytes(raw, policy=policy.default)
    inline = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")
    assert inline.get_param("method") == method
    assert inline.get_payload(decode=True).decode("utf-8") == text  # CR LF kept inside the part
    attached = next(p for p in mail.walk() if p.get_filename() == "invite.ics")
    assert attached.get_payload(decode=True) == text.encode("utf-8")


def test_compose_refuses_a_method_parameter_that_is_not_the_objects_method():
    with pytest.raises(ValueError):
        imip_mail("CANCEL", request(INVITATION, STAMP))


def test_compose_keeps_a_calendar_line_holding_a_line_separator_whole():
    text = calendar("REQUEST", "UID:x@whiteglove.example", "DESCRIPTION:one\u2028two\u0085three")
    mail = message_from_bytes(imip_mail("REQUEST", text), policy=policy.default)
    inline = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")
    assert inline.get_payload(decode=True).decode("utf-8") == text


# -- reading answers ----------------------------------------------------------------------------

def test_a_reply_gives_the_attendee_partstat_sequence_and_comment():
    text = reply("ATTENDEE;PARTSTAT=ACCEPTED;CN=Jane Doe:mailto:jane.doe@globex.example",
                 "COMMENT:See you there\\, Jane")
    assert read_answers(text) == [CalendarAnswer(
        method="REPLY", uid="wg-onboarding-42@whiteglove.example", recurrence_id=None, sequence=2,
        dtstamp=datetime(2025, 2, 11, 8, 0, tzinfo=UTC), attendee="jane.doe@globex.example",
        partstat="ACCEPTED", comment="See you there, Jane")]
    assert parse_answers(text).defects == ()


def test_a_client_answering_our_own_request_is_read_back():
    # What a client does: take the REQUEST, keep its own ATTENDEE line, set PARTSTAT, say REPLY.
    ical = icalendar.Calendar.from_ical(request(invitation(sequence=3), STAMP))
    ical["METHOD"] = icalendar.vText("REPLY")
    event = ical.subcomponents[0]
    jane = ical_attendees(event)[0]
    jane.params["PARTSTAT"] = "TENTATIVE"
    del event["ATTENDEE"]
    event.add("ATTENDEE", jane)
    [answer] = read_answers(ical.to_ical().decode("utf-8"))
    assert (answer.method, answer.uid, answer.sequence, answer.attendee, answer.partstat) == (
        "REPLY", INVITATION.uid, 3, "jane.doe@globex.example", "TENTATIVE")


@pytest.mark.parametrize("value", ["mailto:Jane.Doe@Globex.Example", "MAILTO:jane.doe@globex.example",
                                   "Mailto:JANE.DOE@GLOBEX.EXAMPLE", "MaIlTo:jane.doe@globex.example",
                                   "jane.doe@globex.example", "Jane.Doe@Globex.Example",
                                   "mailto:jane.doe%40globex.example"])
def test_the_attendee_address_is_read_whatever_the_case_of_mailto_or_without_it(value):
    [answer] = read_answers(reply(f"ATTENDEE;PARTSTAT=DECLINED:{value}"))
    assert (answer.attendee, answer.partstat) == ("jane.doe@globex.example", "DECLINED")


def test_an_attendee_named_by_urn_is_read_from_its_email_parameter():
    [answer] = read_answers(reply("ATTENDEE;PARTSTAT=ACCEPTED;EMAIL=Jane.Doe@globex.example:urn:uuid:1b2c3d"))
    assert answer.attendee == "jane.doe@globex.example"


def test_an_attendee_without_a_readable_address_gives_an_answer_without_attendee():
    parsed = parse_answers(reply("ATTENDEE;PARTSTAT=ACCEPTED:urn:uuid:1b2c3d"))
    assert [(a.attendee, a.partstat) for a in parsed.answers] == [("", "ACCEPTED")]
    assert any("no readable address" in d for d in parsed.defects)


def test_a_counter_proposes_a_new_time_converted_to_utc():
    # Shaped like Outlook's "Propose new time": Windows zone names and their VTIMEZONE.
    vtimezone = ("BEGIN:VTIMEZONE", "TZID:W. Europe Standard Time",
                 "BEGIN:STANDARD", "DTSTART:16010101T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100",
                 "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10", "END:STANDARD",
                 "BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200",
                 "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT", "END:VTIMEZONE")
    text = calendar(
        "COUNTER",
        "ORGANIZER;CN=White Glove Onboarding:MAILTO:help@whiteglove.example",
        "ATTENDEE;PARTSTAT=TENTATIVE;CN=Jane Doe:MAILTO:Jane.Doe@globex.example",
        "COMMENT;LANGUAGE=en-US:Could we do Thursday instead?\\n",
        "UID:wg-onboarding-42@whiteglove.example",
        "SUMMARY;LANGUAGE=en-US:New Time Proposed: Onboarding kick-off",
        "DTSTART;TZID=W. Europe Standard Time:20250306T100000",
        "DTEND;TZID=W. Europe Standard Time:20250306T113000",
        "DTSTAMP:20250211T080000Z",
        "SEQUENCE:0",
        before=vtimezone)
    assert read_answers(text) == [CalendarAnswer(
        method="COUNTER", uid="wg-onboarding-42@whiteglove.example", recurrence_id=None, sequence=0,
        dtstamp=datetime(2025, 2, 11, 8, 0, tzinfo=UTC), attendee="jane.doe@globex.example",
        partstat="TENTATIVE", proposed_start=datetime(2025, 3, 6, 9, 0, tzinfo=UTC),
        proposed_end=datetime(2025, 3, 6, 10, 30, tzinfo=UTC), comment="Could we do Thursday instead?")]


def test_a_counter_with_a_duration_or_an_olson_zone_ends_where_it_says():
    [answer] = read_answers(reply("ATTENDEE:mailto:jane.doe@globex.example",
                                  "DTSTART;TZID=America/New_York:20250701T090000", "DURATION:PT45M",
                                  method="COUNTER"))
    assert answer.proposed_start == datetime(2025, 7, 1, 13, 0, tzinfo=UTC)
    assert answer.proposed_end == datetime(2025, 7, 1, 13, 45, tzinfo=UTC)


def test_a_reply_proposes_nothing_even_with_times_in_it():
    [answer] = read_answers(reply("ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example",
                                  "DTSTART:20250305T130000Z", "DTEND:20250305T140000Z"))
    assert (answer.proposed_start, answer.proposed_end) == (None, None)


def test_all_day_dates_are_read_as_midnight_utc():
    [answer] = read_answers(reply("ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example",
                                  "RECURRENCE-ID;VALUE=DATE:20250305", "DTSTART;VALUE=DATE:20250306",
                                  method="COUNTER"))
    assert answer.recurrence_id == datetime(2025, 3, 5, tzinfo=UTC)
    # An all-day event without DTEND lasts the day (RFC 5545 3.6.1).
    assert (answer.proposed_start, answer.proposed_end) == (datetime(2025, 3, 6, tzinfo=UTC),
                                                            datetime(2025, 3, 7, tzinfo=UTC))


def test_floating_times_are_read_as_utc():
    [answer] = read_answers(reply("ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example",
                                  "RECURRENCE-ID:20250305T130000", "DTSTART:20250306T100000",
                                  "DTEND:20250306T110000", method="COUNTER"))
    assert answer.recurrence_id == datetime(2025, 3, 5, 13, 0, tzinfo=UTC)
    assert (answer.proposed_start, answer.proposed_end) == (datetime(2025, 3, 6, 10, 0, tzinfo=UTC),
                                                            datetime(2025, 3, 6, 11, 0, tzinfo=UTC))


def test_a_recurrence_id_in_a_zone_is_converted_to_utc_and_each_instance_answers_alone():
    text = calendar("REPLY",
                    "UID:series-7@whiteglove.example", "RECURRENCE-ID;TZID=Europe/Berlin:20250305T140000",
                    "ATTENDEE;PARTSTAT=DECLINED:mailto:jane.doe@globex.example", "END:VEVENT",
                    "BEGIN:VEVENT", "UID:series-7@whiteglove.example",
                    "RECURRENCE-ID;TZID=Europe/Berlin:20250702T140000",
                    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example")
    assert [(a.recurrence_id, a.partstat) for a in read_answers(text)] == [
        (datetime(2025, 3, 5, 13, 0, tzinfo=UTC), "DECLINED"), (datetime(2025, 7, 2, 12, 0, tzinfo=UTC), "ACCEPTED")]


def test_a_time_in_an_unknown_zone_is_none_and_said_so():
    parsed = parse_answers(reply("ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example",
                                 "RECURRENCE-ID;TZID=Mars/Olympus_Mons:20250305T140000"))
    assert [a.recurrence_id for a in parsed.answers] == [None]
    assert any("unknown TZID" in d for d in parsed.defects)


def test_refresh_and_declinecounter_are_answers_too():
    [refresh] = read_answers(reply("ATTENDEE:mailto:jane.doe@globex.example", method="REFRESH"))
    [decline] = read_answers(reply("ATTENDEE:mailto:jane.doe@globex.example", "COMMENT:No, sorry",
                                   method="DECLINECOUNTER"))
    assert (refresh.method, refresh.partstat) == ("REFRESH", None)
    assert (decline.method, decline.comment) == ("DECLINECOUNTER", "No, sorry")
    assert {"REPLY", "COUNTER", "REFRESH", "DECLINECOUNTER"} == ANSWER_METHODS


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL", "PUBLISH", "ADD"])
def test_the_organizers_methods_give_no_answers(method):
    assert read_answers(reply("ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example", method=method)) == []
    assert read_answers(request(INVITATION, STAMP)) == []
    assert read_answers(cancel(invitation(sequence=1), STAMP)) == []


def test_the_mime_method_stands_in_for_a_missing_method_property():
    text = calendar(None, "UID:x@whiteglove.example", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example")
    assert read_answers(text) == []
    assert [a.method for a in read_answers(text, method="reply")] == ["REPLY"]


def test_the_objects_method_wins_over_a_different_mime_method():
    parsed = parse_answers(reply("ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example"), method="REQUEST")
    assert [a.method for a in parsed.answers] == ["REPLY"]
    assert parsed.defects == ("METHOD REPLY read, not the MIME method REQUEST",)


def test_an_unknown_partstat_is_read_as_needs_action():
    [answer] = read_answers(reply("ATTENDEE;PARTSTAT=X-MAYBE-LATER:mailto:jane.doe@globex.example"))
    assert answer.partstat == "NEEDS-ACTION"


def test_several_attendees_give_one_answer_each():
    answers = read_answers(reply("ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO=\"mailto:bob@globex.example\":"
                                 "mailto:jane.doe@globex.example",
                                 "ATTENDEE;PARTSTAT=ACCEPTED;DELEGATED-FROM=\"mailto:jane.doe@globex.example\":"
                                 "mailto:bob@globex.example"))
    assert [(a.attendee, a.partstat) for a in answers] == [("jane.doe@globex.example", "DELEGATED"),
                                                           ("bob@globex.example", "ACCEPTED")]


def test_an_event_without_uid_is_skipped():
    parsed = parse_answers(calendar("REPLY", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example"))
    assert parsed.answers == () and parsed.defects == ("REPLY VEVENT without UID skipped",)


def test_a_broken_sequence_reads_as_zero():
    parsed = parse_answers(calendar("REPLY", "UID:x@whiteglove.example", "SEQUENCE:two",
                                    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example"))
    assert [a.sequence for a in parsed.answers] == [0] and parsed.defects


def test_a_broken_vcalendar_does_not_hide_the_next_one():
    good = reply("ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example")
    broken = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nthis is no content line\r\nEND:VCALENDAR\r\n"
    parsed = parse_answers(broken + good)
    assert [a.attendee for a in parsed.answers] == ["jane.doe@globex.example"]
    assert parsed.defects and parsed.defects[0].startswith("VCALENDAR not readable")


def test_line_endings_of_any_kind_and_a_byte_order_mark_are_read():
    text = reply("ATTENDEE;PARTSTAT=ACCEPTED;CN=Jane:mailto:jane.doe@glo", " bex.example")
    for variant in (text, text.replace("\r\n", "\n"), text.replace("\r\n", "\r"), "\ufeff" + text):
        assert [a.attendee for a in read_answers(variant)] == ["jane.doe@globex.example"]


def test_answers_are_values_so_repeats_drop_out():
    text = reply("ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@globex.example")
    answers = read_answers(text) + read_answers(text)
    assert len(list(dict.fromkeys(answers))) == 1


@pytest.mark.parametrize("text", [
    "", "   ", "hello", "BEGIN:VCALENDAR", "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n",
    "END:VCALENDAR\r\n", "BEGIN:VCALENDAR\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    ("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:x\r\nATTENDEE;CN=\"open:mailto:a@b.example\r\n"
     "END:VEVENT\r\nEND:VCALENDAR\r\n"),
    ("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:yesterday\r\nRECURRENCE-ID:0\r\n"
     "ATTENDEE;PARTSTAT=:\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
    "BEGIN:VCALENDAR\x00\r\nMETHOD:REPLY\x00\r\nEND:VCALENDAR\r\n",
    "BEGIN:VCALENDAR\r\n" * 5000,
    ("BEGIN:VCALENDAR\r\nMETHOD:COUNTER\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:99999999T999999Z\r\nDURATION:forever\r\n"
     "END:VEVENT\r\nEND:VCALENDAR\r\n"),
    "\ud800BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n",
    None, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", 42,
])
def test_broken_input_never_raises(text):
    parsed = parse_answers(text)
    assert all(a.attendee == "" or "@" in a.attendee for a in parsed.answers)
    assert isinstance(read_answers(text), list)


def test_a_calendar_too_long_to_read_is_skipped():
    parsed = parse_answers(reply("ATTENDEE:mailto:jane.doe@globex.example", "COMMENT:" + "x" * 1_000_000))
    assert parsed.answers == () and "not read" in parsed.defects[0]


def test_every_cut_and_many_damaged_copies_of_a_reply_read_without_raising():
    text = reply("ATTENDEE;PARTSTAT=ACCEPTED;CN=\"Doe, Jane\":mailto:jane.doe@globex.example",
                 "RECURRENCE-ID;TZID=Europe/Berlin:20250305T140000", "COMMENT:ok")
    for end in range(len(text)):
        parse_answers(text[:end])
    rng = random.Random(5545)  # fixed seed: the same damaged copies on every run
    for _ in range(500):
        chars = list(text)
        for _ in range(rng.randint(1, 8)):
            chars[rng.randrange(len(chars))] = rng.choice(':;="\r\n ,\\\x00\u00e9ZT0')
        parsed = parse_answers("".join(chars))
        assert all(isinstance(a, CalendarAnswer) for a in parsed.answers)


# -- the corpus: real clients' answers ---------------------------------------------------------

def answers_in_mail(path: Path) -> list[CalendarAnswer]:
    parsed = parse_message(path.read_bytes())
    answers = [a for part in parsed.calendars for a in read_answers(part.text, part.method)]
    return list(dict.fromkeys(answers))  # the inline part and invite.ics say the same


TINE20_UID = "4f0162146d61cb2c06cbe2abf94636f4526abe16"
APPLE_UID = "1E71F9C8-AEDA-48EB-98D0-76E898F6BB5C"
CORPUS_REPLIES = {
    # Exchange 2010 (uk-koeln.de), base64, MAILTO: in capitals, the address folded over two lines
    "calmailproc__test-05-2.eml": [("0e4a0959-e1c7-4c5a-b353-d7abbd8ca8ac", "markus.brechtel@uk-koeln.de", "ACCEPTED")],
    "calmailproc__test-06-2.eml": [("abcfacd3-4db3-4c42-bcf5-0c17752c65fb", "markus.brechtel@uk-koeln.de", "DECLINED")],
    # Apple iCal 3, quoted-printable attachment
    "ccs-calendarserver__good_reply.eml": [(APPLE_UID, "xyzzy@example.com", "ACCEPTED")],
    "ccs-calendarserver__reply_missing_attendee.eml": [(APPLE_UID, "", None)],
    "ccs-calendarserver__reply_missing_organizer.eml": [(APPLE_UID, "", None)],  # it lacks the ATTENDEE too
    "ccs-calendarserver__reply_missing_attachment.eml": [],
    # Thunderbird/Lightning via Tine 2.0, inline and as invite.ics
    "tine20__calendar_reply_accepted.eml": [(TINE20_UID, "tine20admin@caldav.net", "ACCEPTED")],
    "tine20__calendar_reply_declined.eml": [(TINE20_UID, "tine20admin@caldav.net", "DECLINED")],
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(CORPUS_REPLIES))
def test_corpus_replies_give_uid_attendee_and_partstat(corpus_dir, name):
    answers = answers_in_mail(corpus_dir / "mail" / "calendar" / name)
    assert [(a.uid, a.attendee, a.partstat) for a in answers] == CORPUS_REPLIES[name]
    assert all(a.method == "REPLY" and a.proposed_start is None for a in answers)


@pytest.mark.corpus
def test_corpus_replies_give_sequence_dtstamp_and_comment(corpus_dir):
    [exchange] = answers_in_mail(corpus_dir / "mail" / "calendar" / "calmailproc__test-06-2.eml")
    assert (exchange.sequence, exchange.dtstamp, exchange.comment) == (
        0, datetime(2025, 3, 10, 21, 17, 31, tzinfo=UTC), "no, sorry")
    [apple] = answers_in_mail(corpus_dir / "mail" / "calendar" / "ccs-calendarserver__good_reply.eml")
    assert (apple.sequence, apple.dtstamp, apple.comment) == (7, datetime(2008, 8, 12, 20, 19, 11, tzinfo=UTC), "")


@pytest.mark.corpus
@pytest.mark.parametrize("name, expected", [
    # Google Calendar: ORGANIZER without mailto:, the ATTENDEE folded inside a parameter
    ("tine20__Frontend-google_confirm.ics",
     [("REPLY", "62050f080e53ca8e00353ff0a89c6c6aa4af3dec", "mail@corneliusweiss.de", "ACCEPTED")]),
    ("tine20__Frontend-invitation_reply_declined.ics",
     [("REPLY", TINE20_UID, "tine20admin@caldav.net", "DECLINED")]),
    # DavMail: a REPLY of VFREEBUSY, which is no answer to an invitation
    ("calcard__096.ics", []),
    # libical's iTIP sequence: four REPLYs (two from crashers), a broken CANCEL, a COUNTER by DURATION
    ("ical4j__valid-incoming.ics",
     [("REPLY", "calsrv.example.com-873970198738785@example.com", "b@example.com", "ACCEPTED"),
      ("REPLY", "calsrv.example.com-873970198738785@example.com", "c@example.com", "DECLINED"),
      ("REPLY", "calsrv.example.com-873970198738785@example.com", "x@example.com", "ACCEPTED"),
      ("REPLY", "calsrv.example.com-873970198738785@example.com", "y@example.com", "DECLINED"),
      ("COUNTER", "calsrv.example.com-873970198738777@example.com", "c@example.com", None)]),
])
def test_corpus_ics_answers(corpus_dir, name, expected):
    text = (corpus_dir / "ics" / name).read_text(encoding="utf-8")
    answers = read_answers(text)
    assert [(a.method, a.uid, a.attendee, a.partstat) for a in answers] == expected


@pytest.mark.corpus
def test_the_corpus_counter_ends_after_its_duration(corpus_dir):
    text = (corpus_dir / "ics" / "ical4j__valid-incoming.ics").read_text(encoding="utf-8")
    [counter] = [a for a in read_answers(text) if a.method == "COUNTER"]
    assert (counter.proposed_start, counter.proposed_end, counter.comment) == (
        datetime(1997, 7, 1, 19, 0, tzinfo=UTC), datetime(1997, 7, 1, 21, 0, tzinfo=UTC),
        "I think the conference should be 2 hours long")


@pytest.mark.corpus
@pytest.mark.filterwarnings("ignore:.*globally unique TZID")  # Evolution's TZIDs; a REQUEST, not read
def test_no_corpus_file_makes_the_reader_raise_and_only_answers_give_answers(corpus_dir):
    with_answers = set()
    for path in sorted((corpus_dir / "ics").glob("*.ics")):
        parsed = parse_answers(path.read_bytes().decode("utf-8", "replace"))
        if parsed.answers:
            with_answers.add(path.name)
    for path in sorted(p for p in (corpus_dir / "mail").rglob("*") if p.is_file()):
        for part in parse_message(path.read_bytes()).calendars:
            if parse_answers(part.text, part.method).answers:
                with_answers.add(path.name)
    assert with_answers == {
        "tine20__Frontend-google_confirm.ics", "tine20__Frontend-invitation_reply_declined.ics",
        "ical4j__valid-incoming.ics",
        *(name for name, answers in CORPUS_REPLIES.items() if answers),
    }


# -- the module itself ------------------------------------------------------------------------------

def test_imip_is_pure_it_imports_no_io_and_reads_no_clock():
    tree = ast.parse((Path(__file__).resolve().parents[2] / "mailer" / "imip.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    forbidden = {"os", "socket", "ssl", "smtplib", "imaplib", "imapclient", "exchangelib", "ticketing", "time", "io"}
    assert {name.split(".")[0] for name in imported} & forbidden == set()
    calls = {node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert calls & {"now", "utcnow", "today", "time", "monotonic", "open", "read_text"} == set()
    assert not re.search(r"\bprint\(", (Path(__file__).resolve().parents[2] / "mailer" / "imip.py").read_text())
