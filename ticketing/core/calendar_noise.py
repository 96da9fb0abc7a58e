"""Calendar notifications that carry no calendar object: noise, not tickets (pure).

Calendar clients send mail about meetings that holds no iCalendar part: Google's "Accepted: Kick-off
@ Wed Nov 18 … (jane@acme.example)" with "jane@acme.example has accepted this invitation", Apple's
"Event accepted: Kick-off" ("… has accepted your iCal event invitation"), Outlook's "Accepted:",
"Tentative:", "Declined:" answers whose ``text/calendar`` part a gateway stripped, Outlook's "Meeting
Forward Notification: …" and Google's "Invitation: … (you have been invited)" echo. An iMIP answer
(RFC 6047) is the calendar object; without one the mail says nothing a calendar can record (no UID,
no SEQUENCE, no DTSTAMP), so it is stored, never answered and never a ticket.

A subject alone is not enough: "Declined: card payment on invoice 118" is a customer asking for
help. :func:`calendar_noise` wants a subject of the notification's form and one more sign: the
client's own wording in the text, a header only calendar clients write, no text of the sender's
own, or a meeting of ours the sender is invited to under that title.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

#: The subject forms, at the start (after an optional "[tag]"), and what each says of the answer.
_SUBJECTS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.IGNORECASE), answer) for p, answer in (
    (r"^event (?:accepted|declined|tentatively accepted|maybe)\s*:", "answer"),  # Apple Calendar
    (r"^(?:accepted|zugesagt|accepté)\s*:", "accepted"),
    (r"^(?:declined|abgelehnt|refusé)\s*:", "declined"),
    (r"^(?:tentatively accepted|tentative|mit vorbehalt angenommen|provisoire)\s*:", "tentative"),
    (r"^new time proposed\s*:", "proposal"),
    (r"^meeting forward notification\s*:", "forwarded"),
    (r"^(?:updated invitation(?: with note)?|invitation|event invitation|einladung)\s*:", "invitation"),
    (r"^(?:canceled|cancelled) (?:event|invitation)\s*:", "cancelled"),
))
_TAG = re.compile(r"^\s*(?:\[[^\]]{0,40}\]\s*)?")
# What the clients write in the text of such a notification.
_CLIENT_TEXT = re.compile(
    r"has (?:accepted|declined|tentatively accepted) (?:this|your|the)\b[^\n]{0,40}invitation"
    r"|invitation from google calendar|you have been invited (?:to|by)\b|you are receiving this (?:courtesy )?email"
    r"|your meeting was forwarded|has forwarded your meeting request|meeting forward notification"
    r"|(?:accepted|declined) your (?:ical )?(?:event )?invitation|reply for [^\n]{1,80} has been received",
    re.IGNORECASE,
)
# Google's subject ends in "@ <when> (<address>)"; Outlook writes "When:"/"Where:" lines and nothing else.
_GOOGLE_WHEN = re.compile(r"\s@\s[^@]{4,80}\(\S+@\S+\)\s*$")
_BOILERPLATE = re.compile(r"^\s*(?:when|where|wann|wo|organizer|organisateur)\s*:.*$", re.IGNORECASE | re.MULTILINE)
#: Headers only calendar clients write: Apple's, and Outlook's message class.
_CLIENT_HEADERS = {"x-mail-calendar-part": re.compile(r"yes", re.I),
                   "content-class": re.compile(r"calendarmessage", re.I)}
_OWN_TEXT_CHARS = 40  # less text of the sender's own than this is no request for help


@dataclass(frozen=True)
class CalendarNoise:
    """A calendar notification: what it says (``answer``), about which title, and the evidence."""

    answer: str  # accepted, declined, tentative, answer, proposal, forwarded, invitation, cancelled
    title: str  # the meeting's title as the subject gives it (Google's "@ when (who)" removed)
    evidence: str

    @property
    def reason(self) -> str:
        return f"calendar notification without a calendar part ({self.answer}: {self.evidence}): no ticket"


def notification_title(subject: str) -> tuple[str, str] | None:
    """``(answer, title)`` when ``subject`` has the form of a calendar notification, else None."""
    subject = _TAG.sub("", " ".join((subject or "").split()))
    for pattern, answer in _SUBJECTS:
        found = pattern.match(subject)
        if found:
            return answer, _GOOGLE_WHEN.sub("", subject[found.end():]).strip()
    return None


def calendar_noise(subject: str, new_text: str, headers: Iterable[tuple[str, str]] = (),
                   meeting_titles: Iterable[str] = ()) -> CalendarNoise | None:
    """Whether a message without a calendar part is a calendar client's notification.

    ``new_text`` is the message's text without quoted mail; ``headers`` its ``(lower-case name,
    value)`` pairs; ``meeting_titles`` the titles of our meetings the sender is invited to. Returns
    None unless the subject has a notification's form and one more sign says so (see the module).
    """
    form = notification_title(subject)
    if form is None:
        return None
    answer, title = form
    for name, value in headers:
        wanted = _CLIENT_HEADERS.get(name)
        if wanted is not None and wanted.search(value or ""):
            return CalendarNoise(answer, title, f"{name} header")
    if _CLIENT_TEXT.search(new_text or ""):
        return CalendarNoise(answer, title, "a calendar client's wording")
    if _GOOGLE_WHEN.search(" ".join((subject or "").split())):
        return CalendarNoise(answer, title, "Google Calendar's subject")
    lowered = title.casefold()
    if lowered and any(lowered == t.casefold() or lowered.startswith(t.casefold() + " ") for t in meeting_titles if t):
        return CalendarNoise(answer, title, "the sender is invited to a meeting of that title")
    own = _BOILERPLATE.sub("", new_text or "").strip()
    # A bare "Declined: …" may be a customer's card payment: only a known meeting makes it noise.
    if answer not in ("invitation", "cancelled", "declined") and len(own) < _OWN_TEXT_CHARS:
        return CalendarNoise(answer, title, "no text of the sender's own")
    return None
