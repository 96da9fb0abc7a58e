"""Reading contract-closed notices from a CRM or from sales (pure).

A notice says that a contract or SOW is signed ("Closed Won") and describes the customer. Four
shapes are read, first match wins: a JSON attachment, a CSV attachment, an HTML table of
key/value rows, and "Key: value" lines in the text. The keys, their aliases and an example a CRM
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
from datetime import date, datetime
from email.utils import getaddresses
from html.parser import HTMLParser

#: Words that make a message a notice (subject or the start of the text).
_NOTICE = re.compile(
    r"\bclosed[- ]won\b|\bcontract (?:is |has been )?signed\b|\b(?:sow|statement of work) (?:is |has been )?signed\b"
    r"|\bdeal (?:is |has been )?won\b|\bopportunity (?:is |has been )?(?:marked )?won\b",
    re.IGNORECASE,
)

#: Canonical field -> the keys a notice may use for it (compared lower-case, without punctuation).
ALIASES: dict[str, tuple[str, ...]] = {
    "event": ("event", "stage", "status"),
    "account": ("account", "account name", "company", "customer", "customer name"),
    "domains": ("domains", "domain", "email domains", "email domain", "website"),
    "opportunity_id": ("opportunity id", "opportunity", "opp id", "deal id"),
    "contract_id": ("contract id", "contract", "sow", "sow id", "contract number"),
    "close_date": ("close date", "closed", "closed on", "signed", "signature date", "signed on"),
    "tier": ("package", "tier", "onboarding package", "plan", "onboarding tier"),
    "sales_rep": ("sales rep", "account executive", "ae", "owner", "opportunity owner", "sales"),
    "engineer": ("engineer", "onboarding engineer", "solutions engineer", "implementation engineer", "cse"),
    "contacts": ("contact", "contacts", "customer contact"),
    "golive_date": ("go-live", "go live", "golive", "target go-live", "go-live date", "go live date"),
    "timezone": ("timezone", "time zone"),
    "notes": ("notes", "note", "description"),
}
_KEY_TO_FIELD = {alias.replace("-", " "): name for name, aliases in ALIASES.items() for alias in aliases}
_LINE = re.compile(r"^[ \t]*([A-Za-z][A-Za-z \t_-]{0,40}?)[ \t]*:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_ROLE = re.compile(r"(?:;\s*role\s*=\s*|\(\s*)([^();]+?)\s*\)?\s*$", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?:https?://)?(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)/?$", re.IGNORECASE)


@dataclass(frozen=True)
class NoticeContact:
    email: str
    name: str = ""
    role: str = ""


@dataclass(frozen=True)
class Notice:
    """What a contract-closed notice said. ``problems`` lists values that could not be read."""

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
    notes: str = ""
    source: str = "text"  # "json attachment", "csv attachment", "html table" or "text"
    problems: tuple[str, ...] = field(default=())

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
            "timezone": self.timezone, "notes": self.notes, "source": self.source, "problems": list(self.problems),
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
    return [(m.group(1), m.group(2)) for m in _LINE.finditer(text)]


def _from_pairs(pairs: list[tuple[str, str]], source: str) -> Notice | None:
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        name = _KEY_TO_FIELD.get(_normal_key(key))
        if name and value.strip():
            values.setdefault(name, []).append(value.strip())
    return _build({k: v if k == "contacts" else v[0] for k, v in values.items()}, source)


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
    for key, value in data.items():
        name = _KEY_TO_FIELD.get(_normal_key(str(key)))
        if name:
            values[name] = value
    return _build(values, "json attachment")


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
            normal = _normal_key(key)
            if normal in ("contact name", "contact email", "contact role"):
                contact[normal.split()[1]] = value.strip()
                continue
            name = _KEY_TO_FIELD.get(normal)
            if name == "contacts":
                contacts.append(value.strip())
            elif name:
                values.setdefault(name, value.strip())
        if contact.get("email"):
            contacts.append(contact)
    values["contacts"] = contacts
    return _build(values, "csv attachment")


class _TableReader(HTMLParser):
    """Collects the rows of every table as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            if not self.rows:
                self.rows.append([])
            self.rows[-1].append(" ".join("".join(self._cell).split(" ")).strip())
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
    for row in reader.rows:
        if len(row) >= 2 and row[0]:
            key = row[0].rstrip(":").strip()
            for line in row[1].split("\n"):  # a cell may list several contacts, one per line
                if line.strip():
                    pairs.append((key, line.strip()))
    return pairs


# -- values ---------------------------------------------------------------------------------------

def _build(values: dict[str, object], source: str) -> Notice | None:
    account = _text(values.get("account"))
    if not account:
        return None
    problems: list[str] = []
    contacts = _contacts(values.get("contacts"), problems)
    domains = _domains(values.get("domains"), problems)
    if not domains:
        domains = tuple(dict.fromkeys(c.email.rpartition("@")[2] for c in contacts))
    sales_rep = _person(values.get("sales_rep"))
    engineer = _person(values.get("engineer"))
    if values.get("engineer") and engineer is None:
        problems.append(f"engineer: no address in {_text(values.get('engineer'))[:80]!r}")
    return Notice(
        account=account[:200],
        domains=domains,
        contacts=contacts,
        tier=_text(values.get("tier"))[:100] or None,
        opportunity_id=_text(values.get("opportunity_id"))[:200],
        contract_id=_text(values.get("contract_id"))[:200],
        close_date=_date(values.get("close_date"), "close_date", problems),
        sales_rep=sales_rep,
        engineer=engineer.email if engineer else None,
        golive_date=_date(values.get("golive_date"), "golive_date", problems),
        timezone=_text(values.get("timezone")) or None,
        notes=_text(values.get("notes"))[:2000],
        source=source,
        problems=tuple(problems),
    )


def _normal_key(key: str) -> str:
    return " ".join(key.lower().replace("_", " ").replace("-", " ").split())


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("email") or ""
    return " ".join(str(value).split())


def _person(value: object) -> NoticeContact | None:
    """A person from "Name <a@b>", "a@b", or a JSON object with name/email/role."""
    if isinstance(value, dict):
        email = _address(str(value.get("email", "")))
        if email is None:
            return None
        return NoticeContact(email, _text(value.get("name")), _text(value.get("role")))
    text = _text(value)
    role = ""
    match = _ROLE.search(text)
    if match and "@" not in match.group(1):
        role = match.group(1).strip()
        text = text[: match.start()].strip()
    text = text.rstrip(";,").strip()
    pairs = getaddresses([text])
    for name, addr in pairs:
        email = _address(addr)
        if email:
            return NoticeContact(email, name.strip().strip('"'), role)
    if "," in text:  # "Name, email, role" as some CRMs write it
        parts = [p.strip() for p in text.split(",")]
        email = next((_address(p) for p in parts if _address(p)), None)
        if email:
            others = [p for p in parts if _address(p) is None]
            return NoticeContact(email, others[0] if others else "", role or (others[1] if len(others) > 1 else ""))
    return None


def _contacts(value: object, problems: list[str]) -> tuple[NoticeContact, ...]:
    items = value if isinstance(value, list) else ([value] if value else [])
    found: dict[str, NoticeContact] = {}
    for item in items:
        person = _person(item)
        if person is None:
            problems.append(f"contacts: no address in {_text(item)[:80]!r}")
        else:
            found.setdefault(person.email, person)
    return tuple(found.values())


def _domains(value: object, problems: list[str]) -> tuple[str, ...]:
    items = value if isinstance(value, list) else re.split(r"[,;\s]+", _text(value))
    domains: list[str] = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        match = _DOMAIN.match(item)
        if match:
            domains.append(match.group(1).lower())
        else:
            problems.append(f"domains: not a domain {item[:80]!r}")
    return tuple(dict.fromkeys(domains))


def _address(text: str) -> str | None:
    text = text.strip().strip("<>").strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() or c in "<>(),;:\"\\" for c in text):
        return None
    return f"{local}@{domain.lower()}"


_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%B %d, %Y", "%d %b %Y", "%b %d, %Y", "%m/%d/%Y", "%Y/%m/%d")


def _date(value: object, name: str, problems: list[str]) -> date | None:
    text = _text(value)
    if not text:
        return None
    text = text.split("T", 1)[0] if re.match(r"^\d{4}-\d\d-\d\dT", text) else text
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    problems.append(f"{name}: not a date {text[:40]!r}")
    return None


def _attachment_kind(filename: str, content_type: str) -> str | None:
    name, ctype = filename.lower(), content_type.lower()
    if name.endswith(".json") or ctype == "application/json":
        return "json"
    if name.endswith(".csv") or ctype in ("text/csv", "application/csv"):
        return "csv"
    return None
