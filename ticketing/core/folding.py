"""A quick look for words before a slow regular expression (pure).

Python's ``re`` with ``IGNORECASE`` tries its pattern at every position of a text: over a 2.5 KB
mail a pattern of many alternatives costs most of a millisecond, even when the mail holds none of
the words it needs. :func:`may_contain` answers first, cheaply, whether a text can match at all:
when none of a pattern's necessary words appear in the text, folded as ``re`` folds case, the
pattern cannot match either. It may say yes when the pattern then finds nothing; never no when it
would find something.
"""
from __future__ import annotations

from typing import Iterable

#: The characters outside ASCII that ``re.IGNORECASE`` matches to an ASCII letter (their simple
#: case mapping is ASCII): dotted capital I, dotless i, long s and the Kelvin sign.
_TO_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def folded(text: str) -> str:
    """``text`` in lower case, with the letters ``re.IGNORECASE`` takes for ASCII ones made ASCII."""
    return (text if text.isascii() else text.translate(_TO_ASCII)).lower()


def may_contain(text: str, words: Iterable[str]) -> bool:
    """Whether one of ``words`` (lower-case ASCII) may appear in ``text`` ignoring case as ``re`` does."""
    low = folded(text)
    return any(word in low for word in words)
