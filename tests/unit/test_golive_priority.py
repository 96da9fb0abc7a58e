"""A go-live intent's priority follows its day, not the tone of the mail (pure)."""
from datetime import date

import pytest

from ticketing.config import PrioritiesConfig
from ticketing.core.priority import golive_priority

TODAY = date(2026, 11, 18)


@pytest.mark.parametrize("golive, priority", [
    (date(2026, 11, 10), "P1"),  # passed: whatever it is, it is now
    (TODAY, "P1"),
    (date(2026, 11, 23), "P1"),  # 5 days: golive_near_days
    (date(2026, 11, 24), "P2"),  # 6 days
    (date(2026, 12, 3), "P2"),  # 15 days: golive_soon_days
    (date(2026, 12, 4), "P3"),  # 16 days: planned ahead
    (date(2027, 2, 1), "P3"),
    (None, "P3"),  # "in February": no single day
])
def test_the_nearer_the_cut_over_the_higher_the_priority(golive, priority):
    assert golive_priority(golive, TODAY, PrioritiesConfig())[0] == priority


def test_the_thresholds_and_priorities_are_the_operators():
    rules = PrioritiesConfig(golive_intent="P2", golive_near_days=1, golive_soon_days=3, default="P3")
    assert [golive_priority(date(2026, 11, 18 + d), TODAY, rules)[0] for d in range(5)] == ["P2", "P2", "P3", "P3", "P3"]
    rules = PrioritiesConfig(golive_intent="P0", golive_near_days=2, golive_soon_days=10, default="P2")
    assert [golive_priority(date(2026, 11, 18 + d), TODAY, rules)[0] for d in (2, 3, 11)] == ["P0", "P1", "P2"]


def test_the_reason_says_how_far_the_day_is():
    assert golive_priority(date(2026, 11, 20), TODAY, PrioritiesConfig())[1] == "go-live in 2 days (at most 5 days away)"
    assert "planned ahead" in golive_priority(date(2027, 1, 14), TODAY, PrioritiesConfig())[1]
    assert "without a single day" in golive_priority(None, TODAY, PrioritiesConfig())[1]
