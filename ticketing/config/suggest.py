"""Suggestions for a misspelt name: the known key, section or IANA time zone closest to it."""
from __future__ import annotations

import difflib
import functools
import zoneinfo
from collections.abc import Iterable


def close_names(word: str, known: Iterable[str], n: int = 1) -> list[str]:
    """Up to ``n`` names of ``known`` closest to ``word``, ignoring case, as ``known`` spells them."""
    by_folded: dict[str, str] = {}
    for name in known:
        by_folded.setdefault(name.lower(), name)
    folded = word.lower()
    if folded in by_folded:
        return [by_folded[folded]]
    return [by_folded[m] for m in difflib.get_close_matches(folded, by_folded, n=n, cutoff=0.6)]


def did_you_mean(names: list[str]) -> str:
    """"did you mean 'a'?", "did you mean 'a' or 'b'?", "did you mean 'a', 'b' or 'c'?"."""
    quoted = [repr(n) for n in names]
    return "did you mean " + (", ".join(quoted[:-1]) + " or " if len(quoted) > 1 else "") + quoted[-1] + "?"


@functools.lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def nearest_timezones(name: str, n: int = 3) -> list[str]:
    """The IANA time zones closest to ``name``: "America/New_york" gives "America/New_York", and a
    city alone ("new york", "Berlin") the zones named after it."""
    wanted = "_".join(name.split())
    found = close_names(wanted, sorted(_timezones()), n)
    if found:
        return found
    by_city: dict[str, str] = {}
    for zone in sorted(_timezones()):
        by_city.setdefault(zone.rsplit("/", 1)[-1], zone)
    return [by_city[city] for city in close_names(wanted.rsplit("/", 1)[-1], by_city, n)]
