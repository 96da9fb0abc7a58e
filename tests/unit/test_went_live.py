"""A customer's "we are live": recognised with its day, and not confused with a plan, a question or a
condition."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from ticketing.core.went_live import detect_went_live

NY = ZoneInfo("America/New_York")
THURSDAY = datetime(2027, 3, 4, 15, 0, tzinfo=timezone.utc)  # Thu 4 March, 10:00 in New York


@pytest.mark.parametrize("text, day", [
    ("Hi Priya, we are live! Thanks for all the help.", date(2027, 3, 4)),
    ("Good news: we're now live in production.", date(2027, 3, 4)),
    ("We went live this morning and everything looks fine.", date(2027, 3, 4)),
    ("We went live yesterday.", date(2027, 3, 3)),
    ("We have officially gone live on Monday.", date(2027, 3, 1)),
    ("We went live on 2 March, sorry for the late note.", date(2027, 3, 2)),
    ("The cut-over is complete.", date(2027, 3, 4)),
    ("Our team is live since last night.", date(2027, 3, 3)),
    ("We successfully launched over the weekend!", date(2027, 2, 27)),
    ("We are fully live.", date(2027, 3, 4)),
])
def test_a_customer_saying_they_are_live_is_a_claim_with_its_day(text, day):
    found = detect_went_live("Re: onboarding", text, THURSDAY, NY)
    assert found is not None and found.on == day


@pytest.mark.parametrize("text", [
    "Are we live?",
    "Once we are live we will need more seats.",
    "We will be live on Friday.",
    "We are not live yet, the SSO is still failing.",
    "We plan to go live on 14 March.",
    "When we go live, who is on call?",
    "Before we're live we need the training.",
    "We went live on 20 March.",  # a future date: a plan, not a claim
    "> We are live!\nNot quite yet, see below.",  # quoted
    "Our old vendor's portal went live in 2019.",
    "Can you confirm the go-live date?",
])
def test_plans_questions_conditions_and_negations_are_not_claims(text):
    assert detect_went_live("Re: onboarding", text, THURSDAY, NY) is None


def test_the_subject_counts_when_the_text_says_nothing():
    found = detect_went_live("We are live!", "Thanks everyone.", THURSDAY, NY)
    assert found is not None and found.on == date(2027, 3, 4) and not found.day_said
