"""The priority of a support ticket, from configurable keyword rules and the account's tier (pure)."""
from __future__ import annotations

import functools
import re
from datetime import date

from ticketing.config import PrioritiesConfig
from ticketing.core.folding import may_contain


def support_priority(subject: str, text: str, tier: str | None, rules: PrioritiesConfig) -> tuple[str, str]:
    """Return ``(priority, why)`` for a new support message.

    The account's tier sets the default (``tier_default``, else ``default``); a rule whose keyword
    appears as a whole word or phrase in the subject or the new text raises it, never lowers it.
    """
    priority = rules.tier_default.get((tier or "").lower(), rules.default) if tier else rules.default
    why = f"default for tier {tier}" if tier and tier.lower() in rules.tier_default else "default priority"
    haystack = f"{subject}\n{text}"
    for index, rule in enumerate(rules.rules):
        if rule.priority >= priority:  # "P0" < "P1" < ...: only a higher priority matters
            continue
        words = _first_words(tuple(rule.keywords))
        if words is not None and not may_contain(haystack, words):
            continue  # none of its keywords can be there: the search would cost a fraction of a millisecond
        match = _pattern(tuple(rule.keywords)).search(haystack)
        if match:
            priority, why = rule.priority, f"keyword {match.group(0).lower()!r} (rule {index + 1})"
    return priority, why


def golive_priority(golive_date: date | None, today: date, rules: PrioritiesConfig) -> tuple[str, str]:
    """Return ``(priority, why)`` for a go-live intent: the nearer the cut-over (``today`` in the
    customer's zone), the higher, and never higher than ``golive_intent``."""
    if golive_date is None:
        return rules.default, "go-live without a single day: default priority"
    days = (golive_date - today).days
    if days <= rules.golive_near_days:
        when = "passed" if days < 0 else "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        return rules.golive_intent, f"go-live {when} (at most {rules.golive_near_days} days away)"
    if days <= rules.golive_soon_days:
        lower = min(f"P{int(rules.golive_intent[1]) + 1}", rules.default) if rules.golive_intent != "P3" else "P3"
        return lower, f"go-live in {days} days (at most {rules.golive_soon_days} days away)"
    return rules.default, f"go-live in {days} days: planned ahead, default priority"


@functools.lru_cache(maxsize=64)
def _first_words(keywords: tuple[str, ...]) -> tuple[str, ...] | None:
    """The first word of each keyword in lower case, which a match must hold; None when a keyword
    is not ASCII (its case folding is left to the search)."""
    words = tuple(k.split()[0].lower() for k in keywords if k.strip())
    return words if words and all(w.isascii() for w in words) else None


@functools.lru_cache(maxsize=64)
def _pattern(keywords: tuple[str, ...]) -> re.Pattern:
    words = sorted((re.escape(k.strip()).replace(r"\ ", r"\s+") for k in keywords), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)
