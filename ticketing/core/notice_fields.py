"""The fields of a contract-closed notice: the keys CRMs use for them and how their values read (pure).

HubSpot, Salesforce, Pipedrive and Dynamics 365 word their alerts differently ("Company name",
"Account Name", "Organization", "Potential Customer"); :data:`ALIASES` maps each wording to one
field, compared by :func:`normal_key` (case, punctuation, hyphens and underscores do not matter).
People are read from the shapes CRMs and people write them in (see :func:`person`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

#: Canonical field -> the keys a notice may use for it (compared with :func:`normal_key`).
ALIASES: dict[str, tuple[str, ...]] = {
    "event": ("event", "stage", "status", "deal stage", "sales stage", "opportunity stage", "status reason",
              "pipeline stage"),
    "account": ("account", "account name", "company", "company name", "customer", "customer name", "organization",
                "organization name", "organisation", "organisation name", "potential customer", "client", "client name"),
    "domains": ("domains", "domain", "email domains", "email domain", "website", "web site", "customer domain",
                "customer domains", "company domain", "company domain name", "account domain"),
    "opportunity_id": ("opportunity id", "opportunity", "opp id", "deal id", "record id", "opportunity number",
                       "deal number"),
    "deal_name": ("deal name", "opportunity name", "deal", "deal title", "opportunity title", "topic"),
    "contract_id": ("contract id", "contract", "sow", "sow id", "contract number", "sow number", "agreement id",
                    "agreement number"),
    "close_date": ("close date", "closed", "closed on", "signed", "signature date", "signed on", "closed date",
                   "actual close date", "est close date", "won on", "won time", "won date", "date closed"),
    "amount": ("amount", "deal amount", "value", "deal value", "actual revenue", "est revenue", "estimated revenue",
               "total contract value", "tcv", "acv", "annual contract value", "arr"),
    "tier": ("package", "tier", "onboarding package", "plan", "onboarding tier", "onboarding plan", "product",
             "products", "edition", "subscription", "service tier", "support tier"),
    "sales_rep": ("sales rep", "account executive", "ae", "owner", "opportunity owner", "deal owner", "sales",
                  "sales owner", "account owner", "salesperson", "sales representative"),
    "engineer": ("engineer", "onboarding engineer", "solutions engineer", "solution engineer", "sales engineer",
                 "implementation engineer", "cse", "se", "solutions consultant", "solution consultant"),
    "account_manager": ("technical account manager", "tam"),
    "success_manager": ("customer success manager", "csm", "success manager"),
    "primary_contact": ("primary contact", "main contact", "champion", "key contact", "contact person", "person"),
    "contacts": ("contact", "contacts", "customer contact", "customer contacts", "stakeholders", "stakeholder",
                 "additional contacts", "other contacts"),
    "golive_date": ("go live", "golive", "target go live", "go live date", "target go live date", "go live target",
                    "launch date", "target launch date", "launch", "cutover date", "cut over date", "planned go live"),
    "timezone": ("timezone", "time zone"),
    "country": ("country", "country code", "customer country", "billing country"),
    "notes": ("notes", "note", "description", "comments", "next steps"),
}
#: What the engineer's notification calls a field kept among the other values.
LABELS = {"account_manager": "Technical Account Manager", "success_manager": "Customer Success Manager",
          "sales_rep": "Sales rep"}


def normal_key(key: str) -> str:
    """A key as :data:`ALIASES` spells it: lower case, words of letters and digits, one space apart."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", key.lower().replace(".", "")).split())


_KEY_TO_FIELD = {normal_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}


def field_for(key: str) -> str | None:
    """The canonical field a notice's key names, or None for a key no CRM wording maps."""
    return _KEY_TO_FIELD.get(normal_key(key))


# -- people ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NoticeContact:
    email: str
    name: str = ""
    role: str = ""


_ANGLE = re.compile(r"^(?P<before>.*?)<(?P<email>[^<>]+)>(?P<after>.*)$")
_SEPARATORS = re.compile(r"\s+[-\u2013\u2014|]\s+|[,;\t|]")
_ROLE_PREFIX = re.compile(r"^\s*role\s*[=:]\s*", re.IGNORECASE)


def person(value: object) -> NoticeContact | None:
    """A person from ``Name <a@b>`` followed by ``, Role``, ``(Role)`` or ``; role=Role``; from
    ``Name - Role - a@b`` or ``Name, a@b, Role`` (any order: the address is the part that is one);
    from a bare address; or from a JSON object with name, email and role. None without an address."""
    if isinstance(value, dict):
        email = address(str(value.get("email", "")))
        return NoticeContact(email, text(value.get("name")), text(value.get("role"))) if email else None
    line = text(value)
    match = _ANGLE.match(line)
    if match:
        email = address(match["email"])
        if email is None:
            return None
        name = match["before"].strip(" \"',;-").strip()
        role = _ROLE_PREFIX.sub("", match["after"].strip(" ,;-\u2013\u2014|").strip().strip("()")).strip()
        return NoticeContact(email, name, role)
    parts = [_ROLE_PREFIX.sub("", p).strip().strip("()\"'").strip() for p in _SEPARATORS.split(line)]
    email = next((address(p) for p in parts if address(p)), None)
    if email is None:
        return None
    others = [p for p in parts if p and address(p) is None]
    return NoticeContact(email, others[0] if others else "", others[1] if len(others) > 1 else "")


def contacts(value: object, problems: list[str]) -> tuple[NoticeContact, ...]:
    """The people of a list (or one value); each without an address is reported, each address kept once."""
    items = value if isinstance(value, list) else ([value] if value else [])
    found: dict[str, NoticeContact] = {}
    for item in items:
        found_person = person(item)
        if found_person is None:
            problems.append(f"contacts: no address in {text(item)[:80]!r}")
        else:
            found.setdefault(found_person.email, found_person)
    return tuple(found.values())


def address(value: str) -> str | None:
    """``value`` as an address (domain in lower case), or None when it is not one."""
    value = value.strip().strip("<>").strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() or c in "<>(),;:\"\\" for c in value):
        return None
    return f"{local}@{domain.lower()}"


# -- other values ---------------------------------------------------------------------------------

_DOMAIN = re.compile(r"^(?:https?://)?(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)/?$", re.IGNORECASE)


def text(value: object) -> str:
    """A value as one line of text ("" for None; a JSON person's name, else address)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("email") or ""
    return " ".join(str(value).split())


def domains(value: object, problems: list[str]) -> tuple[str, ...]:
    items = value if isinstance(value, list) else re.split(r"[,;\s]+", text(value))
    found: list[str] = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        match = _DOMAIN.match(item)
        if match:
            found.append(match.group(1).lower())
        else:
            problems.append(f"domains: not a domain {item[:80]!r}")
    return tuple(dict.fromkeys(found))


_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%B %d, %Y", "%B %d %Y", "%d %b %Y", "%b %d, %Y", "%b %d %Y", "%m/%d/%Y",
                 "%Y/%m/%d", "%d-%b-%Y", "%d.%m.%Y")
_WEEKDAY = re.compile(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE)
_TIME_OF_DAY = re.compile(r"(?:[ T,]+(?:at\s+)?\d{1,2}:\d\d(?::\d\d)?(?:\.\d+)?\s*(?:[ap]\.?m\.?)?\s*(?:Z|[+-]\d\d:?\d\d|[A-Z]{2,5})?)$",
                         re.IGNORECASE)


def day(value: object, name: str, problems: list[str]) -> date | None:
    """A date written ISO, ``16 November 2026``, ``Nov 16, 2026``, ``11/16/2026`` (US order) and the
    like, with or without a weekday before and a time after; otherwise None and a problem."""
    raw = text(value)
    if not raw:
        return None
    cleaned = _TIME_OF_DAY.sub("", _WEEKDAY.sub("", raw)).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    problems.append(f"{name}: not a date {raw[:40]!r}")
    return None
