"""The help desk of a test: a store, intake with the full help desk of a configuration, and an
in-memory mailbox, with a ``now`` that moves on demand."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from mailer import parse_message
from support.fakes import FakeSource
from support.mail import make_message
from ticketing.app.bootstrap import build_desk
from ticketing.config import config_from_dict
from ticketing.files.templates import Renderer
from ticketing.services.intake import Intake
from ticketing.services.outbox import message_bytes
from ticketing.store import SqlStore

ROOT = Path(__file__).resolve().parents[2]
# Wednesday 18 November 2026, 08:00 in Los Angeles: inside Priya's hours, after Tom's in Berlin.
NOW = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)
SUPPORT = "support@northwind.example"

CONFIG = {
    "mailbox": {"backend": "maildir", "path": str(ROOT / "examples/inbox")},
    "support": {"address": SUPPORT, "name": "Northwind Support", "acknowledgements_per_hour": 2},
    "security": {"trusted_notice_senders": ["crm@northwind.example"]},
    "priorities": {"rules": [{"priority": "P0", "keywords": ["outage"]}]},
    "calendars": [
        {"name": "us-pacific", "timezone": "America/Los_Angeles", "holidays": "US"},
        {"name": "eu", "timezone": "Europe/Berlin"},
    ],
    "managers": [{"email": "dana@northwind.example", "name": "Dana Whitfield"}],
    "engineers": [
        {"email": "priya@northwind.example", "name": "Priya Raman", "calendar": "us-pacific", "manager": "dana@northwind.example"},
        {"email": "tom@northwind.example", "name": "Tom Becker", "calendar": "eu", "manager": "dana@northwind.example"},
    ],
    "accounts": [{"name": "Globex", "domains": ["globex.example"], "engineer": "priya@northwind.example",
                  "contacts": [{"email": "bob@globex.example", "name": "Bob", "role": "IT"}]}],
}

class Desk:
    """A store, an intake with the full help desk, and an in-memory mailbox; ``now`` moves on demand."""

    def __init__(self, store: SqlStore, config: dict):
        self.store = store
        self.config = config_from_dict(config)
        self.now = NOW
        with store.transaction():
            store.sync_accounts(self.config.accounts, NOW)
        self.intake = Intake(store, lambda: self.now, build_desk(self.config, store))
        self.source = FakeSource()

    def receive(self, raw: bytes, after: timedelta = timedelta(minutes=1)):
        self.now += after
        self.source.add(raw, received_at=self.now)
        return self.intake.poll(self.source)

    def mail(self, purpose: str | None = None, to: str | None = None):
        """Queued mail, parsed: [(OutgoingMail, ParsedMessage)]."""
        found = []
        for mail in self.store.outbox():
            if (purpose is None or mail.purpose == purpose) and (to is None or to in mail.recipients):
                found.append((mail, parse_message(message_bytes(self.store, mail.id, Renderer()))))
        return found


SLA = {
    "default_policy": "enterprise",
    "warn_at": [50, 80],
    "escalate_after_minutes": 60,
    "escalation_path": ["dana@northwind.example", "product@northwind.example"],
    "policies": [{"name": "enterprise", "targets": [
        {"priority": "P0", "first_response": "2h", "resolution": "8h", "clock": "24x7"},
        {"priority": "P1", "first_response": "2h", "resolution": "8h", "clock": "24x7"},
        {"priority": "P3", "first_response": "4h", "resolution": "16h", "clock": "us-pacific"},
    ]}],
}
# Wednesday 18 November 2026, 08:00 in Los Angeles.
WED_8AM = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)


#: The CRM's Closed Won notice for Acme (Enterprise, New York, Priya), as the onboarding tests start it.
NOTICE = """Closed Won.

Account: Acme Corporation
Domains: acme.example
Contract ID: SOW-7781
Close Date: 2026-11-17
Package: Enterprise
Timezone: America/New_York
Sales Rep: Sam Carter <sam@northwind.example>
Engineer: Priya Raman <priya@northwind.example>
Contact: Jane Doe <jane@acme.example>; role=project lead
Contact: Marcus Lee <marcus@acme.example>; role=IT
"""


def start_engagement(desk: Desk, body: str = NOTICE):
    """The CRM's notice arrives; return the one engagement it started."""
    desk.receive(make_message(sender="CRM <crm@northwind.example>", subject="Closed Won: Acme", message_id="<n1@crm>",
                              body=body))
    [engagement] = desk.store.engagements()
    return engagement
