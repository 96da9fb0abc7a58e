"""The peewee models. Private to the store: nothing outside ``ticketing/store`` sees them.

There is no global database: :func:`create_models` defines the models bound to one database, so
that two stores in one process (a test's two databases, a migration tool) never answer from each
other's. Defining them costs about a millisecond, once per store.

Every timestamp is stored as UTC (naive in the database, aware in Python).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import peewee as pw


class UTCDateTimeField(pw.DateTimeField):
    """A datetime stored as naive UTC and read back as aware UTC."""

    def db_value(self, value):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC field")
        if value.tzinfo is not timezone.utc:
            value = value.astimezone(timezone.utc)
        return super().db_value(value.replace(tzinfo=None))

    def python_value(self, value):
        if value.__class__ is str:  # SQLite: ISO 8601 text, read by the C parser (peewee tries formats one by one)
            try:
                # Naive UTC text made aware by the parser itself: replace(tzinfo=) costs eight times as much,
                # and a report reads hundreds of thousands of these.
                aware = datetime.fromisoformat(value + "+00:00")
                if aware.tzinfo is not None:
                    return aware
            except ValueError:
                pass
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                value = super().python_value(value)
        elif value is not None and not isinstance(value, datetime):
            value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def _storable(value: str) -> str:
    """Text every database can hold: PostgreSQL refuses NUL characters in text."""
    return value.replace("\x00", "\ufffd")


class CharField(pw.CharField):
    """A ``VARCHAR(max_length)`` that clips what it is given to fit, instead of failing (PostgreSQL)
    or storing more than it declares (SQLite): callers never slice strings for the store."""

    def db_value(self, value):
        if value.__class__ is str:  # the common case, kept cheap: intake stores dozens per message
            if "\x00" in value:
                value = _storable(value)
            return value if len(value) <= self.max_length else value[: self.max_length]
        return super().db_value(value)


class TextField(pw.TextField):
    """A ``TEXT`` column; with ``limit``, what it is given is clipped to that many characters
    (inbound headers can be megabytes long). Never give a limit to a column holding JSON."""

    def __init__(self, *args, limit: int | None = None, **kwargs):
        self.limit = limit
        super().__init__(*args, **kwargs)

    def db_value(self, value):
        if value.__class__ is str:
            if "\x00" in value:
                value = _storable(value)
            return value if self.limit is None or len(value) <= self.limit else value[: self.limit]
        return super().db_value(value)


@dataclass(frozen=True)
class Models:
    """The models of one database (see :func:`create_models`)."""

    database: pw.Database
    SchemaVersion: type[pw.Model]
    MailboxState: type[pw.Model]
    IntakeRecord: type[pw.Model]
    Account: type[pw.Model]
    AccountDomain: type[pw.Model]
    Contact: type[pw.Model]
    Ticket: type[pw.Model]
    SlaNotice: type[pw.Model]
    Engagement: type[pw.Model]
    Meeting: type[pw.Model]
    MeetingAttendee: type[pw.Model]
    TicketEvent: type[pw.Model]
    InboundMessage: type[pw.Model]
    Quarantine: type[pw.Model]
    OutboundMessage: type[pw.Model]
    Refusal: type[pw.Model]
    ComponentHealth: type[pw.Model]
    Task: type[pw.Model]
    SurveyAnswer: type[pw.Model]
    Lease: type[pw.Model]
    Setting: type[pw.Model]

    @property
    def all(self) -> list[type[pw.Model]]:
        """Every model, in an order that creates referenced tables first."""
        return [
            self.SchemaVersion, self.MailboxState, self.IntakeRecord, self.Account,
            self.AccountDomain, self.Contact, self.Ticket, self.SlaNotice, self.Engagement,
            self.Meeting, self.MeetingAttendee, self.TicketEvent, self.InboundMessage,
            self.Quarantine, self.OutboundMessage, self.Refusal,
            self.ComponentHealth, self.Task, self.SurveyAnswer, self.Lease, self.Setting,
        ]


def create_models(db: pw.Database) -> Models:
    """Define the models bound to ``db``."""

    class BaseModel(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False


    class SchemaVersion(BaseModel):
        """One row: the schema version the database is at."""

        version = pw.IntegerField()

        class Meta:
            table_name = "wg_schema"


    class MailboxState(BaseModel):
        """Where intake stopped in one mailbox (IMAP: ``UIDVALIDITY:UID``)."""

        name = CharField(primary_key=True, max_length=200)
        cursor = TextField(null=True)  # a Graph delta link or an EWS sync state: kilobytes, never clipped
        # schema 6: mail that arrived before this is history: stored and classified, never answered
        started_at = UTCDateTimeField(null=True)
        updated_at = UTCDateTimeField()


    class IntakeRecord(BaseModel):
        """One message of one mailbox that intake has handled, and whether the server knows it yet."""

        mailbox = CharField(max_length=200)
        key = CharField(max_length=500)
        outcome = CharField(max_length=20)  # IntakeOutcome
        acked = pw.BooleanField(default=False)
        created_at = UTCDateTimeField()

        class Meta:
            indexes = ((("mailbox", "key"), True), (("mailbox", "acked"), False))


    class Account(BaseModel):
        """A customer company: declared in the configuration or created from a contract-closed notice."""

        name = CharField(max_length=200, unique=True)
        tier = CharField(max_length=100, null=True)
        engineer = CharField(max_length=320, null=True)  # the assigned engineer's address
        timezone = CharField(max_length=64, default="UTC")
        origin = CharField(max_length=20)  # "config" or "notice"
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()


    class AccountDomain(BaseModel):
        account = pw.ForeignKeyField(Account, backref="domains", on_delete="CASCADE")
        domain = CharField(max_length=253, unique=True)  # lower-case


    class Contact(BaseModel):
        """A person at a customer; ``failing_since`` is set when mail to them bounced for good."""

        account = pw.ForeignKeyField(Account, backref="contacts", null=True, on_delete="SET NULL")
        email = CharField(max_length=320, unique=True)  # domain lower-cased
        name = CharField(max_length=200, default="")
        role = CharField(max_length=100, default="")
        failing_since = UTCDateTimeField(null=True)
        failure = TextField(default="", limit=2000)


    class Ticket(BaseModel):
        kind = CharField(max_length=30)
        status = CharField(max_length=20, index=True)
        priority = CharField(max_length=4)
        subject = TextField(limit=500)
        requester = CharField(max_length=320, index=True)
        requester_name = CharField(max_length=200, default="")
        created_at = UTCDateTimeField(index=True)
        updated_at = UTCDateTimeField()
        # schema 2
        account = pw.ForeignKeyField(Account, null=True, backref="tickets", on_delete="SET NULL")
        assignee = CharField(max_length=320, null=True)
        assigned_at = UTCDateTimeField(null=True)
        review = pw.BooleanField(default=False)  # flagged for a person to look at (an untrusted notice)
        reasons = TextField(default="[]")  # JSON: why it was classified so
        assignment = TextField(default="{}")  # JSON: why it went to its assignee
        golive_date = pw.DateField(null=True)  # go-live intents: the intended go-live, a local date
        golive_text = TextField(default="", limit=500)
        refers_to = pw.IntegerField(null=True)  # a ticket opened by a stranger's reply to another
        first_response_at = UTCDateTimeField(null=True)
        resolved_at = UTCDateTimeField(null=True)
        # SLA: derived from the event log (ticketing.core.sla), stored for fast queries
        sla_policy = CharField(max_length=100, null=True)
        first_response_due = UTCDateTimeField(null=True)
        resolution_due = UTCDateTimeField(null=True)
        first_response_state = CharField(max_length=20, default="")  # running | paused | met | breached
        resolution_state = CharField(max_length=20, default="")
        next_sla_check = UTCDateTimeField(null=True, index=True)  # when the sweep must look at it next
        # schema 6: when whiteglove first saw it (its created_at is when the mail arrived, maybe long before)
        seen_at = UTCDateTimeField(null=True)

        class Meta:
            # Routing asks each engineer's last assignment: the newest row of an index range.
            indexes = ((("assignee", "assigned_at"), False), (("assignee", "status"), False))


    class SlaNotice(BaseModel):
        """A warning, breach notice or escalation sent about a ticket's clock: each is sent once."""

        ticket = pw.ForeignKeyField(Ticket, backref="sla_notices", on_delete="CASCADE")
        clock = CharField(max_length=30)  # first_response | resolution | next_response
        kind = CharField(max_length=30)  # warning-50 | warning-80 | breach | escalation-1 ...
        recipient = CharField(max_length=320)
        due_at = UTCDateTimeField()  # the clock's due time the notice was about
        sent_at = UTCDateTimeField()

        class Meta:
            indexes = ((("ticket", "clock", "kind"), True),)


    class Engagement(BaseModel):
        """An onboarding engagement, started by a contract-closed notice."""

        account = pw.ForeignKeyField(Account, backref="engagements", on_delete="CASCADE")
        engineer = CharField(max_length=320, null=True)
        tier = CharField(max_length=100, null=True)
        contract_id = CharField(max_length=200, default="")
        close_date = pw.DateField(null=True)
        sales_rep = CharField(max_length=320, default="")
        golive_date = pw.DateField(null=True)
        status = CharField(max_length=20, default="active")  # EngagementStatus
        ticket = pw.ForeignKeyField(Ticket, null=True, backref="engagements", on_delete="SET NULL")
        details = TextField(default="{}")  # JSON: everything the notice said
        created_at = UTCDateTimeField()
        playbook = CharField(max_length=100, null=True)
        # schema 11: the milestones, each recorded when it happens (its event is in the hand-off ticket's log)
        live_on = pw.DateField(null=True)  # the day it actually went live (#live, or a customer's mail confirmed)
        signed_off_on = pw.DateField(null=True)  # the customer's sign-off (#signoff NAME)
        signed_off_by = CharField(max_length=200, default="")
        closed_at = UTCDateTimeField(null=True)  # the end of the engagement (#close); its status is then closed

        class Meta:
            indexes = ((("account", "contract_id"), True),)


    class Meeting(BaseModel):
        """One occurrence of a playbook meeting of an engagement, and its calendar identity."""

        engagement = pw.ForeignKeyField(Engagement, backref="meetings", on_delete="CASCADE")
        key = CharField(max_length=100)  # the playbook's key; repeats add "#2", "#3" ...
        title = TextField(default="")
        description = TextField(default="")
        uid = CharField(max_length=255, unique=True)  # iCalendar UID: made once, never changed
        sequence = pw.IntegerField(default=0)  # raised on every change sent and on cancel
        start = UTCDateTimeField(null=True, index=True)
        end = UTCDateTimeField(null=True)
        status = CharField(max_length=20)  # MeetingStatus
        note = TextField(default="")  # why it is unplaced, or a warning about its time
        # where it is held (a room, an address or a join link): the playbook's, or the engineer's #location
        location = TextField(default="", limit=1000)
        # A repeat sent as one weekly series: the series' UID (shared by its occurrences) and this
        # occurrence's RECURRENCE-ID (its week's time in the rule); None when sent on its own.
        series_uid = CharField(max_length=255, null=True, index=True)
        recurrence_id = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        # schema 16: the engineer it books (lower-case), copied from the engagement when the meeting
        # is placed, so that the database itself refuses two overlapping planned meetings of one
        # engineer (ticketing/store/bookings.py); None for an engagement without one.
        engineer = CharField(max_length=320, null=True)

        class Meta:
            indexes = ((("engagement", "key"), True),)


    class Task(BaseModel):
        """One task of a playbook in an engagement: who owns it, when it is due, whether it is done."""

        engagement = pw.ForeignKeyField(Engagement, backref="tasks", on_delete="CASCADE")
        key = CharField(max_length=100)  # the playbook's task key
        name = TextField(default="", limit=1000)
        owner = CharField(max_length=100)  # a playbook role: engineer, customer:it ...
        due = pw.DateField(null=True)  # None while it waits for the go-live date or a meeting
        status = CharField(max_length=20, default="open")  # TaskStatus
        customer_visible = pw.BooleanField(default=False)
        note = TextField(default="", limit=1000)  # why it waits or moved
        done_at = UTCDateTimeField(null=True)
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        # schema 11: "playbook" (planned from it, re-planned with it) or "engineer" (#task add: kept as written)
        origin = CharField(max_length=20, default="playbook")

        class Meta:
            indexes = ((("engagement", "key"), True),)


    class SurveyAnswer(BaseModel):
        """A customer contact's answer (0-10) to an engagement's one-question survey; a later answer
        from the same contact replaces the earlier one."""

        engagement = pw.ForeignKeyField(Engagement, backref="survey_answers", on_delete="CASCADE")
        email = CharField(max_length=320)  # lower-case
        score = pw.IntegerField()
        comment = TextField(default="", limit=2000)
        answered_at = UTCDateTimeField()

        class Meta:
            indexes = ((("engagement", "email"), True),)


    class MeetingAttendee(BaseModel):
        meeting = pw.ForeignKeyField(Meeting, backref="attendees", on_delete="CASCADE")
        email = CharField(max_length=320)  # lower-case
        name = CharField(max_length=200, default="")
        role = CharField(max_length=100, default="")  # the playbook role that brought them
        required = pw.BooleanField(default=True)
        partstat = CharField(max_length=20, default="NEEDS-ACTION")
        answered_at = UTCDateTimeField(null=True)  # the DTSTAMP of the answer applied last
        comment = TextField(default="", limit=2000)
        # the time the attendee proposed last (iMIP COUNTER), and when we heard it; #accept takes it
        proposed_start = UTCDateTimeField(null=True)
        proposed_end = UTCDateTimeField(null=True)
        proposed_at = UTCDateTimeField(null=True)

        class Meta:
            indexes = ((("meeting", "email"), True),)


    class TicketEvent(BaseModel):
        """The event log of a ticket: what happened, when, by whom (the SLA clocks read it)."""

        ticket = pw.ForeignKeyField(Ticket, backref="events", on_delete="CASCADE")
        at = UTCDateTimeField()
        kind = CharField(max_length=40)
        actor = CharField(max_length=320, default="")
        detail = TextField(default="{}")  # JSON

        class Meta:
            indexes = ((("ticket", "at"), False),)


    class InboundMessage(BaseModel):
        """A message read from a mailbox: its raw bytes and what whiteglove made of it."""

        dedupe_key = CharField(max_length=1000, unique=True)
        message_id = CharField(max_length=1000, null=True, index=True)
        mailbox = CharField(max_length=200)
        source_key = CharField(max_length=500)
        status = CharField(max_length=20)  # MessageStatus
        kind = CharField(max_length=20, null=True)  # MessageKind; None while quarantined
        ticket = pw.ForeignKeyField(Ticket, null=True, backref="messages", on_delete="SET NULL")
        received_at = UTCDateTimeField()
        date_header = UTCDateTimeField(null=True)
        from_addr = CharField(max_length=320, default="")
        from_name = CharField(max_length=200, default="")
        to_addrs = TextField(default="", limit=4000)
        cc_addrs = TextField(default="", limit=4000)
        subject = TextField(default="", limit=2000)
        in_reply_to = TextField(default="", limit=4000)
        references = TextField(default="", limit=8000)
        body_text = TextField(default="")
        body_html = TextField(null=True)
        attachments = TextField(default="[]")  # JSON list of {filename, content_type, size}
        origin_reason = TextField(default="", limit=2000)  # why it was judged automated or a bounce
        failed_recipients = TextField(default="", limit=4000)  # bounces: space-separated addresses
        size = pw.IntegerField()
        raw = pw.BlobField()
        created_at = UTCDateTimeField()


    class Quarantine(BaseModel):
        """A message that could not be handled, with the reason; its raw bytes are on the message."""

        message = pw.ForeignKeyField(InboundMessage, backref="quarantines", on_delete="CASCADE")
        reason = TextField(limit=2000)
        detail = TextField(default="", limit=2000)
        created_at = UTCDateTimeField()
        released_at = UTCDateTimeField(null=True, index=True)
        discarded_by = CharField(max_length=200, default="")  # released without handling, by whom


    class OutboundMessage(BaseModel):
        """The outbox: a composed message waiting to be sent, or the record that it was."""

        message_id = CharField(max_length=1000, unique=True)
        ticket = pw.ForeignKeyField(Ticket, null=True, backref="outbound", on_delete="SET NULL")
        purpose = CharField(max_length=50)  # e.g. "acknowledgement", "notification"
        recipients = TextField()  # space-separated envelope recipients
        subject = TextField(default="", limit=2000)
        raw = pw.BlobField()
        status = CharField(max_length=20, default="queued", index=True)  # OutboxStatus
        attempts = pw.IntegerField(default=0)
        next_attempt_at = UTCDateTimeField(index=True)
        last_error = TextField(default="", limit=2000)
        created_at = UTCDateTimeField()
        sent_at = UTCDateTimeField(null=True)
        # schema 2
        envelope_from = CharField(max_length=320, default="")
        engagement = pw.ForeignKeyField(Engagement, null=True, backref="outbound", on_delete="SET NULL")
        draft = TextField(default="")  # JSON: what to compose; ``raw`` holds the bytes once composed
        # schema 12: the worker whose claim a ``sending`` row is (host:pid:start); its lease ends at next_attempt_at
        claimed_by = CharField(max_length=300, default="")

        class Meta:
            # schema 15: the sender claims the oldest due rows of one status, an index range in order
            indexes = ((("purpose", "recipients", "created_at"), False), (("status", "next_attempt_at"), False))


    class Refusal(BaseModel):
        """Recipients our SMTP server refused for good, waiting to be told to their engineers."""

        mail = pw.ForeignKeyField(OutboundMessage, backref="refusals", on_delete="CASCADE")
        recipients = TextField()  # space-separated
        said = TextField(limit=2000)  # what the server answered
        created_at = UTCDateTimeField()
        alerted_at = UTCDateTimeField(null=True, index=True)  # when the engineers were told


    class ComponentHealth(BaseModel):
        """Whether one of the worker's connections (the mailbox, the outgoing server) works."""

        name = CharField(primary_key=True, max_length=50)
        failing_since = UTCDateTimeField(null=True)  # None: it works
        last_error = TextField(default="", limit=2000)
        alerted_at = UTCDateTimeField(null=True)  # when the managers were told it fails
        updated_at = UTCDateTimeField()

    class Lease(BaseModel):
        """Schema 13: work that one worker of several does at a time (``intake:MAILBOX``) or once per
        due time (``job:NAME``): who holds it, until when, and when it last ran."""

        name = CharField(primary_key=True, max_length=300)
        holder = CharField(max_length=300, default="")  # a worker's host:pid:start; "" when free
        expires_at = UTCDateTimeField(null=True)  # the holder must renew it before then
        ran_at = UTCDateTimeField(null=True)  # a job's last run (its due time is ran_at + its interval)

    class Setting(BaseModel):
        """Schema 14: values the installation keeps for good, e.g. the key that makes its Message-IDs
        unguessable (``message-id-key``), shared by every worker of the database."""

        name = CharField(primary_key=True, max_length=100)
        value = TextField(default="", limit=2000)

    return Models(
        db, SchemaVersion, MailboxState, IntakeRecord, Account, AccountDomain, Contact, Ticket,
        SlaNotice, Engagement, Meeting, MeetingAttendee, TicketEvent, InboundMessage, Quarantine,
        OutboundMessage, Refusal, ComponentHealth, Task, SurveyAnswer, Lease, Setting
    )
