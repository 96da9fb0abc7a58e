"""Does a customer's mail say they *are* live (pure)? The go-live milestone as the customer tells it.

A go-live intent (:mod:`ticketing.core.golive`) looks ahead; this looks back: "we are live", "we're
now live in production", "we went live this morning", "we have gone live", "the cut-over is
complete", "we launched yesterday". Whiteglove does not take the customer's word as the milestone:
the engineer is asked to confirm it with ``#live`` (see README, "Milestones").

Not a claim: a question ("are we live?"), a condition or a future ("once we are live", "when we go
live", "before we're live", "we will be live on Friday"), a negation ("we are not live yet", "still
not live"), a claim about something else ("the new site went live in 2019" is read only with "we"
or "our" before it), or quoted history (the caller passes only the new text).

The day: "today", "this morning/afternoon", "tonight", "last night", "yesterday", a weekday (the
latest one on or before the received date) or a date not after the received date; with no day, the
received date (local). A date after the received date is a plan, not a claim.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ticketing.core.dates import find_dates
from ticketing.core.folding import may_contain

__all__ = ["WentLive", "detect_went_live"]

_WE = r"(?:we|we've|we're|we\s+are|we\s+have|our\s+(?:team|company|site|platform|rollout|users|instance|system|org(?:anisation|anization)?)\s+(?:is|are|has|have))"
_CLAIM = re.compile(
    r"\b(?:"
    rf"{_WE}\s+(?:now\s+|finally\s+|officially\s+|successfully\s+|just\s+)*(?:fully\s+)?(?:live|gone\s+live|been\s+live)\b"
    rf"|(?:we|our\s+\w+)\s+(?:have\s+|has\s+)?(?:now\s+|finally\s+|officially\s+|successfully\s+|just\s+)*(?:went|gone)\s+live\b"
    rf"|{_WE}\s+(?:now\s+|finally\s+|officially\s+)*in\s+production\b"
    r"|we\s+(?:have\s+)?(?:successfully\s+|just\s+)?launched\b"
    r"|(?:the\s+)?(?:go[\s-]*live|cut[\s-]*over|switch[\s-]*over|launch|migration)\s+(?:is|was|has\s+been)\s+"
    r"(?:now\s+)?(?:complete[d]?|done|finished|a\s+success|successful)\b"
    r"|(?:we\s+)?(?:completed|finished)\s+(?:the\s+)?(?:go[\s-]*live|cut[\s-]*over|switch[\s-]*over)\b"
    r")",
    re.IGNORECASE,
)
#: Every claim _CLAIM matches holds one of these (live, gone live, go-live; in production; launched,
#: launch; migration; cut-over; switch-over).
_CLAIM_WORDS = ("live", "production", "launch", "migration", "cut", "switch")
_NOT_BEFORE = re.compile(
    r"\b(?:once|when|whenever|after|before|until|till|if|unless|as\s+soon\s+as|by\s+the\s+time|will|'ll|"
    r"going\s+to|plan\w*\s+to|hope\w*|expect\w*|should|could|would|might|may|not|never|n't|yet\s+to|soon)\b"
    r"[^.!?;]{0,40}$",
    re.IGNORECASE,
)
_NOT_AFTER = re.compile(r"^[^.!?;]{0,25}\b(?:yet|soon|next|tomorrow|not|until|once)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n\s*\n")
_RELATIVE = {"today": 0, "this morning": 0, "this afternoon": 0, "tonight": 0, "this evening": 0,
             "earlier today": 0, "last night": -1, "yesterday": -1, "over the weekend": None}


@dataclass(frozen=True)
class WentLive:
    on: date  # the local day they say they went live
    sentence: str  # the words that say so (at most 200 characters)
    day_said: bool  # whether the mail named the day (else: the received date)


def detect_went_live(subject: str, text: str, received_at: datetime, tz: ZoneInfo) -> WentLive | None:
    """The claim in ``text`` (the new text of a customer's mail) or, failing that, ``subject``."""
    if not may_contain(f"{subject}\n{text}", _CLAIM_WORDS):
        return None  # most mail: searching each sentence would cost most of a millisecond
    today = received_at.astimezone(tz).date()
    for sentence in (*_sentences(text), subject):
        found = _claim(sentence, today, tz)
        if found is not None:
            return found
    return None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip() and not s.lstrip().startswith(">")]


def _claim(sentence: str, today: date, tz: ZoneInfo) -> WentLive | None:
    sentence = " ".join(sentence.split())
    for match in _CLAIM.finditer(sentence):
        before, after = sentence[:match.start()], sentence[match.end():]
        if _NOT_BEFORE.search(before) or _NOT_AFTER.search(after) or after.lstrip().startswith("?"):
            continue
        if sentence.rstrip().endswith("?") and not re.search(r"[.!]", after):
            continue  # "we are live, right?" is a question
        day, said = _day(after + " " + before, today, tz)
        if day is None:
            continue  # a future date: a plan, not a claim
        return WentLive(day, sentence[:200], said)
    return None


def _day(words: str, today: date, tz: ZoneInfo) -> tuple[date | None, bool]:
    low = words.lower()
    for phrase, shift in _RELATIVE.items():
        if re.search(rf"\b{phrase}\b", low):
            if shift is None:  # the weekend just gone: its Saturday
                return today - timedelta(days=(today.weekday() - 5) % 7), True
            return today + timedelta(days=shift), True
    for when in find_dates(words, today, tz):
        if when.day is None or when.vague:
            continue
        day = when.day
        if day > today and re.fullmatch(r"(?:last\s+|on\s+)?[A-Za-z]+", when.text.strip()):
            day -= timedelta(days=7 * ((day - today).days // 7 + 1))  # "on Monday": the one just gone
        if day > today:
            return None, True
        return day, True
    return today, False
