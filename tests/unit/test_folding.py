"""The quick look before a slow search never says "not there" when the search would find it."""
from __future__ import annotations

import re

import pytest

from ticketing.core.folding import may_contain
from ticketing.core.went_live import _CLAIM, _CLAIM_WORDS, detect_went_live

TRICKY = ["We are L\u0130VE now.", "we are l\u0131ve", "our \u017fwitch-over is done", "WE WENT LIVE",
          "the cut over was a success", "We launched!", "migration has been completed", "we're in production"]


@pytest.mark.parametrize("text", TRICKY)
def test_text_the_claim_pattern_matches_always_passes_the_quick_look(text):
    assert _CLAIM.search(text) is not None  # the samples are claims, as re reads them
    assert may_contain(text, _CLAIM_WORDS)


@pytest.mark.parametrize("word, text", [("kelvin", "\u212aELVIN"), ("is", "\u0130\u017f"), ("down", "DoWn")])
def test_every_letter_re_takes_for_an_ascii_one_is_folded_to_it(word, text):
    assert re.search(word, text, re.IGNORECASE) and may_contain(text, [word])


def test_text_without_the_words_is_turned_away_and_would_not_have_matched():
    text = "Users who sign in through Okta are sent back to the login page again and again. " * 30
    assert not may_contain(text, _CLAIM_WORDS) and _CLAIM.search(text) is None


def test_a_claim_is_still_found_after_the_quick_look():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    found = detect_went_live("Update", "Hello. We went L\u0130VE this morning!", datetime(2026, 3, 2, 15, tzinfo=timezone.utc),
                             ZoneInfo("UTC"))
    assert found is not None and found.on.isoformat() == "2026-03-02"
