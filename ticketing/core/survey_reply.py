"""Reading a 0-10 score from a customer's answer to the survey (pure).

:func:`read_score` finds the score in what the customer typed above the quoted survey: ``"9"``,
``"9/10"``, ``"9 out of 10"``, ``"I'd give you an 8."``, ``"Score: 10 - great team"``. The rest of
their words is the comment.

It reads conservatively, as a wrong score is worse than none (an answer without one goes to the
engineer as an ordinary reply, who can ask again):

- only the new text counts: quoted history (``>`` lines, "On … wrote:", Outlook's blocks) and the
  signature (after ``--``, a sign-off line such as "Best," or "Sent from my iPhone") are cut;
- the first line holding a number decides; a number on a later line (a phone number, an address in
  the signature) never counts;
- dates (``9/10/2026``, ``10 May``, ``2026-11-10``), times (``10:30``, ``9 am``), phone numbers,
  decimals, percentages, amounts, ordinals (``9th``) and counted things (``3 weeks``, ``12 users``)
  are not scores; nor is the question's own "0 to 10";
- a line with two different numbers ("I'd say 7 or 8", "7-8") or a number outside 0-10 ("11", "12/10")
  gives no score: we do not choose for the customer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from mailer import new_text


@dataclass(frozen=True)
class SurveyScore:
    score: int  # 0-10
    comment: str  # the rest of the answer, "" when there is none


_SIGNATURE = re.compile(r"^(?:--\s*|__+|\u2014\s*|sent from my .*|get outlook for .*)$", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^(?:thanks|thank you|many thanks|thanks again|best|best regards|kind regards|regards|warm regards|cheers"
    r"|sincerely|br|mit freundlichen grüßen|cordialement)[\s,.!]*$", re.IGNORECASE)
_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
           r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_UNITS = (r"(?:min(?:ute)?s?|h(?:ou)?rs?|hours?|days?|weeks?|months?|years?|users?|people|persons?|seats?|sites?"
          r"|locations?|stores?|tickets?|issues?|bugs?|meetings?|sessions?|calls?|times|trainings?|teams?|licen[cs]es?"
          r"|am|pm|a\.m\.|p\.m\.|o'clock|percent|gb|mb|tb|k)\b")
#: Numbers that are something else than a score; blanked before scores are looked for.
_NOT_SCORES = [re.compile(p, re.IGNORECASE) for p in (
    r"\b0\s*(?:to|-|–|and|through)\s*10\b",  # the question's own scale
    r"\d{1,4}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,4}",  # dates 9/10/2026, 2026-11-10, 10.11.2026
    r"\d{1,2}\s*[:h.]\s*\d{2}\b(?:\s*[ap]\.?m\.?)?",  # times 10:30, 9.30 am
    r"\d+[.,]\d+",  # decimals, thousands
    r"\d+\s*(?:%|percent)",
    r"[$€£¥]\s*\d+|\d+\s*[$€£¥]",
    rf"\b\d{{1,2}}\s+{_MONTHS}\b|\b{_MONTHS}\.?\s+\d{{1,2}}\b",  # 10 May, May 10
    rf"\b\d+\s*{_UNITS}",  # counted things, am/pm
    r"#\s*\d+|\bv\d+|\bwg-\d+\b",  # references, versions, ticket tags
)]
#: A run of digits with separators holding at least seven digits: a phone number.
_DIGIT_RUN = re.compile(r"[+(]?\d[\d\s().\-]*\d")
_EXPLICIT = [re.compile(p, re.IGNORECASE) for p in (
    r"(?<![\d/.\-])(\d{1,3})\s*/\s*10(?![\d/])",  # 9/10 (not a date: 9/10/2026 is blanked first)
    r"(?<![\d.])(\d{1,3})\s+(?:out\s+of|of|on)\s+10\b",  # 9 out of 10
    r"\b(?:score|rating|nps|grade|mark)\s*(?:is|of|:|=|-)?\s*(?:an?\s+)?(\d{1,3})(?![\d.,:/])",  # Score: 10
)]
_NUMBER = re.compile(r"(?<![\w.,/:+$€£#@-])(\d{1,3})(?![\w%:/$€£]|[.,]\d)")
_WORD_RANGE = re.compile(r"\b\d{1,2}\s*(?:or|to|-|–|/)\s*\d{1,2}\b", re.IGNORECASE)
_LEADING_SCORE = re.compile(
    r"^\s*(?:(?:score|rating|nps|grade|mark)\s*(?:is|of|:|=)?\s*)?\d{1,2}(?:\s*/\s*10|\s+(?:out\s+of|of|on)\s+10)?"
    r"(?![\w:/.,]\d)(?:\s*[.!,:;)\-–—]+\s*|\s+|$)", re.IGNORECASE)


def answer_lines(text: str) -> list[str]:
    """What the customer wrote above the quoted message and before their signature, line by line."""
    lines = []
    for line in new_text(text or "").splitlines():
        stripped = line.strip()
        if _SIGNATURE.match(stripped) or _SIGN_OFF.match(stripped):
            break
        if stripped.startswith(">"):
            continue
        lines.append(stripped)
    return lines


def read_score(text: str) -> SurveyScore | None:
    """The score (0-10) and the comment of a survey answer; None when it holds no single score in range
    (see the module docstring for what counts)."""
    lines = answer_lines(text)
    for index, line in enumerate(lines):
        values = _numbers(line)
        if values is None:
            continue  # nothing that could be a number here: the answer may be further down
        if len(values) != 1 or not 0 <= values[0] <= 10:
            return None
        return SurveyScore(values[0], _comment(lines, index))
    return None


def _numbers(line: str) -> list[int] | None:
    """The distinct score candidates of ``line`` (explicit forms first), None when it has no number at all."""
    blanked = _blank(line)
    explicit = {int(m.group(1)) for pattern in _EXPLICIT for m in pattern.finditer(blanked)}
    if explicit:
        return sorted(explicit)
    if _WORD_RANGE.search(blanked):
        return [-1, -1]  # "7 or 8", "7-8": two answers, no score
    found = {int(m.group(1)) for m in _NUMBER.finditer(blanked)}
    return sorted(found) if found else None


def _blank(line: str) -> str:
    """``line`` with what is not a score (see :data:`_NOT_SCORES`, phone numbers) replaced by spaces."""
    for pattern in _NOT_SCORES:
        line = pattern.sub(lambda m: " " * len(m.group(0)), line)
    return _DIGIT_RUN.sub(lambda m: " " * len(m.group(0)) if sum(c.isdigit() for c in m.group(0)) >= 7 else m.group(0),
                          line)


def _comment(lines: list[str], index: int) -> str:
    """The answer without its leading score ("Score: 10 - great team" -> "great team")."""
    rest = list(lines)
    rest[index] = _LEADING_SCORE.sub("", rest[index], count=1).strip()
    return "\n".join(rest).strip()
