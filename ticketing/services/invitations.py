"""The invitations to an engagement's meetings: who organizes them and the iMIP mail (RFC 6047).

:class:`Invitations` queues one message per attendee for a meeting (a REQUEST when it is new or
moved, a CANCEL when it is cancelled), each listing every attendee, inside the caller's unit of work.
A meeting's location is its LOCATION; a join link is also its URL and the last line of its description.

Who organizes (``[onboarding] organizer``):

- ``support`` (the default): ORGANIZER and From are the support mailbox, so every answer (an
  attendee's client mails its REPLY to the ORGANIZER, RFC 6047 2.3) comes back to whiteglove.
- ``engineer``: the engagement's engineer organizes. ORGANIZER is the engineer with
  ``SENT-BY="mailto:<support>"`` (RFC 5545 3.2.18), the mail is From the engineer with
  ``Sender: <support>`` (RFC 5322 3.6.2) so that ORGANIZER and From agree, and Reply-To is support
  for people who answer by writing. The engineer gets the organizer's copy (the same object,
  without being an attendee of it) so the meeting is in their own calendar. Clients mail their
  answers to the ORGANIZER's address: the answers reach the engineer's mailbox, and whiteglove
  records them only when they are redirected to the support mailbox (see the README).
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from mailer import (
    Address,
    Attendee,
    Invitation,
    Override,
    Weekly,
    cancel,
    request,
    request_instance,
    request_series,
)
from ticketing.config import Config
from ticketing.core.calendars import zone
from ticketing.core.domain import Account, Engagement, Meeting, MeetingAttendee
from ticketing.core.mails import Draft, Mails, Support, slug
from ticketing.core.planner import local_label
from ticketing.core.series import WeeklySeries
from ticketing.core.steering import is_link
from ticketing.services.outbox import Outbox
from ticketing.store import SqlStore


class Invitations:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.support = Support(config.support.address, config.support.name)

    def organizer(self, engagement: Engagement) -> Attendee:
        """The ORGANIZER of the engagement's meetings (see the module docstring)."""
        engineer = self.config.engineer(engagement.engineer or "")
        if self.config.onboarding.organizer == "engineer" and engineer:
            return Attendee(engineer.email, engineer.name, "CHAIR", sent_by=self.support.address)
        return Attendee(self.support.address, self.support.name, "CHAIR")

    def send(self, meeting: Meeting, engagement: Engagement, now: datetime, *, updated: bool = False,
             cancelled: bool = False, reason: str = "", next_step: str = "",
             to: Sequence[MeetingAttendee] | None = None, sequence: int | None = None) -> None:
        """One message per attendee: REQUEST (new or moved) or CANCEL, all attendees listed in each;
        and, when an engineer organizes, the organizer's copy to them.

        ``to`` sends to those people only, who join or leave the meeting; a CANCEL to them lists
        only them, which takes them off it and no one else (RFC 5546 section 3.2.5). ``sequence``
        overrides the meeting's (such a CANCEL is raised above the invitation they hold).
        A cancellation says why (``reason``, read after "because") and what happens next (``next_step``).
        """
        organizer = self.organizer(engagement)
        attendees = _listed(meeting.attendees, organizer)
        recipients = attendees if to is None else _listed(to, organizer)
        if not recipients or meeting.start is None:
            return
        location, link, description = _place(meeting)
        invitation = Invitation(
            uid=meeting.uid, sequence=meeting.sequence if sequence is None else sequence, summary=meeting.title,
            description=description, location=location, url=link, start=meeting.start, end=meeting.end,
            organizer=organizer, attendees=recipients if cancelled and to is not None else attendees,
        )
        stamp = "" if to is None else f".{'leave' if cancelled else 'join'}.{self._version(engagement)}"
        method, ics = ("CANCEL", cancel(invitation, now)) if cancelled else ("REQUEST", request(invitation, now))
        self._queue(engagement, meeting.title, meeting.attendees, description, method, ics, recipients,
                    organizer, f"invite.{meeting.id}.{meeting.sequence}", stamp, now,
                    lambda tz: local_label(meeting.start, meeting.end, tz), updated=updated, cancelled=cancelled,
                    reason=reason, whole=to is None, next_step=next_step)

    def send_series(self, meetings: Sequence[Meeting], series: WeeklySeries | None, engagement: Engagement, now: datetime, *,
                    uid: str, sequence: int, title: str, updated: bool = False, instance: str | None = None,
                    cancelled: bool = False, reason: str = "", to: Sequence[MeetingAttendee] | None = None) -> None:
        """One message per attendee for a weekly series (``meetings``: its occurrences, planned):
        the whole series (RRULE, EXDATEs and overrides, RFC 5545 3.8.5), or with ``instance`` (a
        key) that occurrence alone, moved, under its RECURRENCE-ID (RFC 5546 3.2.2), or with
        ``cancelled`` a CANCEL of the whole series (to ``to`` only, when given; ``series`` may
        then be None)."""
        organizer = self.organizer(engagement)
        first = next(m for m in meetings if m.start)
        listed = _listed(first.attendees, organizer)
        recipients = listed if to is None else _listed(to, organizer)
        if not recipients:
            return
        location, link, description = _place(first)
        invitation = Invitation(
            uid=uid, sequence=sequence, summary=title, description=description, location=location, url=link,
            start=series.start if series else first.start, end=series.end if series else first.end, organizer=organizer,
            attendees=recipients if cancelled and to is not None else listed)
        if cancelled or series is None:
            method, ics = "CANCEL", cancel(invitation, now)
            self._queue(engagement, title, first.attendees, description, method, ics, recipients, organizer,
                        f"series.{slug(uid)}.{sequence}.cancel", "" if to is None else f".leave.{self._version(engagement)}",
                        now, lambda tz: "", updated=False, cancelled=True, reason=reason, whole=to is None)
            return
        overrides = tuple(Override(i.recurrence_id, i.start, i.end) for i in series.overrides)
        moved = series.instance(instance) if instance else None
        if moved is not None:
            method, ics = "REQUEST", request_instance(invitation, Override(moved.recurrence_id, moved.start, moved.end),
                                                      series.tz.key, now)
        else:
            method, ics = "REQUEST", request_series(invitation, Weekly(series.tz.key, series.count, series.exdates), now,
                                                    overrides)
        times = [(i.start, i.end) for i in series.instances] if moved is None else [(moved.start, moved.end)]

        def when(tz: ZoneInfo) -> str:
            weekly = f"weekly, {len(series.instances)} times: " if moved is None else ""
            return weekly + "; ".join(local_label(start, end, tz) for start, end in times)

        stamp = "" if to is None else f".join.{self._version(engagement)}"
        what = f".{slug(moved.key)}" if moved is not None else ""  # a key holds "#": not for a Message-ID
        self._queue(engagement, title, first.attendees, description, method, ics, recipients, organizer,
                    f"series.{slug(uid)}.{sequence}{what}", stamp, now, when, updated=updated or moved is not None,
                    cancelled=False, reason=reason, whole=to is None)

    def _queue(self, engagement: Engagement, title: str, attendees: Sequence[MeetingAttendee], description: str,
               method: str, ics: str, recipients: Sequence[Attendee], organizer: Attendee, token: str, stamp: str,
               now: datetime, when: Callable[[ZoneInfo], str], *, updated: bool, cancelled: bool, reason: str,
               whole: bool, next_step: str = "") -> None:
        engineer = self.config.engineer(engagement.engineer or "")
        account = self.store.get_account(engagement.account_id)
        by_engineer = organizer.sent_by is not None
        # The organizer's copy goes with every change of the whole meeting, not with one person's joining or leaving.
        copies = list(recipients) + ([organizer] if by_engineer and whole else [])
        for person in copies:
            tz = self._zone_of(person.email, account)
            body = self.mails.render(
                "invite", title=title, when=when(tz), attendees=[a.name or a.email for a in attendees],
                description=description, engineer_name=engineer.name if engineer else self.support.name,
                updated=updated, cancelled=cancelled, reason=reason, next_step=next_step,
            )
            subject = ("Cancelled: " if cancelled else "Updated invitation: " if updated else "Invitation: ") + title
            draft = Draft("invite", f"{token}.{slug(person.email)}{stamp}",
                          (Address(person.name, person.email),), subject, body, engagement.ticket_id,
                          calendar=(method, ics),
                          from_address=Address(organizer.name, organizer.email) if by_engineer else None,
                          reply_to=self.support.mailbox if by_engineer else None)
            self.outbox.queue(draft, now, engagement_id=engagement.id)

    def _version(self, engagement: Engagement) -> int:
        """A joining or leaving person's invitation is the engagement's n-th: its cause, for a
        Message-ID that no clock decides (two changes in one second are two mails; a crash that rolls
        back the unit of work computes the same n again)."""
        return self.store.count_engagement_mail(engagement.id, "invite")

    def _zone_of(self, email: str, account: Account | None) -> ZoneInfo:
        """Where a recipient reads the time: an engineer's or manager's zone, else the customer's."""
        own = self.config.timezone_of(email)
        if own:
            return ZoneInfo(own)
        return zone(account.timezone if account else None) or ZoneInfo("UTC")


def _listed(people: Sequence[MeetingAttendee], organizer: Attendee) -> tuple[Attendee, ...]:
    """The ATTENDEEs of ``people``, the organizer left out."""
    return tuple(Attendee(a.email, a.name, "REQ-PARTICIPANT" if a.required else "OPT-PARTICIPANT")
                 for a in people if a.email != organizer.email.lower())


def _place(meeting: Meeting) -> tuple[str | None, str | None, str]:
    """The meeting's LOCATION, its URL when the location is a join link, and its description (with
    the link as its last line: clients that show no URL property still show the link)."""
    location = meeting.location or None
    link = location if location and is_link(location) else None
    description = meeting.description
    if link and link not in description:
        description = f"{description}\n\nJoin: {link}".strip()
    return location, link, description
