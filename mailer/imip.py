"""Calendar invitations by mail (pure: no I/O): the objects we send.

Standards: RFC 5545 (iCalendar), RFC 5546 (iTIP: the methods, SEQUENCE, who sends what), RFC 6047
(iMIP: iTIP objects in mail) and, by avoiding what it needs, RFC 6868 (see :func:`request`).
The `icalendar` library writes the text; no type of it leaves this module.

Sending. :func:`request` and :func:`cancel` return the text of one VCALENDAR holding one VEVENT,
for ``mailer.compose.compose(calendar=(method, text))``: the first argument must be the
``METHOD`` of the text, ``"REQUEST"`` or ``"CANCEL"`` (RFC 6047 2.4). Times are written in UTC
(``DTSTART:20250301T090000Z``): no VTIMEZONE to get wrong or to be misread (Outlook and older
clients mishandle VTIMEZONEs with RDATE or unknown names), and every client shows them in its
reader's own zone. The organizer keeps ``uid`` for the life of the meeting and raises
``sequence`` for every change and for the cancellation (RFC 5546 2.1.4). Bad arguments raise
:class:`ValueError`.

What attendees send back is read by :mod:`mailer.imip_answers`; a weekly series is written by
:mod:`mailer.imip_series`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from icalendar import Calendar, Event, vCalAddress

from mailer.compose import safe_address, safe_header

#: ROLE values (RFC 5545 3.2.16).
ROLES = frozenset({"CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT"})
#: STATUS values a REQUEST may carry (RFC 5545 3.8.1.11); a cancellation is :func:`cancel`.
REQUEST_STATUSES = frozenset({"TENTATIVE", "CONFIRMED"})
DEFAULT_PRODID = "-//whiteglove//onboarding//EN"

_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._+=/:-]{0,254}")
_URL = re.compile(r"https?://[^\s\"<>\\^`{|}\x00-\x1f\x7f]{1,2000}", re.IGNORECASE)  # RFC 3986's characters
_MAX_SEQUENCE = 2**31 - 1  # INTEGER is a signed 32-bit value (RFC 5545 3.3.8)
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but TAB and LF


# -- sending ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attendee:
    """A person invited (or organizing): ``role`` is one of :data:`ROLES`, unused for an organizer.

    ``sent_by`` is, for an organizer, the address that acts for them (RFC 5545 3.2.18: the
    ``SENT-BY`` parameter), e.g. a shared mailbox sending on an engineer's behalf.
    """

    email: str
    name: str = ""
    role: str = "REQ-PARTICIPANT"
    sent_by: str | None = None


@dataclass(frozen=True)
class Invitation:
    """One meeting as the organizer sends it. ``start`` and ``end`` are aware datetimes."""

    uid: str
    sequence: int
    summary: str
    description: str
    location: str | None
    start: datetime
    end: datetime
    organizer: Attendee
    attendees: tuple[Attendee, ...]
    status: str = "CONFIRMED"
    url: str | None = None  # a join link (http or https), written as the URL property (RFC 5545 3.8.4.6)


def request(invitation: Invitation, dtstamp: datetime, prodid: str = DEFAULT_PRODID) -> str:
    """Return a ``METHOD:REQUEST`` VCALENDAR inviting the attendees (RFC 5546 3.2.2).

    The text has CR LF line endings and lines folded at 75 octets, never inside a UTF-8
    sequence. Each attendee is asked to answer (``PARTSTAT=NEEDS-ACTION;RSVP=TRUE``).
    ``dtstamp`` (aware) is when the object is made. Names, summary, location and description
    may come from inbound mail: control characters and bidi overrides are removed, and a name
    (``CN``) also loses double quotes and carets, so that no RFC 6868 escape is needed, which
    Outlook and many parsers do not decode. An empty name becomes the address.

    Raises :class:`ValueError` on an unusable uid (1 to 255 letters, digits and ``@._+=/:-``),
    sequence, address, role or status, a naive or inverted time, a repeated attendee, or no
    attendee at all.
    """
    if invitation.status not in REQUEST_STATUSES:
        raise ValueError(f"a REQUEST has STATUS TENTATIVE or CONFIRMED, not {invitation.status!r:.40}")
    return _build("REQUEST", invitation, invitation.status, dtstamp, prodid)


def cancel(invitation: Invitation, dtstamp: datetime, prodid: str = DEFAULT_PRODID) -> str:
    """Return a ``METHOD:CANCEL`` VCALENDAR cancelling the whole meeting (RFC 5546 3.2.5).

    Same UID as the invitation, ``STATUS:CANCELLED``, every attendee listed (without RSVP: no
    answer is wanted). ``invitation.sequence`` must already be raised above the last one sent,
    so it is at least 1. Raises :class:`ValueError` as :func:`request` does.
    """
    if isinstance(invitation.sequence, int) and invitation.sequence < 1:
        raise ValueError("a CANCEL needs a SEQUENCE raised above the invitation's, so at least 1")
    return _build("CANCEL", invitation, "CANCELLED", dtstamp, prodid)


def _build(method: str, invitation: Invitation, status: str, dtstamp: datetime, prodid: str) -> str:
    cal = _calendar(method, prodid)
    cal.add_component(_event(method, invitation, status, dtstamp))
    return cal.to_ical().decode("utf-8")


def _calendar(method: str, prodid: str) -> Calendar:
    """An empty VCALENDAR of ``method`` (the caller adds its components)."""
    if not isinstance(prodid, str) or not prodid or _one_line(prodid, 200) != prodid:
        raise ValueError(f"not a PRODID: {prodid!r:.200}")
    cal = Calendar()
    cal.add("prodid", prodid)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal


def _event(method: str, invitation: Invitation, status: str, dtstamp: datetime, tz: tzinfo | None = None) -> Event:
    """The VEVENT of ``invitation``, checked; times in UTC, or local to ``tz`` with its TZID when given."""
    if not isinstance(invitation.uid, str) or not _UID.fullmatch(invitation.uid):
        raise ValueError(f"not a UID to send: {invitation.uid!r:.300}")
    sequence = invitation.sequence
    if not isinstance(sequence, int) or isinstance(sequence, bool) or not 0 <= sequence <= _MAX_SEQUENCE:
        raise ValueError(f"not a SEQUENCE: {sequence!r:.40}")
    start, end = _utc(invitation.start, "start"), _utc(invitation.end, "end")
    if end <= start:
        raise ValueError(f"the meeting ends ({end}) before it starts ({start})")
    if not invitation.attendees:
        raise ValueError("an invitation needs at least one attendee")
    event = Event()
    event.add("uid", invitation.uid)
    event.add("sequence", sequence)
    event.add("dtstamp", _utc(dtstamp, "dtstamp"))
    event.add("dtstart", start if tz is None else start.astimezone(tz))
    event.add("dtend", end if tz is None else end.astimezone(tz))
    event.add("summary", _one_line(invitation.summary, 255))
    event.add("description", _text(invitation.description))
    if invitation.location:
        event.add("location", _one_line(invitation.location, 255))
    if invitation.url:
        if not _URL.fullmatch(invitation.url):
            raise ValueError(f"not an http(s) URL: {invitation.url!r:.300}")
        event.add("url", invitation.url)
    event.add("status", status)
    organizer = _address(invitation.organizer)
    if invitation.organizer.sent_by:
        # A quoted cal-address (RFC 5545 3.2.18): the library quotes it, as it holds a colon.
        organizer.params["SENT-BY"] = f"mailto:{safe_address(invitation.organizer.sent_by)}"
    event.add("organizer", organizer)
    seen = set()
    for attendee in invitation.attendees:
        address = _attendee(attendee, rsvp=method == "REQUEST")
        if address.lower() in seen:
            raise ValueError(f"attendee listed twice: {attendee.email!r:.300}")
        seen.add(address.lower())
        event.add("attendee", address)
    return event


def _utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, not {value!r:.80}")
    # iCalendar has no fractions of a second; dropping them keeps the output stable.
    return value.astimezone(timezone.utc).replace(microsecond=0)


def _address(person: Attendee) -> vCalAddress:
    """Return ``mailto:`` with a CN (RFC 5545 3.8.4.1 and 3.8.4.3), the library quoting it."""
    email = safe_address(person.email)
    address = vCalAddress(f"mailto:{email}")
    # A quote cannot be in a parameter value, and a caret or line break would need RFC 6868.
    name = _one_line(str(person.name or "").replace('"', "").replace("^", ""), 200)
    address.params["CN"] = name or email
    return address


def _attendee(attendee: Attendee, rsvp: bool) -> vCalAddress:
    """Return an ATTENDEE value: a person (CUTYPE) who has not answered yet (RFC 5545 3.8.4.1)."""
    if attendee.role not in ROLES:
        raise ValueError(f"not an attendee ROLE: {attendee.role!r:.40}")
    address = _address(attendee)
    address.params["CUTYPE"] = "INDIVIDUAL"
    address.params["ROLE"] = attendee.role
    address.params["PARTSTAT"] = "NEEDS-ACTION"
    if rsvp:
        address.params["RSVP"] = "TRUE"
    return address


def _one_line(value: str, limit: int) -> str:
    """Return ``value`` as one line: control characters and line breaks become spaces."""
    return safe_header(str(value), limit=limit)


def _text(value: str) -> str:
    """Return ``value`` as iCalendar TEXT may hold it: LF line breaks, no other controls but TAB."""
    value = _SURROGATES.sub("\ufffd", _BIDI_CONTROLS.sub("", str(value)))
    return _CONTROLS.sub("", _LINE_BREAKS.sub("\n", value))
