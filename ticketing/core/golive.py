"""Go-live intents: does a customer's email say they will go live, and on which day (pure).

:func:`mentions_golive` is the cheap pre-filter (substring finds, then a small regex) for every message;
:func:`detect_golive` reads the sentences that mention a go-live, a cut-over, a switch-over, a
launch or going to production, and returns a :class:`GoLiveIntent` with the reasons for it, or None.
Time is a parameter: relative dates resolve against the *local date* of ``received_at`` in the
account's time zone, so a DST change moves nothing. Only the standard library is used (dateparser
was tried: ~2 ms a phrase and seconds for some, no "end of next week", and "the 3rd" wrong).

What counts as an intent, sentence by sentence (``;``, "but", "however" split a sentence):

- a plan ("we plan to / intend to / 'd like to / will / are going live", "go-live is scheduled
  for", "target go-live:", "Go-live date: ...") with or without a date, or a go-live word with a
  date next to it ("launch next Tuesday", subject "Go-live 14/01");
- a question is an intent only when it names a specific day ("Can we go live on Jan 14?"), not
  "is it possible to go live without SSO?" nor "could we go live in Q1?";
- not: past ("went live", "since go-live", "the launch was a success", "we had planned to ..."),
  negation ("we don't plan to go live before the audit", "no go-live date yet"), phases and events
  ("post-go-live", "go-live checklist/call"), a go-live only referred to ("the training before
  go-live is on Jan 10"), launching tools ("launch the installer").
- A change with a new date ("moving the go-live to Feb 2") is an intent with the new date and wins
  over other dated sentences. A hold, cancellation or postponement without a new date
  ("postponed go-live indefinitely") returns None: no current intent is known, and the ticket
  keeps whatever cut-over it had until a person looks.
- The body wins over the subject (a reply's subject is often stale). The subject is read only when
  the body says nothing decisive about a go-live; a subject naming a go-live without a date takes
  its date from a body sentence that states a plan and a day.

Dates (``golive_date`` is a local date; ``date_text`` is set for vague words too):

- no year: the earliest occurrence not more than 14 days before the received date ("Dec 30" on
  Jan 3 is four days ago, "Jan 14" in December is next year's); Feb 29 goes to a leap year.
- numeric ``a/b``: month/day when the time zone is America/* or US/*, else day/month, unless one
  part is > 12; the reasons say which. ``14.01.2027`` (dots) is always day-first; ``YYYY-MM-DD``.
- "the 3rd": the next such day on or after the received date; "Friday the 15th": the next 15th
  that is a Friday. A weekday that contradicts an explicit date is noted, the date is kept.
- weekdays: "Friday" is the next one after today; "this Friday" the next on or after today;
  "next Friday", "Friday next week" the Friday of next week (weeks run Monday to Sunday).
- "tomorrow", "today"; "in two weeks", "two weeks from now" (+14 days); "end of next week" its
  Friday, "start of next week" its Monday, "end of the week" this Friday (never before today);
  "end of the month / next month / January" the last calendar day; a range ("12-13 December")
  its first day.
- no day, so ``golive_date`` None with a reason: "next week", "this month", "Q1", "H2",
  "mid-January", "early next month", "in January", "in a few weeks", "in two months", "the week
  of Jan 11", "this weekend".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ticketing.core.dates import When, find_dates, lower
from ticketing.core.sentences import split_clauses, split_sentences

__all__ = ["GoLiveIntent", "detect_golive", "mentions_golive"]


PHRASE_LIMIT = 300


@dataclass(frozen=True)
class GoLiveIntent:
    golive_date: date | None  # the intended cut-over day, a local date in the account's timezone
    phrase: str  # the sentence or line with the intent, at most 300 characters
    date_text: str | None  # the words that gave the date, also when they gave no single day
    reasons: tuple[str, ...]  # why, the intent phrase first


# -- pre-filter -----------------------------------------------------------------------------------

# Python's re tries every branch of an alternation at every position, which costs ~0.5 ms on 3 KB;
# str.find is a fast substring search, so the regex only runs on a few characters around each find.
_CORES = {"launch": ("",), "live": ("go", "went", "gone"), "over": ("cut", "switch"), "production": ("to",)}
_PREFILTER = re.compile(r"(?:go|going|goes|went|gone)[\s-]*live|cut(?:ting)?[\s-]?over|switch\w*[\s-]?over|launch"
                        r"|to\s+production")


def mentions_golive(subject: str, text: str) -> bool:
    """Whether the subject or text has a go-live word at all: cheap, and broader than an intent."""
    return _mentions(subject) or _mentions(text)


def _mentions(text: str) -> bool:
    low = text.lower()
    return any(_PREFILTER.search(low, start, end) for start, end in _near_cores(low))


def _near_cores(low: str):
    """(start, end) around each core word of lower-case ``low`` that has a hint of a go-live word before it."""
    for core, hints in _CORES.items():
        at = low.find(core)
        while at != -1:
            start = max(0, at - 20)
            if any(hint in low[start:at] for hint in hints):
                yield start, at + len(core)
            at = low.find(core, at + 1)


# -- the words around a go-live -------------------------------------------------------------------

def _any(words: str) -> str:
    """A non-capturing alternation of the whitespace-separated regex ``words``."""
    return "(?:" + "|".join(words.split()) + ")"


def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


_KEYWORD = re.compile(r"\b(?:(?P<past>went[\s-]+live|gone[\s-]+live|launched|switched[\s-]?over)"
                      r"|(?P<prog>going[\s-]+live|launching|cutting[\s-]+over|switching[\s-]?over"
                      r"|(?:going|moving)\s+(?:in)?to\s+production)"
                      r"|(?P<plain>go(?:es)?[\s-]*lives?|cuts?[\s-]?overs?|switch(?:es)?[\s-]?overs?|launch(?:es)?"
                      r"|(?:go|goes|move)\s+(?:in)?to\s+production))\b")

# Before the go-live word: whitespace-normalised text ending in one space, so these end in "$".
_ADVERB = r"(?:\w+ly\s+)?$"
_PLAN_BEFORE = _rx(
    r"(?:\b" + _any(r"plans? planned planning intend\w* wants? wanted like hope hoping expect\w* aim\w* "
                    r"target\w* going ready scheduled set due about prepared preparing looking wish needs? "
                    r"decided agreed able try trying gonna supposed on\s+track") + r"\s+(?:to|on)\s+"
    r"|\b(?:will|shall|gonna|'ll)\s+(?:(?:be|then|now|still|hopefully|finally|officially|also)\s+)*"
    r"|\b" + _any("target targeted planned scheduled tentative expected proposed new revised intended desired "
                  "preferred official agreed confirmed anticipated projected updated") + r"\s+"
    r"|\b" + _any(r"plan\w* aim\w* target\w* look\w* hop\w* schedul\w* prepar\w* ready shoot\w*")
    + r"\s+(?:for|at|on|towards?)\s+(?:(?:a|an|the|our)\s+)?)" + _ADVERB)
_PROGRESSIVE_BEFORE = _rx(r"\b(?:am|is|are|'re|'m|'s|be)\s+(?:(?:\w+ly|now|still|also)\s+)?$")
_REFERENCE_BEFORE = _rx(r"\b" + _any(r"before after until till ahead\s+of prior\s+to during around from at since "
                                     r"through throughout about regarding")
                        + r"\s+(?:(?:the|our|your|a|this|that)\s+)?(?:(?!to\b)\w+\s+)?$")
_NEGATED_BEFORE = _rx(
    r"(?:\bnot|n't|\bnever|\bno|\bcannot)\s+(?:\w+ly\s+)?(?:(?:be|been|yet)\s+)?(?:"
    + _any(r"plan\w* intend\w* want\w* going expect\w* aim\w* hop\w* able ready allowed scheduled set due like looking "
           r"prepared decided")
    + r"\s+(?:to\s+|for\s+|on\s+)?)?(?:(?:a|an|the|our|any)\s+)?(?:\w+ly\s+)?(?:be\s+)?(?:going\s+to\s+)?$")
_DOUBT = _rx(r"\b(?:not\s+sure|unsure|doubt\w*|unlikely|uncertain|no\s+way)\b")
_PAST_BEFORE = _rx(r"\b(?:since|had|did|was|were)\b")
_PHASE_BEFORE = _rx(r"\b(?:post|pre)[\s-]*$")
_REQUEST_BEFORE = _rx(r"\b(?:please|pls|kindly)\s+" + _ADVERB)
_HOLD = _rx(r"\b" + _any(r"indefinitely on\s+hold until\s+further\s+notice cancel(?:l?ed|l?ing|s)? called\s+off paused "
                         r"shelved scrapped abandoned") + r"\b")
_CHANGE = _rx(r"\b" + _any(r"mov(?:e|ed|es|ing) push(?:ed|es|ing)? postpon\w+ reschedul\w+ delay\w* shift\w* "
                           r"chang(?:e|ed|es|ing) slip\w* bring\w*\s+forward brought\s+forward "
                           r"pull(?:ed|ing)?\s+(?:in|forward) put\s+off") + r"\b")
_CHANGE_TARGET = _rx(r"\b(?:to|until|till|now)\s+(?:(?:the|on)\s+)?$")

# After the go-live word (raw text, so these start with "^").
_PLAN_AFTER = _rx(
    r"^\s*(?:date|day|target|window|slot)?\s*(?:is|are|will\s+be|'s|has\s+been|have\s+been|is\s+now|remains)?\s*"
    r"(?:(?:now|still|currently|tentatively|provisionally|officially|also)\s+)?"
    + _any(r"planned scheduled set targeted booked pencil+ed slated expected due confirmed fixed locked "
           r"going\s+to\s+be will\s+(?:happen|be|take\s+place) happens takes\s+place on\s+track on for") + r"\b")
_LABEL_AFTER = _rx(r"^\s*(?:date|day|target|window|slot|deadline|eta|plan|time)?\s*(?:\([^)]*\)\s*)?(?:[:=|]|[-–—]\s)")
_ATTACHED = _rx(r"^\s*(?:date\s*)?(?:[:(,–—-]\s*|\s)(?:(?:on|of|in|for)\s+)?(?:the\s+)?$")
_NEGATED_AFTER = _rx(r"^\W*(?:\w+\s+){0,2}?"
                     + _any("not never won't isn't aren't can't cannot doesn't shouldn't wouldn't") + r"\b")
_PAST_AFTER = _rx(r"^\W*(?:[\w']+\W+){0,3}?"
                  + _any(r"went was were happened took\s+place has\s+been have\s+been had\s+been "
                         r"is\s+(?:done|over|complete) completed succeeded worked yesterday ago "
                         r"(?<!the\s)last\s+(?:week|night|month|year|weekend|time|\w+day)") + r"\b")
_EVENT_AFTER = _rx(r"^[\s-]*" + _any(
    r"call meeting checklist readiness review rehearsal prep\w* dry[\s-]?run runbook support team sync workshop "
    r"training kick-?off huddle retro\w* report doc\w* email ticket webinar party celebration tasks? items? issues? "
    r"questions? activities steps? criteria requirements? sign[\s-]?off approval freeze communication "
    r"announcement phase period tracker") + r"\b")
_TOOL_AFTER = _rx(r"^\s+(?:(?:the|a|an|our|your|my|this|that)\s+)?" + _any(
    r"installer wizard setup browser terminal console script command shell outlook excel word chrome firefox safari "
    r"edge debugger webinar event party meeting call demo campaign email newsletter survey instance vm container job "
    r"query build import export migration sync scan test backup report process update upgrade") + r"\b")
_AMOUNT_AFTER = _rx(r"^\s+(?:[$€£]|\d+\s*(?:%|percent|k\b|million|thousand|users|licen[cs]es|seats)"
                    r"|(?:the\s+|our\s+)?(?:budget|cost|price|cable|wire|line))")
_INTERROGATIVE = _rx(r"^\s*" + _any("can could would will shall should is are am do does did may might when what how "
                                    "why where which whether if") + r"\b")
_BODY_PLAN = _rx(r"\b" + _any(r"plan\w* intend\w* schedul\w* target\w* like\s+to want\s+to aim\w* hop(?:e|ing)\s+to "
                              r"propos\w+ go\s+ahead proceed\w*") + r"\b")
_ANY_NEGATION = _rx(r"\b(?:not|never|no)\b|n't\b")


def _keywords(clause: str) -> list[re.Match]:
    """The go-live words of ``clause``, matched on its ASCII-lowered copy, looked for only near a core word."""
    low = lower(clause)
    found = {}
    for start, end in _near_cores(low):
        match = _KEYWORD.search(low, start, end + 12)
        if match is not None:
            found.setdefault(match.start(), match)
    return [found[start] for start in sorted(found)]


def _tail(text: str, words: int) -> str:
    """The last ``words`` words of ``text`` after its last comma, colon or bracket, ending in one space."""
    return " ".join(re.split(r"[,:;()]", text)[-1].split()[-words:]) + " "


def _is_question(clause: str, start: int, end: int) -> bool:
    ahead = re.search(r"[,;.!?]", clause[end:])
    if ahead and ahead.group() == "?":
        return True
    return _INTERROGATIVE.match(re.split(r"[,;.!?]", clause[:start])[-1]) is not None


# -- judging one mention ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Verdict:
    kind: str  # "intent"; "veto": says there is no current plan; "mention": a plain one; "aside": an event, a tool
    words: str = ""
    when: When | None = None
    change: bool = False
    question: bool = False


def _judge(clause: str, kw: re.Match, today: date, tz: ZoneInfo) -> _Verdict:
    """What the go-live word ``kw`` says in ``clause``: vetoes first (past, phase, hold, negation),
    asides (events, tools, amounts), then the plan words around it and the date that belongs to it."""
    word = clause[kw.start():kw.end()]
    before = " ".join(clause[max(0, kw.start() - 120):kw.start()].split()) + " "  # what the "$" patterns need
    after = clause[kw.end():]
    near, near_after = _tail(before, 6), " ".join(after.split()[:6])
    if kw["past"] or _PHASE_BEFORE.search(before):
        return _Verdict("veto")
    if _EVENT_AFTER.match(after) or _REQUEST_BEFORE.search(before):
        return _Verdict("aside")
    if kw.group().startswith("launch") and _TOOL_AFTER.match(after):
        return _Verdict("aside")
    if kw.group().startswith("cut") and _AMOUNT_AFTER.match(after):
        return _Verdict("aside")
    if _HOLD.search(_tail(before, 4)) or _HOLD.search(near_after):
        return _Verdict("veto")
    if _NEGATED_BEFORE.search(before) or _DOUBT.search(near) or _NEGATED_AFTER.match(after):
        return _Verdict("veto")
    change = _CHANGE.search(_tail(before, 4)) or _CHANGE.search(near_after)
    if not change and (_PAST_BEFORE.search(_tail(before, 5)) or _PAST_AFTER.match(after)):
        return _Verdict("veto")

    whens = find_dates(clause, today, tz)
    question = _is_question(clause, kw.start(), kw.end())
    reference = _REFERENCE_BEFORE.search(before)
    words = None
    if not reference:
        plan = _PLAN_BEFORE.search(before)
        if kw["prog"] and not plan:
            plan = _PROGRESSIVE_BEFORE.search(before)
        if plan:
            start = plan.start()
            while start and before[start - 1].isalnum():
                start -= 1
            words = before[start:].strip() + " " + word
        elif _PLAN_AFTER.match(after) or _LABEL_AFTER.match(after):
            label = (_PLAN_AFTER.match(after) or _LABEL_AFTER.match(after)).group()
            words = word + re.sub(r"(?:\s+(?:on|for))?[\s|=(–—-]*$", "", label, flags=re.IGNORECASE)
    moving = _CHANGE.search(_tail(before, 4))
    if moving and words is None:
        words = before[before.rfind(moving.group()):].strip() + " " + word

    when = _pick(whens, clause, kw, bool(change), bool(reference))
    specific = when is not None and when.day is not None
    if change and not specific:
        return _Verdict("veto")  # postponed, moved or put off with no new day: nothing current to go by
    if (question and not specific) or (words is None and when is None):
        return _Verdict("mention")
    return _Verdict("intent", words or word, when, bool(change), question)


def _pick(whens: list[When], clause: str, kw: re.Match, change: bool, reference: bool) -> When | None:
    """The date that belongs to the go-live word: a change's target, else the first one after it."""
    if reference:
        return next((w for w in whens if w.start >= kw.end() and _ATTACHED.match(clause[kw.end():w.start])), None)
    if change:
        targets = [w for w in whens if w.day is not None and _CHANGE_TARGET.search(clause, 0, w.start)]
        specific = [w for w in whens if w.day is not None]
        if targets or specific:
            return targets[0] if targets else specific[-1]
    for vague in (False, True):
        pool = [w for w in whens if w.vague == vague]
        following = [w for w in pool if w.start >= kw.end()]
        preceding = [w for w in pool if w.end <= kw.start()]
        if following or preceding:
            return following[0] if following else preceding[-1]
    return None


# -- the message -----------------------------------------------------------------------------------

def detect_golive(subject: str, text: str, received_at: datetime, tz: ZoneInfo) -> GoLiveIntent | None:
    """The go-live intent stated in a customer's message, or None when it states none.

    ``text`` is the message's new text (quotes removed); ``received_at`` is when our server got it
    (aware); relative dates resolve against its local date in ``tz``, the account's time zone. The
    rules and the choices made for ambiguous wording are in the module docstring.

    Raises ValueError when ``received_at`` is naive.
    """
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be an aware datetime")
    if not mentions_golive(subject, text):
        return None
    today = received_at.astimezone(tz).date()
    found, kinds = _read(split_sentences(text, _mentions), today, tz)
    if found:
        return _best(found, today, tz)
    if "veto" in kinds:
        return None
    found, kinds = _read(split_sentences(subject, _mentions), today, tz)
    if any(verdict.when is not None and verdict.when.day is not None for _, verdict in found):
        return _best(found, today, tz)
    if "mention" in kinds or found:
        from_body = _plan_in_body(subject, split_sentences(text), today, tz)
        if from_body is not None:
            return from_body
    return _best(found, today, tz) if found else None


def _read(sentences: list[str], today: date, tz: ZoneInfo) -> tuple[list[tuple[str, _Verdict]], set[str]]:
    """The intents found, as (sentence, verdict), and the kinds of all verdicts."""
    found, kinds = [], set()
    for sentence in sentences:
        if not _mentions(sentence):
            continue
        for clause in split_clauses(sentence):
            for kw in _keywords(clause):
                verdict = _judge(clause, kw, today, tz)
                kinds.add(verdict.kind)
                if verdict.kind == "intent":
                    found.append((sentence, verdict))
                    break
    return found, kinds


def _best(found: list[tuple[str, _Verdict]], today: date, tz: ZoneInfo) -> GoLiveIntent:
    """A specific day before a vague one before none; a changed date first; then the earliest."""
    def rank(item):
        index, (_, verdict) = item
        when = verdict.when
        return (0 if when is not None and when.day is not None else 1 if when is not None else 2,
                not verdict.change, index)

    _, (sentence, verdict) = min(enumerate(found), key=rank)
    reasons = [f"intent phrase '{verdict.words}'"]
    if verdict.question:
        reasons.append("a question that names a day counts as an intent")
    if verdict.change:
        reasons.append("the go-live is being moved: the new date is used")
    reasons.extend(_date_reasons(verdict.when, today, tz))
    when = verdict.when
    return GoLiveIntent(when.day if when else None, _trim(sentence, verdict.words), when.text if when else None,
                        tuple(reasons))


def _plan_in_body(subject: str, body: list[str], today: date, tz: ZoneInfo) -> GoLiveIntent | None:
    """A subject that names a go-live, and a body sentence stating a plan with a day."""
    for sentence in body:
        for clause in split_clauses(sentence):
            plan = _BODY_PLAN.search(clause)
            if plan is None or _ANY_NEGATION.search(clause) or _DOUBT.search(clause):
                continue
            whens = [w for w in find_dates(clause, today, tz) if w.day is not None]
            if whens:
                reasons = (f"go-live named in the subject '{_trim(subject, '')}'",
                           f"intent phrase '{plan.group()}' with a date in the body")
                reasons += _date_reasons(whens[0], today, tz)
                return GoLiveIntent(whens[0].day, _trim(sentence, plan.group()), whens[0].text, reasons)
    return None


def _date_reasons(when: When | None, today: date, tz: ZoneInfo) -> tuple[str, ...]:
    zone = getattr(tz, "key", str(tz))
    if when is None:
        return ("no date given",)
    if when.day is None:
        return (f"'{when.text}': {'; '.join(when.notes)}: no cut-over date",)
    return (f"date '{when.text}' resolved against {today} ({zone}) as {when.day}",) + when.notes


def _trim(sentence: str, words: str) -> str:
    """``sentence`` in at most PHRASE_LIMIT characters, keeping ``words`` in view."""
    sentence = " ".join(sentence.split())
    if len(sentence) <= PHRASE_LIMIT:
        return sentence
    at = max(sentence.lower().find(words.lower()), 0) if words else 0
    start = max(0, min(at - 100, len(sentence) - (PHRASE_LIMIT - 1)))
    head = "…" if start else ""
    room = PHRASE_LIMIT - len(head)
    body = sentence[start:start + room]
    return head + (body[:room - 1] + "…" if start + room < len(sentence) else body)
