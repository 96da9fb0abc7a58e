"""The peewee models. Private to the storage layer: only ``store.py`` and ``schema.py`` import them.

Every timestamp is stored as UTC (naive in the database, aware in Python).
"""
from __future__ import annotations

from datetime import datetime, timezone

import peewee as pw

database = pw.DatabaseProxy()


class UTCDateTimeField(pw.DateTimeField):
    """A datetime stored as naive UTC and read back as aware UTC."""

    def db_value(self, value):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC field")
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """One row: the schema version the database is at."""

    version = pw.IntegerField()

    class Meta:
        table_name = "wg_schema"


class MailboxState(BaseModel):
    """Where intake stopped in one mailbox (IMAP: ``UIDVALIDITY:UID``)."""

    name = pw.CharField(primary_key=True, max_length=200)
    cursor = pw.CharField(null=True, max_length=200)
    updated_at = UTCDateTimeField()


class IntakeRecord(BaseModel):
    """One message of one mailbox that intake has handled, and whether the server knows it yet."""

    mailbox = pw.CharField(max_length=200)
    key = pw.CharField(max_length=500)
    outcome = pw.CharField(max_length=20)  # IntakeOutcome
    acked = pw.BooleanField(default=False)
    created_at = UTCDateTimeField()

    class Meta:
        indexes = ((("mailbox", "key"), True), (("mailbox", "acked"), False))


class Account(BaseModel):
    """A customer company: declared in the configuration or created from a contract-closed notice."""

    name = pw.CharField(max_length=200, unique=True)
    tier = pw.CharField(max_length=100, null=True)
    engineer = pw.CharField(max_length=320, null=True)  # the assigned engineer's address
    timezone = pw.CharField(max_length=64, default="UTC")
    origin = pw.CharField(max_length=20)  # "config" or "notice"
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class AccountDomain(BaseModel):
    account = pw.ForeignKeyField(Account, backref="domains", on_delete="CASCADE")
    domain = pw.CharField(max_length=253, unique=True)  # lower-case


class Contact(BaseModel):
    """A person at a customer; ``failing_since`` is set when mail to them bounced for good."""

    account = pw.ForeignKeyField(Account, backref="contacts", null=True, on_delete="SET NULL")
    email = pw.CharField(max_length=320, unique=True)  # domain lower-cased
    name = pw.CharField(max_length=200, default="")
    role = pw.CharField(max_length=100, default="")
    failing_since = UTCDateTimeField(null=True)
    failure = pw.TextField(default="")


class Ticket(BaseModel):
    kind = pw.CharField(max_length=30)
    status = pw.CharField(max_length=20, index=True)
    priority = pw.CharField(max_length=4)
    subject = pw.TextField()
    requester = pw.CharField(max_length=320, index=True)
    requester_name = pw.CharField(max_length=200, default="")
    created_at = UTCDateTimeField(index=True)
    updated_at = UTCDateTimeField()
    # schema 2
    account = pw.ForeignKeyField(Account, null=True, backref="tickets", on_delete="SET NULL")
    assignee = pw.CharField(max_length=320, null=True)
    assigned_at = UTCDateTimeField(null=True)
    review = pw.BooleanField(default=False)  # flagged for a person to look at (an untrusted notice)
    reasons = pw.TextField(default="[]")  # JSON: why it was classified so
    assignment = pw.TextField(default="{}")  # JSON: why it went to its assignee
    cutover_date = pw.DateField(null=True)  # go-live intents: the intended cut-over, a local date
    cutover_text = pw.TextField(default="")
    refers_to = pw.IntegerField(null=True)  # a ticket opened by a stranger's reply to another
    first_response_at = UTCDateTimeField(null=True)
    resolved_at = UTCDateTimeField(null=True)
    # SLA: derived from the event log (ticketing.core.sla), stored for fast queries
    sla_policy = pw.CharField(max_length=100, null=True)
    first_response_due = UTCDateTimeField(null=True)
    resolution_due = UTCDateTimeField(null=True)
    first_response_state = pw.CharField(max_length=20, default="")  # running | paused | met | breached
    resolution_state = pw.CharField(max_length=20, default="")
    next_sla_check = UTCDateTimeField(null=True, index=True)  # when the sweep must look at it next

    class Meta:
        # Routing asks each engineer's last assignment: the newest row of an index range.
        indexes = ((("assignee", "assigned_at"), False), (("assignee", "status"), False))


class SlaNotice(BaseModel):
    """A warning, breach notice or escalation sent about a ticket's clock: each is sent once."""

    ticket = pw.ForeignKeyField(Ticket, backref="sla_notices", on_delete="CASCADE")
    clock = pw.CharField(max_length=30)  # first_response | resolution | next_response
    kind = pw.CharField(max_length=30)  # warning-50 | warning-80 | breach | escalation-1 ...
    recipient = pw.CharField(max_length=320)
    due_at = UTCDateTimeField()  # the clock's due time the notice was about
    sent_at = UTCDateTimeField()

    class Meta:
        indexes = ((("ticket", "clock", "kind"), True),)


class Engagement(BaseModel):
    """An onboarding engagement, started by a contract-closed notice."""

    account = pw.ForeignKeyField(Account, backref="engagements", on_delete="CASCADE")
    engineer = pw.CharField(max_length=320, null=True)
    tier = pw.CharField(max_length=100, null=True)
    contract_id = pw.CharField(max_length=200, default="")
    close_date = pw.DateField(null=True)
    sales_rep = pw.CharField(max_length=320, default="")
    golive_date = pw.DateField(null=True)
    status = pw.CharField(max_length=20, default="active")
    ticket = pw.ForeignKeyField(Ticket, null=True, backref="engagements", on_delete="SET NULL")
    details = pw.TextField(default="{}")  # JSON: everything the notice said
    created_at = UTCDateTimeField()
    playbook = pw.CharField(max_length=100, null=True)

    class Meta:
        indexes = ((("account", "contract_id"), True),)


class Meeting(BaseModel):
    """One occurrence of a playbook meeting of an engagement, and its calendar identity."""

    engagement = pw.ForeignKeyField(Engagement, backref="meetings", on_delete="CASCADE")
    key = pw.CharField(max_length=100)  # the playbook's key; repeats add "#2", "#3" ...
    title = pw.TextField(default="")
    description = pw.TextField(default="")
    uid = pw.CharField(max_length=255, unique=True)  # iCalendar UID: made once, never changed
    sequence = pw.IntegerField(default=0)  # raised on every change sent and on cancel
    start = UTCDateTimeField(null=True, index=True)
    end = UTCDateTimeField(null=True)
    status = pw.CharField(max_length=20)  # planned | unplaced | cancelled
    note = pw.TextField(default="")  # why it is unplaced, or a warning about its time
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        indexes = ((("engagement", "key"), True),)


class MeetingAttendee(BaseModel):
    meeting = pw.ForeignKeyField(Meeting, backref="attendees", on_delete="CASCADE")
    email = pw.CharField(max_length=320)  # lower-case
    name = pw.CharField(max_length=200, default="")
    role = pw.CharField(max_length=100, default="")  # the playbook role that brought them
    required = pw.BooleanField(default=True)
    partstat = pw.CharField(max_length=20, default="NEEDS-ACTION")
    answered_at = UTCDateTimeField(null=True)  # the DTSTAMP of the answer applied last
    comment = pw.TextField(default="")

    class Meta:
        indexes = ((("meeting", "email"), True),)


class TicketEvent(BaseModel):
    """The event log of a ticket: what happened, when, by whom (the SLA clocks read it)."""

    ticket = pw.ForeignKeyField(Ticket, backref="events", on_delete="CASCADE")
    at = UTCDateTimeField()
    kind = pw.CharField(max_length=40)
    actor = pw.CharField(max_length=320, default="")
    detail = pw.TextField(default="{}")  # JSON

    class Meta:
        indexes = ((("ticket", "at"), False),)


class InboundMessage(BaseModel):
    """A message read from a mailbox: its raw bytes and what whiteglove made of it."""

    dedupe_key = pw.CharField(max_length=1000, unique=True)
    message_id = pw.CharField(max_length=1000, null=True, index=True)
    mailbox = pw.CharField(max_length=200)
    source_key = pw.CharField(max_length=500)
    status = pw.CharField(max_length=20)  # MessageStatus
    kind = pw.CharField(max_length=20, null=True)  # MessageKind; None while quarantined
    ticket = pw.ForeignKeyField(Ticket, null=True, backref="messages", on_delete="SET NULL")
    received_at = UTCDateTimeField()
    date_header = UTCDateTimeField(null=True)
    from_addr = pw.CharField(max_length=320, default="")
    from_name = pw.CharField(max_length=200, default="")
    to_addrs = pw.TextField(default="")
    cc_addrs = pw.TextField(default="")
    subject = pw.TextField(default="")
    in_reply_to = pw.TextField(default="")
    references = pw.TextField(default="")
    body_text = pw.TextField(default="")
    body_html = pw.TextField(null=True)
    attachments = pw.TextField(default="[]")  # JSON list of {filename, content_type, size}
    origin_reason = pw.TextField(default="")  # why it was judged automated or a bounce
    failed_recipients = pw.TextField(default="")  # bounces: space-separated addresses
    size = pw.IntegerField()
    raw = pw.BlobField()
    created_at = UTCDateTimeField()


class Quarantine(BaseModel):
    """A message that could not be handled, with the reason; its raw bytes are on the message."""

    message = pw.ForeignKeyField(InboundMessage, backref="quarantines", on_delete="CASCADE")
    reason = pw.TextField()
    detail = pw.TextField(default="")
    created_at = UTCDateTimeField()
    released_at = UTCDateTimeField(null=True, index=True)


class OutboundMessage(BaseModel):
    """The outbox: a composed message waiting to be sent, or the record that it was."""

    message_id = pw.CharField(max_length=1000, unique=True)
    ticket = pw.ForeignKeyField(Ticket, null=True, backref="outbound", on_delete="SET NULL")
    purpose = pw.CharField(max_length=50)  # e.g. "acknowledgement", "notification"
    recipients = pw.TextField()  # space-separated envelope recipients
    subject = pw.TextField(default="")
    raw = pw.BlobField()
    status = pw.CharField(max_length=20, default="queued", index=True)  # queued | sent | failed
    attempts = pw.IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(index=True)
    last_error = pw.TextField(default="")
    created_at = UTCDateTimeField()
    sent_at = UTCDateTimeField(null=True)
    # schema 2
    envelope_from = pw.CharField(max_length=320, default="")
    engagement = pw.ForeignKeyField(Engagement, null=True, backref="outbound", on_delete="SET NULL")
    draft = pw.TextField(default="")  # JSON: what to compose; ``raw`` holds the bytes once composed

    class Meta:
        indexes = ((("purpose", "recipients", "created_at"), False),)


MODELS = [
    SchemaVersion, MailboxState, IntakeRecord, Account, AccountDomain, Contact, Ticket, SlaNotice, Engagement,
    Meeting, MeetingAttendee, TicketEvent, InboundMessage, Quarantine, OutboundMessage,
]
