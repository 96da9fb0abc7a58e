"""The priority of a support ticket, from configurable keyword rules and the account's tier (pure)."""
from __future__ import annotations

import functools
import re

from ticketing.config import PrioritiesConfig


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
        match = _pattern(tuple(rule.keywords)).search(haystack)
        if match:
            priority, why = rule.priority, f"keyword {match.group(0).lower()!r} (rule {index + 1})"
    return priority, why


@functools.lru_cache(maxsize=64)
def _pattern(keywords: tuple[str, ...]) -> re.Pattern:
    words = sorted((re.escape(k.strip()).replace(r"\ ", r"\s+") for k in keywords), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)
