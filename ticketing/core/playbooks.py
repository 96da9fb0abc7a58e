"""Onboarding playbooks: the meetings and mail an engagement gets, read from ``playbooks/*.toml`` (pure).

One TOML file per playbook; ``playbooks/README.md`` has a full example. The schema::

    name = "enterprise-onboarding"   # required; equals the file name without .toml ([a-z0-9_-])
    title = "…"                      # required
    source = "000_….txt"             # required: the document in ../shared/playbook-sources it follows
    tiers = ["Enterprise"]           # required: packages it serves (case-insensitive, whitespace-normalised);
                                     # "*" makes it the fallback; one tier belongs to one playbook only
    sla_policy = "enterprise"        # optional: an SLA policy's name
    length_days = 60                 # required: planned length in business days (>= 1)
    phases = ["setup", "go-live"]    # optional, for display; a meeting's phase must be one of them

    [[emails]]                       # all keys required but cc
    key = "welcome"                  # unique among the emails ([a-z0-9_-])
    template = "welcome"             # templates/welcome.txt and templates/welcome.html
    to = ["customer:all"]            # roles (below); cc = [...] likewise
    anchor = "start"                 # "start" (contract closed) or "golive"
    offset_days = 0                  # business days after (negative: before) the anchor

    [[meetings]]                     # phase, optional, preferred_time, description, repeat are optional
    key = "kickoff"                  # unique among the meetings ([a-z0-9_-])
    title = "Kick-off: {{ account }}"              # one line of Jinja2
    duration_minutes = 30                          # 1 to 480
    attendees = ["engineer", "customer:all"]       # must include "engineer", who organises every meeting
    optional = ["manager"]                         # OPT-PARTICIPANT; none also in attendees
    anchor = "start"                 # "start", "golive" or "meeting:<key>" (its first occurrence)
    window = [1, 5]                  # earliest and latest business day relative to the anchor's day
    preferred_time = "10:00"         # HH:MM on the engineer's calendar
    description = "Agenda: …"        # Jinja2
    repeat = { every_days = 5, count = 4 }         # count occurrences in all, every_days apart
    phase = "setup"
    internal = false                 # true: ours alone (no customer roles), never in the customer's mail
    closes = false                   # true: the closing meeting; no customer meeting is placed after it
    after = ["developer-workflow"]   # meetings it must follow (each one's every occurrence), besides its anchor

Tasks (``[[tasks]]``: key, name, owner, anchor, offset_days; phase, depends_on, customer_visible
optional) are documented and checked in :mod:`ticketing.files.playbook_tasks`.
Success targets (``[success]``: max_weeks, min_survey, tasks_on_time_percent, required_meetings, all
optional) are checked in :mod:`ticketing.files.playbook_success` and measured by :mod:`ticketing.core.metrics`.

Top level, also optional: ``calendar`` (a table ``{ timezone = "America/Los_Angeles", hours =
"08:00-17:00", days = "mon-fri", holidays = "US" }`` or the name of a ``[[calendars]]`` entry) binds
every meeting inside it as well as the engineer's hours, and business days are counted on it;
``max_customer_meetings_per_day`` overrides ``[onboarding]``'s.

Day 0 is the anchor's own day. Roles: ``engineer``, ``manager``, ``project_manager``, ``sales_rep``,
``customer:all`` and ``customer:<role>`` (the account's contacts with that role); case, spaces,
underscores and hyphens do not matter, and they are kept in the canonical spelling
(``customer:Project Lead`` becomes ``customer:project-lead``; compare contacts with :func:`role_key`).
Titles and descriptions may use only the variables of :data:`TEXT_CONTEXT`.

A meeting whose anchors lead to ``golive`` (:meth:`Playbook.root_anchor`) can be planned only once
the go-live date is known. Windows of meetings rooted at ``start`` must not reach before the start
nor, with their repeats, past ``length_days``.

Nothing here reads a file or the clock: :mod:`ticketing.files.playbooks` reads the TOML, checks every
key of it and builds these values; its problems are :class:`~ticketing.errors.Problem` values keyed
``playbooks/NAME.toml: meetings[2].window``, each with a fix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Sequence, TypeVar

from ticketing.config import CalendarConfig
from ticketing.core.success import SuccessTargets
from ticketing.core.surveys import SurveySpec
from ticketing.core.tasks import TaskSpec

C = TypeVar("C")  # a contact: anything with a ``role``

INTERNAL_ROLES = ("engineer", "manager", "project_manager", "sales_rep")
ANCHORS = ("start", "golive")
FALLBACK_TIER = "*"
MAX_DURATION_MINUTES = 8 * 60
#: The variables a meeting's title and description are rendered with.
TEXT_CONTEXT = ("account", "engineer_name", "customer_name", "golive_date", "sales_rep_name")

_CUSTOMER_ROLE = re.compile(r"^[^\W_]+(-[^\W_]+)*$")


#: How often a playbook may send the customer a check-point mail.
CHECKPOINT_MAILS = ("weekly",)


@dataclass(frozen=True)
class Window:
    earliest: int
    latest: int


@dataclass(frozen=True)
class MeetingSpec:
    key: str
    title: str
    duration: timedelta
    attendees: tuple[str, ...]
    optional: tuple[str, ...]
    anchor: str
    window: Window
    preferred_time: time | None
    description: str
    phase: str | None
    repeat_every: int | None
    repeat_count: int  # 1 when the meeting does not repeat
    #: Ours alone (a post-mortem): no customer role attends, and the customer's mail never lists it.
    internal: bool = False
    #: The engagement's closing meeting with the customer: no customer meeting is placed after it.
    closes: bool = False
    location: str = ""  # where it is held, or its join link, unless the engineer says otherwise (#location)
    #: Meetings it must start after (every occurrence of each), whatever its window says: a debrief
    #: after the developer consultation. The planner keeps to it or tells the engineer why not.
    after: tuple[str, ...] = ()

    @property
    def with_customer(self) -> bool:
        """Whether customers attend: then it must fit their working week and counts towards their day's limit."""
        return not self.internal and any(r.startswith("customer:") for r in (*self.attendees, *self.optional))

    @property
    def anchor_meeting(self) -> str | None:
        """The key of the meeting this one is anchored on, or None for "start" and "golive"."""
        return self.anchor.removeprefix("meeting:") if self.anchor.startswith("meeting:") else None

    @property
    def follows(self) -> tuple[str, ...]:
        """The meetings planned before this one: its anchor meeting, then those of ``after``."""
        return tuple(dict.fromkeys(filter(None, (self.anchor_meeting, *self.after))))


@dataclass(frozen=True)
class EmailSpec:
    key: str
    template: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    anchor: str
    offset_days: int


@dataclass(frozen=True)
class Playbook:
    name: str
    title: str
    source: str
    tiers: tuple[str, ...]
    sla_policy: str | None
    length_days: int
    phases: tuple[str, ...]
    emails: tuple[EmailSpec, ...]
    meetings: tuple[MeetingSpec, ...]
    path: Path
    #: The business calendar its meetings must fall inside: a table read into a CalendarConfig, or the
    #: name of a ``[[calendars]]`` entry; None: the engineer's alone.
    calendar: CalendarConfig | str | None = None
    #: At most this many meetings with the customer a day (None: ``[onboarding]``'s).
    max_customer_meetings_per_day: int | None = None
    #: What must be done, by whom and by when (:mod:`ticketing.core.tasks`).
    tasks: tuple[TaskSpec, ...] = ()
    #: A check-point mail to the customer: "weekly", or None (:data:`CHECKPOINT_MAILS`).
    checkpoint_mail: str | None = None
    #: What counts as a success (``[success]``, measured by :mod:`ticketing.core.metrics`); no targets by default.
    success: SuccessTargets = SuccessTargets()
    #: The 0-10 survey and when it goes (:mod:`ticketing.core.surveys`); None: no survey.
    survey: SurveySpec | None = None
    #: Whether the customer gets a summary when the engagement closes (the engineer and managers always do).
    customer_summary: bool = False

    def meeting(self, key: str) -> MeetingSpec:
        """The meeting called ``key``. Raises KeyError."""
        for spec in self.meetings:
            if spec.key == key:
                return spec
        raise KeyError(f"playbook {self.name} has no meeting {key!r}")

    def order(self) -> list[MeetingSpec]:
        """The meetings, each after the meetings it follows (its anchor, its ``after``), otherwise in file order.

        Raises ValueError for anchors or ``after`` in a cycle or on unknown meetings (never for a loaded playbook).
        """
        done: set[str] = set()
        ordered: list[MeetingSpec] = []
        pending = list(self.meetings)
        while pending:
            ready = next((s for s in pending if all(k in done for k in s.follows)), None)
            if ready is None:
                raise ValueError(f"playbook {self.name}: the anchors of {', '.join(s.key for s in pending)} never resolve")
            pending.remove(ready)
            done.add(ready.key)
            ordered.append(ready)
        return ordered

    def root_anchor(self, key: str) -> str:
        """"start" or "golive": where the chain of anchors of meeting ``key`` ends."""
        spec = self.meeting(key)
        for _ in self.meetings:
            if spec.anchor_meeting is None:
                return spec.anchor
            spec = self.meeting(spec.anchor_meeting)
        raise ValueError(f"playbook {self.name}: the anchors of {key} form a cycle")


def playbook_for_tier(playbooks: dict[str, Playbook], tier: str | None, default: str | None = None) -> Playbook | None:
    """The playbook serving ``tier``, else the ``default`` playbook (by name), else the one whose
    tiers include "*", else None.

    A tier matches when it equals ``tier`` (case-insensitive, whitespace-normalised), else when its
    words appear together in ``tier``'s words (:func:`tier_words`: case, punctuation, hyphen or
    space do not matter), so that "Enterprise (white-glove onboarding)" is served by "White Glove".
    Of several, the tier with the most words wins ("White Glove" over "Enterprise"), then the one
    named earliest in ``tier``, then the playbook first in name order.
    """
    wanted = tier_key(tier or "")
    words = tier_words(tier or "")
    fallback = None
    best: tuple[int, int, str] | None = None
    found = None
    for name in sorted(playbooks):
        playbook = playbooks[name]
        keys = {tier_key(t) for t in playbook.tiers}
        if wanted and wanted in keys:
            return playbook
        if fallback is None and FALLBACK_TIER in keys:
            fallback = playbook
        for served in playbook.tiers:
            at = _phrase_at(tier_words(served), words)
            rank = (-len(tier_words(served)), at, name)
            if at is not None and (best is None or rank < best):
                best, found = rank, playbook
    if found is not None:
        return found
    return playbooks.get(default or "") or fallback


def tier_words(text: str) -> tuple[str, ...]:
    """The words of a tier or package, case-folded: "QuickStart-Advanced (Default)" → quickstart, advanced, default."""
    return tuple(re.findall(r"[^\W_]+", text.casefold()))


def _phrase_at(phrase: tuple[str, ...], words: tuple[str, ...]) -> int | None:
    """Where the words of ``phrase`` appear together in ``words``, or None."""
    if not phrase:
        return None
    for start in range(len(words) - len(phrase) + 1):
        if words[start:start + len(phrase)] == phrase:
            return start
    return None


def role_key(text: str) -> str:
    """A role in the form playbooks compare: lower case, runs of spaces, "_" and "-" as one "-".

    ``"customer:" + role_key(contact.role)`` is the role a contact answers to ("Project Lead" → "project-lead").
    """
    return re.sub(r"[\s_-]+", "-", text.strip().lower()).strip("-")


def contacts_in_role(role: str, contacts: Sequence[C]) -> list[C]:
    """The contacts a customer role names: all of them for ``customer:all``, else those whose role's
    :func:`role_key` is the one after ``customer:``."""
    wanted = role.partition(":")[2]
    return [c for c in contacts if wanted == "all" or role_key(c.role) == wanted]


def canonical_role(text: str) -> str | None:
    """The canonical spelling of an attendee role ("Sales Rep" → "sales_rep"), or None when it is not one."""
    if text.strip().lower().startswith("customer:"):
        role = role_key(text.strip()[len("customer:"):])
        return f"customer:{role}" if _CUSTOMER_ROLE.match(role) else None
    key = role_key(text)
    return next((r for r in INTERNAL_ROLES if role_key(r) == key), None)


def tier_key(tier: str) -> str:
    """A tier in the form playbooks compare: case-folded, runs of whitespace as one space."""
    return " ".join(tier.split()).casefold()
