"""Sentences and clauses of plain-text mail (pure): wrapped lines rejoined, then split at sentence
ends that are not abbreviations ("Jan.", "e.g.") or initials, and clauses split at ``;`` and at
"but", "however", "although", "though", "whereas".
"""
from __future__ import annotations

import re
from collections.abc import Callable

_BULLET = re.compile(r"^(?:[-*•>]|\d+[.)])\s")
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(["jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon",
                            "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "e.g", "i.e", "approx",
                            "vs", "etc", "no", "mr", "mrs", "ms", "dr", "st"])
_CLAUSE_WORDS = ("but", "however", "though", "whereas")
_CLAUSE_SPLIT = re.compile(r";|\s+(?:but|however|although|though|whereas)\b,?\s*", re.IGNORECASE)


def split_sentences(text: str, keep: Callable[[str], bool] | None = None) -> list[str]:
    """The sentences of ``text`` (of its paragraphs for which ``keep`` is true, when given):
    lines are rejoined where they were wrapped, then split at sentence ends."""
    blocks, lines = [], []
    for raw in text.replace("\u2019", "'").splitlines():
        line = " ".join(raw.split())
        if lines and (not line or not _continues(lines[-1], line)):
            blocks.append(" ".join(lines))
            lines = []
        if line:
            lines.append(line)
    if lines:
        blocks.append(" ".join(lines))
    found = []
    for block in blocks:
        if keep is not None and not keep(block):
            continue
        start = 0
        for end in _SENTENCE_END.finditer(block):
            if end.group().startswith(".") and _is_abbreviation(block[max(start, end.start() - 8):end.start()]):
                continue
            found.append(block[start:end.end()].strip())
            start = end.end()
        found.append(block[start:].strip())
    return [s for s in found if s]


def _is_abbreviation(text: str) -> bool:
    """Whether ``text`` ends in an abbreviation ("Jan", "e.g") or an initial, so a period after it ends nothing."""
    words = text.split()
    return bool(words) and (words[-1].lower() in _ABBREVIATIONS or (len(words[-1]) == 1 and words[-1].isalpha()))


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` goes on with ``previous`` (a wrapped line or a label over two lines)."""
    if _BULLET.match(line) or previous[-1] in ".!?":
        return False
    return previous.endswith(":") or len(previous) >= 50 or line[0].islower()


def split_clauses(sentence: str) -> list[str]:
    """``sentence`` split at ``;`` and at the words that join contrasting clauses."""
    low = sentence.lower()
    if ";" in low or any(word in low for word in _CLAUSE_WORDS):
        return _CLAUSE_SPLIT.split(sentence)
    return [sentence]
