from ticketing.config import PrioritiesConfig, PriorityRule
from ticketing.core.priority import support_priority

RULES = PrioritiesConfig(
    default="P3", tier_default={"enterprise": "P2"},
    rules=(PriorityRule("P0", ("outage", "production down", "data loss")), PriorityRule("P1", ("down", "security", "production"))),
)


def test_the_tier_sets_the_default_and_keywords_raise_it():
    assert support_priority("Question", "How do I export?", None, RULES) == ("P3", "default priority")
    assert support_priority("Question", "How do I export?", "Enterprise", RULES)[0] == "P2"
    assert support_priority("Outage!", "", None, RULES) == ("P0", "keyword 'outage' (rule 1)")
    assert support_priority("Help", "our production\n  down since 9am", None, RULES)[0] == "P0"


def test_keywords_match_whole_words_only():
    assert support_priority("Download fails", "The downloader shows an error", None, RULES)[0] == "P3"
    assert support_priority("Site is down", "", None, RULES)[0] == "P1"
