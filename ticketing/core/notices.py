"""Reading contract-closed notices from a CRM or from sales (pure).

A notice says that a contract or SOW is signed ("Closed Won") and describes the customer. Four
shapes are read, first match wins: a JSON attachment, a CSV attachment, an HTML table of
key/value rows (what CRMs send by default), and "Key: value" lines in the text, where a key
without a value starts a list of people on the lines below it. The keys' CRM wordings and how
values read are in :mod:`ticketing.core.notice_fields`; keys it does not know are kept in
:attr:`Notice.other` for the engineer. The keys, their aliases and an example a CRM
workflow can produce are in README.md ("Contract-closed notices").

Whether a notice is *believed* is not decided here: the caller checks that it came from a trusted
sender (see :mod:`ticketing.core.classify`).
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser

from ticketing.core import notice_fields as fields
from ticketing.core.notice_fields import LABELS, NoticeContact, field_for, normal_key

__all__ = ["Notice", "NoticeContact", "looks_like_notice", "read_notice"]

#: Words that make a message a notice (subject or the start of the text).
_NOTICE = re.compile(
    r"\bclosed[- ]won\b|\bcontract (?:is |has been )?signed\b|\b(?:sow|statement of work) (?:is |has been )?signed\b"
    r"|\bdeal (?:is |has been )?won\b|\bopportunity (?:is |has been )?(?:marked )?won\b",
    re.IGNORECASE,
)

_LINE = re.compile(r"^[ \t]*([A-Za-z][A-Za-z0-9 \t_./()&#'-]{0,40}?)[ \t]*:[ \t]*(.*?)[ \t]*$")
_BULLET = re.compile(r"^[ \t]*(?:[-*\u2022\u2013\u00b7]|\d{1,2}[.)])[ \t]+(.+?)[ \t]*$")
#: Keys of "Key: value" lines that are never a notice's (a forwarded message's headers, links).
_NOT_KEYS = frozenset({"from", "to", "cc", "sent", "subject", "date", "re", "fw", "fwd", "http", "https", "mailto"})
_MAX_OTHER = 30


@dataclass(frozen=True)
class Notice:
    """What a contract-closed notice said. ``problems`` lists values that could not be read;
    ``other`` keeps ``(key, value)`` of the keys no field maps, as the notice wrote them."""

    account: str
    domains: tuple[str, ...] = ()
    contacts: tuple[NoticeContact, ...] = ()
    tier: str | None = None
    opportunity_id: str = ""
    contract_id: str = ""
    close_date: date | None = None
    sales_rep: NoticeContact | None = None
    engineer: str | None = None  # an address
    golive_date: date | None = None
    timezone: str | None = None
    country: str | None = None  # as the notice wrote it: "GB", "United Kingdom"
    notes: str = ""
    source: str = "text"  # "json attachment", "csv attachment", "html table" or "text"
    problems: tuple[str, ...] = field(default=())
    deal_name: str = ""
    amount: str = ""
    other: tuple[tuple[str, str], ...] = ()

    @property
    def reference(self) -> str:
        """The id that names this deal: the contract id, else the opportunity id, else ""."""
        return self.contract_id or self.opportunity_id

    def as_json(self) -> dict:
        return {
            "account": self.account, "domains": list(self.domains), "tier": self.tier,
            "contacts": [vars(c) for c in self.contacts], "opportunity_id": self.opportunity_id,
            "contract_id": self.contract_id, "close_date": self.close_date.isoformat() if self.close_date else None,
            "sales_rep": vars(self.sales_rep) if self.sales_rep else None, "engineer": self.engineer,
            "golive_date": self.golive_date.isoformat() if self.golive_date else None,
            "timezone": self.timezone, "country": self.country, "notes": self.notes, "source": self.source, "problems": list(self.problems),
            "deal_name": self.deal_name, "amount": self.amount, "other": [list(pair) for pair in self.other],
        }


def looks_like_notice(subject: str, text: str) -> bool:
    """Whether the subject or the first lines of the text announce a closed deal."""
    head = f"{subject}\n{text[:2000]}".lower()
    if "won" not in head and "signed" not in head:  # every phrase has one; most mail has neither
        return False
    return bool(_NOTICE.search(subject) or _NOTICE.search(text[:2000]))


def read_notice(subject: str, text: str, html: str | None, attachments: list[tuple[str, str, str]]) -> Notice | None:
    """Read a contract-closed notice; None when the message is not one or names no account.

    ``attachments`` are ``(filename, content_type, text)`` of the message's small text attachments.
    """
    if not looks_like_notice(subject, text):
        return None
    for filename, content_type, body in attachments:
        kind = _attachment_kind(filename, content_type)
        if kind == "json":
            notice = _from_json(body)
        elif kind == "csv":
            notice = _from_csv(body)
        else:
            continue
        if notice is not None:
            return notice
    if html:
        rows = _html_rows(html)
        if rows:
            notice = _from_pairs(rows, "html table")
            if notice is not None:
                return notice
    return _from_pairs(_text_pairs(text), "text")


# -- shapes ---------------------------------------------------------------------------------------

def _text_pairs(text: str) -> list[tuple[str, str]]:
    """``(key, value)`` of each "Key: value" line; a key with no value takes the list below it
    (bulleted lines, or lines holding an address), one pair per line, until a line that is neither."""
    pairs: list[tuple[str, str]] = []
    list_key: str | None = None
    for line in text.splitlines():
        bullet = _BULLET.match(line)
        if list_key and bullet:
            pairs.append((list_key, bullet.group(1)))
            continue
        match = _LINE.match(line)
        if match and not match.group(2).startswith("//"):
            key, value = match.group(1), match.group(2)
            list_key = key if not value else None
            if value:
                pairs.append((key, value))
            continue
        if list_key and "@" in line:
            pairs.append((list_key, line.strip()))
        elif line.strip() or not list_key:
            list_key = None
    return pairs


def _from_pairs(pairs: list[tuple[str, str]], source: str) -> Notice | None:
    values: dict[str, list[str]] = {}
    other: list[tuple[str, str]] = []
    for key, value in pairs:
        value = value.strip()
        if not value:
            continue
        name = field_for(key)
        if name:
            values.setdefault(name, []).append(value)
        elif _kept(key, other):
            other.append((" ".join(key.split()).rstrip(":"), value[:300]))
    single = {k: v if k == "contacts" else v[0] for k, v in values.items()}
    return _build(single, source, tuple(other))


def _kept(key: str, other: list[tuple[str, str]]) -> bool:
    """Whether an unknown key is worth keeping: a few words, not a header or a link."""
    normal = normal_key(key)
    return bool(normal) and normal not in _NOT_KEYS and len(normal.split()) <= 5 and len(other) < _MAX_OTHER


def _from_json(body: str) -> Notice | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]
    if not isinstance(data, dict):
        return None
    values: dict[str, object] = {}
    other: list[tuple[str, str]] = []
    for key, value in data.items():
        name = field_for(str(key))
        if name:
            values[name] = value
        elif isinstance(value, (str, int, float)) and _kept(str(key), other):
            other.append((str(key), str(value)[:300]))
    return _build(values, "json attachment", tuple(other))


def _from_csv(body: str) -> Notice | None:
    """A header row and one row per contact; the account's columns repeat on every row."""
    try:
        rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    except csv.Error:
        return None
    if not rows:
        return None
    values: dict[str, object] = {}
    contacts: list[object] = []
    for row in rows:
        contact: dict[str, str] = {}
        for key, value in row.items():
            if key is None or value is None or not value.strip():
                continue
            normal = normal_key(key)
            if normal in ("contact name", "contact email", "contact role"):
                contact[normal.split()[1]] = value.strip()
                continue
            name = field_for(normal)
            if name == "contacts":
                contacts.append(value.strip())
            elif name:
                values.setdefault(name, value.strip())
        if contact.get("email"):
            contacts.append(contact)
    values["contacts"] = contacts
    return _build(values, "csv attachment")


class _TableReader(HTMLParser):
    """Collects the rows of every table as lists of cell texts; list items, paragraphs and line
    breaks inside a cell become lines."""

    _LINE_TAGS = frozenset({"br", "li", "p", "div", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        #: The rows that are headings (all their cells are <th>), by index.
        self.headings: set[int] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
            self.headings.add(len(self.rows) - 1)
        elif tag in ("td", "th"):
            self._cell = []
            if tag == "td":
                self.headings.discard(len(self.rows) - 1)
        elif tag in self._LINE_TAGS and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            if not self.rows:
                self.rows.append([])
            lines = (" ".join(line.split()) for line in "".join(self._cell).split("\n"))
            self.rows[-1].append("\n".join(line for line in lines if line))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _html_rows(html: str) -> list[tuple[str, str]]:
    reader = _TableReader()
    try:
        reader.feed(html)
        reader.close()
    except AssertionError:  # html.parser still asserts on a few malformed declarations
        return []
    pairs: list[tuple[str, str]] = []
    for index, row in enumerate(reader.rows):
        if len(row) >= 2 and row[0] and "\n" not in row[0] and index not in reader.headings:
            key = row[0].rstrip(":").strip()
            for line in row[1].split("\n"):  # a cell may list several contacts, one per line
                if line.strip():
                    pairs.append((key, line.strip()))
    return pairs


# -- values ---------------------------------------------------------------------------------------

def _build(values: dict[str, object], source: str, other: tuple[tuple[str, str], ...] = ()) -> Notice | None:
    account = fields.text(values.get("account"))
    if not account:
        return None
    problems: list[str] = []
    kept = list(other)
    contacts = _with_primary(fields.contacts(values.get("contacts"), problems), values.get("primary_contact"), problems)
    domains = fields.domains(values.get("domains"), problems)
    if not domains:
        domains = tuple(dict.fromkeys(c.email.rpartition("@")[2] for c in contacts))
    sales_rep = fields.person(values.get("sales_rep"))
    if values.get("sales_rep") and sales_rep is None:
        kept.append((LABELS["sales_rep"], fields.text(values["sales_rep"])[:300]))
    engineer = None
    for name in ("engineer", "account_manager", "success_manager"):  # the engineer, else the TAM, else the CSM
        found = fields.person(values.get(name)) if values.get(name) else None
        if engineer is None and found is not None:
            engineer = found
        elif name != "engineer" and values.get(name):
            kept.append((LABELS[name], fields.text(values[name])[:300]))
    if values.get("engineer") and fields.person(values.get("engineer")) is None:
        problems.append(f"engineer: no address in {fields.text(values.get('engineer'))[:80]!r}")
    return Notice(
        account=account[:200],
        domains=domains,
        contacts=contacts,
        tier=fields.text(values.get("tier"))[:100] or None,
        opportunity_id=fields.text(values.get("opportunity_id"))[:200],
        contract_id=fields.text(values.get("contract_id"))[:200],
        close_date=fields.day(values.get("close_date"), "close_date", problems),
        sales_rep=sales_rep,
        engineer=engineer.email if engineer else None,
        golive_date=fields.day(values.get("golive_date"), "golive_date", problems),
        timezone=fields.text(values.get("timezone")) or None,
        country=fields.text(values.get("country"))[:60] or None,
        notes=fields.text(values.get("notes"))[:2000],
        source=source,
        problems=tuple(problems),
        deal_name=fields.text(values.get("deal_name"))[:200],
        amount=fields.text(values.get("amount"))[:100],
        other=tuple(kept[:_MAX_OTHER]),
    )


def _with_primary(contacts: tuple[NoticeContact, ...], value: object, problems: list[str]) -> tuple[NoticeContact, ...]:
    """The contacts with the primary contact first (role "primary contact" unless the list gives one)."""
    if not value:
        return contacts
    primary = fields.person(value)
    if primary is None:
        problems.append(f"primary_contact: no address in {fields.text(value)[:80]!r}")
        return contacts
    listed = next((c for c in contacts if c.email == primary.email), None)
    role = (listed.role if listed else "") or primary.role or "primary contact"
    merged = NoticeContact(primary.email, primary.name or (listed.name if listed else ""), role)
    return (merged,) + tuple(c for c in contacts if c.email != primary.email)


def _attachment_kind(filename: str, content_type: str) -> str | None:
    name, ctype = filename.lower(), content_type.lower()
    if name.endswith(".json") or ctype == "application/json":
        return "json"
    if name.endswith(".csv") or ctype in ("text/csv", "application/csv"):
        return "csv"
    return None
