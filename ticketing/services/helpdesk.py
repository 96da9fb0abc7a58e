"""The help desk: what an inbound message causes (the service layer).

:meth:`HelpDesk.receive` runs inside intake's savepoint for one stored message. It looks up what
the pure core needs (the thread, the sender's account, the ticket's members), asks
:func:`ticketing.core.classify.classify` what the message is, and carries that out: new tickets and
customers' replies here; engineers' replies, bounces and contract-closed notices by the
collaborators it is given (:class:`~ticketing.services.engineer_replies.EngineerReplies`,
:class:`~ticketing.services.bounces.Bounces`,
:class:`~ticketing.services.contract_notices.ContractNotices`). Everything it does commits with the
message or not at all, so a crash can neither lose the mail nor send it twice.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from mailer import (
    ParsedMessage,
    exchange_sender_verified,
    file_attachments,
    is_data_file,
    new_text,
    read_answers,
    sender_verified,
    text_attachments,
)
from ticketing.config import Config
from ticketing.core.calendar_noise import notification_title
from ticketing.core.classify import Classification, Context, Sender, classify
from ticketing.core.commands import parse_commands
from ticketing.core.domain import (
    Account,
    EventKind,
    MessageKind,
    Ticket,
    TicketKind,
    TicketStatus,
)
from ticketing.core.mails import MARKER_PREFIX, Mails, slug
from ticketing.core.notices import looks_like_notice, read_notice
from ticketing.core.threads import (
    clean_subject,
    match_thread,
    tagged_ticket,
    thread_ids,
)
from ticketing.core.went_live import detect_went_live
from ticketing.services.assignment import Assigner, who
from ticketing.services.bounces import Bounces
from ticketing.services.contract_notices import ContractNotices
from ticketing.services.engagement_milestones import Milestones
from ticketing.services.engineer_replies import EngineerReplies
from ticketing.services.golive_urgency import GoLiveUrgency
from ticketing.services.inbound import Handled, Inbound, Unhandleable
from ticketing.services.onboarding import Onboarding
from ticketing.services.outbox import Outbox, deliverable
from ticketing.services.sla_watch import SlaWatch
from ticketing.services.surveys import Surveys
from ticketing.services.task_replies import TaskReplies
from ticketing.services.ticket_log import TicketLog
from ticketing.services.unverified import UnverifiedMail
from ticketing.store import SqlStore

log = logging.getLogger(__name__)

__all__ = ["HelpDesk", "Unhandleable"]


class HelpDesk:
    def __init__(self, store: SqlStore, config: Config, mails: Mails, outbox: Outbox, assigner: Assigner,
                 engineers: EngineerReplies, bounces: Bounces, notices: ContractNotices,
                 onboarding: Onboarding | None = None, sla: SlaWatch | None = None, surveys: Surveys | None = None,
                 task_replies: TaskReplies | None = None):
        self.store = store
        self.config = config
        self.mails = mails
        self.outbox = outbox
        self.assigner = assigner
        self.engineers = engineers
        #: Changes tickets on an engineer's or the operator's word.
        self.actions = engineers.actions
        self.bounces = bounces
        self.notices = notices
        #: Plans engagements' meetings; None for a desk without playbooks.
        self.onboarding = onboarding
        #: Hears a customer's "we are live" and asks the engineer to confirm it.
        self.milestones = Milestones(store, onboarding) if onboarding is not None else None
        #: Keeps tickets' SLA clocks; None for a desk without SLA policies.
        self.sla = sla
        #: Sends engagements' 0-10 survey and records the answers; None for a desk without playbooks.
        self.surveys = surveys
        #: A customer's "done" to a task reminder marks its tasks.
        self.task_replies = task_replies
        #: A go-live intent's priority follows its day.
        self.urgency = GoLiveUrgency(store, config, sla)
        #: Records mail in an engineer's or the CRM's name our server did not vouch for, and tells them.
        self.unverified = UnverifiedMail(store, config, mails, outbox, assigner)
        self.own = (config.support.address.lower(),)
        self.trusted = {a.lower() for a in config.security.trusted_notice_senders}
        self.internal = {e.email.lower() for e in config.engineers} | {m.email.lower() for m in config.managers}

    @property
    def calendars(self):
        return self.assigner.calendars

    # -- the entry point ---------------------------------------------------------------------------

    def receive(self, inbound: Inbound) -> Handled:
        """Handle one stored message (see the module docstring); then bring the SLA clocks of every
        ticket whose events changed up to date, in the same unit of work.

        Raises :class:`Unhandleable` for a message that cannot be acted on (intake quarantines it).
        """
        ticket_log = TicketLog(self.store)
        handled = self._dispatch(inbound, ticket_log)
        if self.sla is not None and ticket_log.touched:
            self.sla.refresh(ticket_log.touched, inbound.now)
        fresh = handled.ticket if handled.ticket is not None and handled.ticket.id not in ticket_log.touched else None
        return Handled(handled.kind, handled.ticket_id, handled.reasons, handled.tickets_created,
                       frozenset(ticket_log.touched), ticket=fresh)

    def _dispatch(self, inbound: Inbound, ticket_log: TicketLog) -> Handled:
        parsed = inbound.parsed
        ids = thread_ids(parsed)
        known = self.store.tickets_for_message_ids(ids) if ids else {}
        tag = tagged_ticket(parsed.subject)
        thread = match_thread(parsed, known, tag is not None and self.store.ticket_exists(tag))
        sender = self._sender(parsed)
        account = None
        if sender.email and not sender.is_engineer and sender.email.lower() not in self.trusted:
            account = self.store.account_for_address(sender.email)
        text = new_text(parsed.text, MARKER_PREFIX)
        notice = None
        # A trusted sender's notice is read even when marked automated: CRMs mark their alerts so.
        origin = inbound.verdict.origin.value
        readable = origin == "human" or (origin != "bounce" and sender.is_trusted_notifier)
        if readable and looks_like_notice(parsed.subject, parsed.text):
            data = [a for a in parsed.attachments if is_data_file(a)]
            notice = read_notice(parsed.subject, parsed.text, parsed.html, text_attachments(data) if data else [])
        context = Context(
            tier=account.tier if account else None,
            timezone=ZoneInfo(account.timezone if account else "UTC"),
            members=self.store.ticket_members(thread.ticket_id) if thread else frozenset(),
            meeting_titles=self._meeting_titles(parsed, sender),
        )
        c = classify(parsed, inbound.verdict, thread, text, sender, context, notice, inbound.received_at,
                     self.config.priorities)
        if c.kind is MessageKind.BOUNCE:
            return self.bounces.bounced(inbound, c, ticket_log)
        if c.kind is MessageKind.CALENDAR:
            return self._calendar_answer(inbound, c)
        if c.kind is MessageKind.AUTOMATED:
            return Handled(c.kind, c.ticket_id, c.reasons)
        if c.kind is MessageKind.NOTICE:
            return self.notices.received(inbound, c, ticket_log)
        if c.kind is MessageKind.ENGINEER_REPLY:
            return self.engineers.replied(inbound, c, text, ticket_log)
        if c.kind in (MessageKind.REPLY, MessageKind.NEW) and not c.review and self.task_replies is not None:
            done = self.task_replies.answered(inbound, c.reasons, text, ticket_log)  # None: not a "done"
            if done is not None:
                return done
        if c.kind is MessageKind.REPLY:
            answer = self.surveys.answered(inbound, c, text, ticket_log) if self.surveys is not None else None
            handled = answer or self._customer_reply(inbound, c, text, ticket_log)
        else:
            handled = self._new_ticket(inbound, c, text, account, ticket_log)
            if sender.verified is False and c.review:  # an engineer's or the CRM's address, not vouched for
                self.unverified.not_acted_on(inbound, sender, notice=not sender.is_engineer, text=text,
                                             review_id=handled.ticket_id, refers_to=c.refers_to, log=ticket_log)
        if account is not None and self.milestones is not None:
            claim = detect_went_live(parsed.subject, text, inbound.received_at, context.timezone)
            if claim is not None:
                self.milestones.claimed(account.id, claim, sender.email, handled.ticket_id, inbound.now, ticket_log)
        return handled

    def _meeting_titles(self, parsed: ParsedMessage, sender: Sender) -> frozenset[str]:
        """The titles of the meetings the sender is invited to, when the subject looks like a
        calendar notification's (only then is it worth a query)."""
        if not sender.email or parsed.calendars or notification_title(parsed.subject) is None:
            return frozenset()
        return frozenset(m.title for m in self.store.meetings_of_attendee(sender.email))

    def _sender(self, parsed: ParsedMessage) -> Sender:
        email = parsed.from_.email if parsed.from_ else None
        if email is None:
            return Sender(None)
        lower = email.lower()
        is_engineer = self.config.engineer(lower) is not None
        trusted = lower in self.trusted
        verified, why = None, ""
        security = self.config.security
        if security.checks_authentication and (is_engineer or trusted):
            domain = lower.rpartition("@")[2]
            if security.exchange_authentication:
                verified, why = exchange_sender_verified(parsed.headers, domain)
            else:
                headers = [v for k, v in parsed.headers if k == "authentication-results"]
                verified, why = sender_verified(headers, security.authserv_id or "", domain)
        return Sender(email, is_engineer, trusted, verified, why)

    # -- new tickets -------------------------------------------------------------------------------

    def _new_ticket(self, inbound: Inbound, c: Classification, text: str, account: Account | None,
                    ticket_log: TicketLog) -> Handled:
        parsed, now, received_at = inbound.parsed, inbound.now, inbound.received_at
        if parsed.from_ is None:
            raise Unhandleable("no sender address: nobody to open a ticket for")
        requester = parsed.from_
        priority = c.priority or self.config.priorities.default
        assignment = self.assigner.choose(priority, account.engineer if account else None, now)
        golive = c.golive
        ticket_id = self.store.create_ticket(
            kind=c.ticket_kind or TicketKind.SUPPORT, priority=priority,
            subject=clean_subject(parsed.subject) or "(no subject)", requester=requester.email,
            requester_name=requester.name, now=received_at, account=account.id if account else None,
            assignee=assignment.engineer, assigned_at=now if assignment.engineer else None, review=c.review,
            reasons=list(c.reasons), assignment=assignment.as_json(), refers_to=c.refers_to,
            golive_date=golive.golive_date if golive else None, golive_text=(golive.date_text or "") if golive else "",
            seen_at=now,
        )
        ticket_log.event(ticket_id, EventKind.CREATED, received_at, requester.email, message=c.kind.value)
        if assignment.engineer:
            ticket_log.event(ticket_id, EventKind.ASSIGNED, now, "", engineer=assignment.engineer, reason=assignment.reason)
        if c.refers_to:
            ticket_log.event(c.refers_to, EventKind.REFERRED, now, requester.email, ticket=ticket_id)
        if golive and account and self.onboarding is not None:
            self.onboarding.golive_intent(account.id, golive, now)
        if self.sla is not None:
            self.sla.refresh([ticket_id], now)  # so that the notification carries the due times
            ticket_log.settled(ticket_id)  # up to date: nothing below adds an event to it
        ticket = self.store.get_ticket(ticket_id)
        files, left_out = file_attachments(parsed.attachments, max_files=self.config.support.max_relayed_attachments)
        self.assigner.notify(ticket, requester, text, assignment, now, attachments=parsed.attachments,
                             files=files, left_out=left_out)
        paged = self._from_customer(ticket, c) and self.assigner.page_oncall(
            ticket, requester, text, assignment, now, files=files)
        if self._may_acknowledge(ticket, c, now):
            engineer = self.config.engineer(assignment.engineer) if assignment.engineer else None
            thread = [parsed.message_id] if parsed.message_id else []
            self.outbox.queue(self.mails.acknowledgement(ticket, requester, engineer_name=engineer.name if engineer else None,
                                                         thread=thread, oncall=paged), now)
        log.debug("ticket %s opened by message %s", ticket_id, inbound.row_id)
        return Handled(MessageKind.NEW, ticket_id, c.reasons, tickets_created=1, ticket=ticket)

    def _from_customer(self, ticket: Ticket, c: Classification) -> bool:
        """A support request from outside (not an engineer, a notifier, or mail flagged for review):
        what on-call is paged for. A go-live intent's P1 is planning, not an incident."""
        requester = ticket.requester.lower()
        return (ticket.kind is TicketKind.SUPPORT and not c.review and requester not in self.internal
                and requester not in self.trusted)

    def _may_acknowledge(self, ticket: Ticket, c: Classification, now) -> bool:
        support = self.config.support
        requester = ticket.requester.lower()
        if not support.acknowledge or c.review or requester in self.internal or requester in self.trusted:
            return False
        if not deliverable(ticket.requester):
            log.info("ticket %s: no acknowledgement, %r is not an address we can send to", ticket.id, ticket.requester)
            return False
        contact = self.store.contact(requester)
        if contact is not None and contact.failing_since is not None:
            return False
        recent = self.store.sent_count("acknowledgement", ticket.requester, now - timedelta(hours=1))
        return recent < support.acknowledgements_per_hour

    # -- customers' replies ------------------------------------------------------------------------

    def _customer_reply(self, inbound: Inbound, c: Classification, text: str, ticket_log: TicketLog) -> Handled:
        parsed, now, received_at = inbound.parsed, inbound.now, inbound.received_at
        ticket = self.store.get_ticket(c.ticket_id)
        sender = parsed.from_.email if parsed.from_ else ""
        ticket_log.event(ticket.id, EventKind.CUSTOMER_REPLIED, received_at, sender)
        if ticket.status is not TicketStatus.OPEN:
            self.store.update_ticket(ticket.id, now, status=TicketStatus.OPEN, resolved_at=None)
            ticket_log.event(ticket.id, EventKind.REOPENED, received_at, sender, previous=ticket.status.value)
        else:
            self.store.touch_ticket(ticket.id, now)
        commands = parse_commands(text)
        if commands.commands or commands.problems:
            ticket_log.event(ticket.id, EventKind.COMMAND_IGNORED, now, sender,
                             commands=[f"#{cmd.name} {cmd.argument}".strip() for cmd in commands.commands],
                             reason="commands are honoured only from engineers")
        changed = None
        golive = c.golive
        if golive and golive.golive_date and golive.golive_date != ticket.golive_date:
            changed = f"{golive.golive_date.isoformat()} (\u201c{golive.date_text}\u201d)"
            self.store.update_ticket(ticket.id, now, golive_date=golive.golive_date, golive_text=golive.date_text or "")
            ticket_log.event(ticket.id, EventKind.GOLIVE_CHANGED, now, sender,
                             golive_date=golive.golive_date.isoformat(), previous=str(ticket.golive_date))
            account = self.store.account_for_address(sender) if sender else None
            if account and self.onboarding is not None:
                self.onboarding.golive_intent(account.id, golive, now)
            if ticket.kind is TicketKind.GOLIVE_INTENT and self.urgency is not None:
                self.urgency.reprioritise(self.store.get_ticket(ticket.id), now, ticket_log)
        ticket = self.store.get_ticket(ticket.id)
        recipients = [ticket.assignee] if ticket.assignee else [m.email for m in self.config.managers]
        files, left_out = file_attachments(parsed.attachments, max_files=self.config.support.max_relayed_attachments)
        for email in recipients:
            self.outbox.queue(self.mails.update(
                ticket, self.assigner.address(email), inbound_pk=inbound.row_id, customer=who(parsed.from_),
                text=text or "(no text)", attachments=[a.listing() for a in parsed.attachments],
                thread=self.store.engineer_thread(ticket.id), golive=changed, files=files, left_out=left_out,
            ), now)
        return Handled(MessageKind.REPLY, ticket.id, c.reasons)

    # -- answers to invitations ----------------------------------------------------------------------

    def _calendar_answer(self, inbound: Inbound, c: Classification) -> Handled:
        """An answer to an invitation: applied to the meeting's attendee (never a ticket of its own)."""
        parsed = inbound.parsed
        notes: list[str] = []
        if c.calendar_noise is not None:
            return Handled(MessageKind.CALENDAR, c.ticket_id, c.reasons + self._noise_notes(parsed, c))
        if self.onboarding is not None and parsed.from_ is not None:
            answers = [a for part in parsed.calendars for a in read_answers(part.text, part.method)]
            # The answer's own id names what it causes: its Message-ID, else the digest of its bytes.
            token = slug(parsed.message_id or inbound.dedupe_key.partition(":")[2][:32])
            notes = self.onboarding.answers.answer(answers, parsed.from_.email, inbound.now, token=token)
        return Handled(MessageKind.CALENDAR, c.ticket_id, c.reasons + tuple(notes))

    def _noise_notes(self, parsed: ParsedMessage, c: Classification) -> tuple[str, ...]:
        """Which of our meetings a notification without a calendar part is about, if one is named
        by its title and the sender is invited to it: noted, never recorded as an answer (it has no
        UID, SEQUENCE or DTSTAMP to check it against)."""
        noise = c.calendar_noise
        if noise is None or parsed.from_ is None or not noise.title:
            return ()
        title = noise.title.casefold()
        found = [m for m in self.store.meetings_of_attendee(parsed.from_.email)
                 if title == m.title.casefold() or title.startswith(m.title.casefold() + " ")]
        if len({m.id for m in found}) != 1:
            return ()
        return (f"about meeting {found[0].id} ({found[0].title!r}): not recorded, no calendar part",)
