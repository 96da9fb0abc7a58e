"""Accounts, their domains and contacts, and onboarding engagements."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Iterable, Sequence

import peewee as pw

from ticketing.config import AccountConfig
from ticketing.core.domain import Account, Contact, Engagement, EngagementStatus


class AccountsMixin:
    db: pw.Database

    def sync_accounts(self, accounts: Sequence[AccountConfig], now: datetime) -> None:
        """Create or update the accounts declared in the configuration (by name).

        What the configuration says wins over what a notice said; contacts and domains are added,
        never removed (a notice may know more).
        """
        with self.db.atomic():
            for config in accounts:
                account_id = self.save_account(
                    name=config.name, tier=config.tier, engineer=config.engineer, timezone=config.timezone,
                    origin="config", now=now,
                )
                self.add_domains(account_id, config.domains)
                for contact in config.contacts:
                    self.save_contact(account_id, contact.email, contact.name, contact.role)

    def save_account(self, *, name: str, tier: str | None, engineer: str | None, timezone: str | None,
                     origin: str, now: datetime) -> int:
        """Create the account called ``name`` or update it; values that are None are left as they are."""
        self.forget_kept("accounts")
        m = self.m
        row = m.Account.get_or_none(pw.fn.LOWER(m.Account.name) == name.lower())
        if row is None:
            return self._insert(m.Account, dict(name=name, tier=tier, engineer=engineer, timezone=timezone or "UTC",
                                                origin=origin, created_at=now, updated_at=now))
        changes = {k: v for k, v in dict(tier=tier, engineer=engineer, timezone=timezone).items() if v is not None}
        if changes:
            m.Account.update(updated_at=now, **changes).where(m.Account.id == row.id).execute()
        return row.id

    def add_domains(self, account_id: int, domains: Iterable[str]) -> None:
        """Give ``domains`` to the account; a domain that belongs to another account stays there."""
        self.forget_kept("accounts")
        m = self.m
        for domain in domains:
            m.AccountDomain.insert(account=account_id, domain=domain.lower()).on_conflict_ignore().execute()

    def save_contact(self, account_id: int | None, email: str, name: str = "", role: str = "",
                     replace: bool = False) -> None:
        """Add a contact, or fill in the name and role of a known one (and tie it to the account);
        ``replace``: the name and role given replace the known ones, and the contact moves to the
        account (an engineer's ``#contact add`` says so)."""
        self.forget_kept("accounts")
        m = self.m
        email = _normal(email)
        row = m.Contact.get_or_none(m.Contact.email == email)
        if row is None:
            query = m.Contact.insert(account=account_id, email=email, name=name, role=role)
            if not isinstance(self.db, pw.PostgresqlDatabase):
                query.execute()
                return
            # another worker may add the same address at this moment (a sales rep of two notices)
            if query.on_conflict(conflict_target=[m.Contact.email], action="IGNORE").execute() is not None:
                return
            row = m.Contact.get(m.Contact.email == email)
        changes = {}
        if name and (replace or not row.name):
            changes["name"] = name
        if role and (replace or not row.role):
            changes["role"] = role
        if account_id and (row.account_id is None or replace):
            changes["account"] = account_id
        if changes:
            m.Contact.update(**changes).where(m.Contact.id == row.id).execute()

    def detach_contacts(self, account_id: int, emails: Iterable[str]) -> None:
        """Take contacts off an account (the CRM no longer lists them); they stay known by address."""
        self.forget_kept("accounts")
        m = self.m
        wanted = [_normal(e) for e in emails]
        if wanted:
            m.Contact.update(account=None).where((m.Contact.account == account_id) & m.Contact.email.in_(wanted)).execute()

    def account_for_address(self, email: str) -> Account | None:
        """The account of ``email``: by a contact with that address, then by its domain."""
        m = self.m
        email = _normal(email)
        found = self.rows("account by contact", lambda: m.Contact.select(m.Contact.account).where(
            (m.Contact.email == "") & m.Contact.account.is_null(False)), email)
        if not found:
            found = self.rows("account by domain", lambda: m.AccountDomain.select(m.AccountDomain.account).where(
                m.AccountDomain.domain == ""), email.rpartition("@")[2])
        return self.get_account(found[0][0]) if found else None

    def get_account(self, account_id: int) -> Account | None:
        """The account with its domains and contacts. Inside a :meth:`transaction` it is read once
        and kept (intake reads a message's account several times); every change to accounts,
        domains or contacts, all made by this class, drops what was kept."""
        kept = self.kept("accounts")
        if kept is None:
            return self._read_account(account_id)
        if account_id not in kept:
            kept[account_id] = self._read_account(account_id)
        return kept[account_id]

    def _read_account(self, account_id: int) -> Account | None:
        m = self.m
        found = self.rows("account", lambda: m.Account.select(
            m.Account.id, m.Account.name, m.Account.engineer, m.Account.tier, m.Account.timezone).where(m.Account.id == 0),
            account_id)
        if not found:
            return None
        row_id, name, engineer, tier, timezone = found[0]
        domains = tuple(d for (d,) in self.rows("account domains", lambda: m.AccountDomain.select(m.AccountDomain.domain)
                                                .where(m.AccountDomain.account == 0).order_by(m.AccountDomain.id), row_id))
        failing = m.Contact.failing_since.python_value
        contacts = tuple(
            Contact(email, name_, role, failing(since))
            for email, name_, role, since in self.rows("account contacts", lambda: m.Contact.select(
                m.Contact.email, m.Contact.name, m.Contact.role, m.Contact.failing_since)
                .where(m.Contact.account == 0).order_by(m.Contact.id), row_id)
        )
        return Account(row_id, name, domains, engineer, tier, timezone, contacts)

    def accounts(self) -> list[Account]:
        m = self.m
        return [a for a in (self.get_account(row.id) for row in m.Account.select(m.Account.id).order_by(m.Account.id)) if a]

    def mark_failing(self, emails: Iterable[str], reason: str, now: datetime) -> list[str]:
        """Mark contacts whose mail bounced for good; unknown addresses become contacts. Returns them."""
        self.forget_kept("accounts")
        m = self.m
        marked = []
        for email in emails:
            email = _normal(email)
            m.Contact.insert(email=email).on_conflict_ignore().execute()
            m.Contact.update(failing_since=now, failure=reason).where(
                (m.Contact.email == email) & m.Contact.failing_since.is_null()
            ).execute()
            marked.append(email)
        return marked

    def contact(self, email: str) -> Contact | None:
        m = self.m
        found = self.rows("contact", lambda: m.Contact.select(m.Contact.email, m.Contact.name, m.Contact.role,
                                                              m.Contact.failing_since).where(m.Contact.email == ""),
                          _normal(email))
        if not found:
            return None
        email, name, role, since = found[0]
        return Contact(email, name, role, m.Contact.failing_since.python_value(since))

    # -- engagements ---------------------------------------------------------------------------

    def find_engagement(self, account_id: int, contract_id: str) -> Engagement | None:
        m = self.m
        row = m.Engagement.get_or_none((m.Engagement.account == account_id) & (m.Engagement.contract_id == contract_id))
        return _engagement(row) if row else None

    def create_engagement(self, *, account_id: int, engineer: str | None, tier: str | None, contract_id: str,
                          close_date: date | None, sales_rep: str, golive_date: date | None, ticket_id: int | None,
                          details: dict, now: datetime) -> int:
        m = self.m
        return self._insert(m.Engagement, dict(
            account=account_id, engineer=engineer, tier=tier, contract_id=contract_id, close_date=close_date,
            sales_rep=sales_rep, golive_date=golive_date, status=EngagementStatus.ACTIVE.value, ticket=ticket_id,
            details=json.dumps(details), created_at=now,
        ))

    def engagement_of_ticket(self, ticket_id: int) -> Engagement | None:
        """The engagement whose hand-off ticket is ``ticket_id``, else the active engagement of the
        ticket's account (an engineer steers it from either)."""
        m = self.m
        row = m.Engagement.get_or_none(m.Engagement.ticket == ticket_id)
        if row is not None:
            return _engagement(row)
        account_id = self.ticket_account_id(ticket_id)
        return self.active_engagement(account_id) if account_id else None

    def active_engagement(self, account_id: int) -> Engagement | None:
        """The account's newest active engagement."""
        m = self.m
        found = self.rows("active engagement", lambda: m.Engagement.select(m.Engagement.id).where(
            (m.Engagement.account == 0) & (m.Engagement.status == "")).order_by(
            m.Engagement.created_at.desc(), m.Engagement.id.desc()).limit(1), account_id, EngagementStatus.ACTIVE.value, 1)
        return self.get_engagement(found[0][0]) if found else None

    def set_golive(self, engagement_id: int, day: date | None) -> None:
        m = self.m
        m.Engagement.update(golive_date=day).where(m.Engagement.id == engagement_id).execute()

    def set_playbook(self, engagement_id: int, name: str | None) -> None:
        m = self.m
        m.Engagement.update(playbook=name).where(m.Engagement.id == engagement_id).execute()

    def set_engagement_engineer(self, engagement_id: int, engineer: str | None) -> None:
        m = self.m
        m.Engagement.update(engineer=engineer).where(m.Engagement.id == engagement_id).execute()

    def engagement_details(self, engagement_id: int) -> dict:
        """What the notice that started (or last updated) the engagement said, as JSON."""
        m = self.m
        row = m.Engagement.get_or_none(m.Engagement.id == engagement_id)
        return json.loads(row.details or "{}") if row else {}

    def set_engagement_details(self, engagement_id: int, details: dict) -> None:
        m = self.m
        m.Engagement.update(details=json.dumps(details)).where(m.Engagement.id == engagement_id).execute()

    def get_engagement(self, engagement_id: int) -> Engagement | None:
        m = self.m
        row = m.Engagement.get_or_none(m.Engagement.id == engagement_id)
        return _engagement(row) if row else None

    def engagements(self) -> list[Engagement]:
        m = self.m
        return [_engagement(row) for row in m.Engagement.select().order_by(m.Engagement.id)]


def _normal(email: str) -> str:
    local, _, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def _engagement(row) -> Engagement:
    return Engagement(
        id=row.id, account=row.account.name, engineer=row.engineer, tier=row.tier, contract_id=row.contract_id,
        close_date=row.close_date, sales_rep=row.sales_rep, golive_date=row.golive_date, ticket_id=row.ticket_id,
        created_at=row.created_at, playbook=row.playbook, account_id=row.account_id,
        status=EngagementStatus(row.status), live_on=row.live_on, signed_off_on=row.signed_off_on,
        signed_off_by=row.signed_off_by, closed_at=row.closed_at,
    )
