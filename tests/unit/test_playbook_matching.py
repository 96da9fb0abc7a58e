"""Choosing a playbook by the words of a CRM's package name."""
import pytest

from ticketing.core.playbooks import playbook_for_tier, tier_words
from ticketing.files.playbooks import default_playbooks_dir, load_playbooks


@pytest.fixture(scope="module")
def shipped():
    return load_playbooks(default_playbooks_dir())


@pytest.mark.parametrize("package, playbook", [
    ("Enterprise (white-glove onboarding)", "white-glove"),  # "White Glove" is more words than "Enterprise"
    ("Quickstart Advanced (Default)", "quickstart"),
    ("QuickStart Advanced & Advanced Services SOW", "quickstart"),  # two words of quickstart beat one of SOW
    ("WHITE_GLOVE", "white-glove"),
    ("Enterprise - annual", "enterprise-onboarding"),
    ("Professional-Services SOW #2", "professional-services"),
])
def test_a_package_is_matched_by_the_words_of_a_tier(shipped, package, playbook):
    assert playbook_for_tier(shipped, package).name == playbook


def test_words_must_appear_together_and_whole(shipped):
    assert playbook_for_tier(shipped, "Glove White") is None
    assert playbook_for_tier(shipped, "Enterprises") is None
    assert playbook_for_tier(shipped, "Platinum Mystery") is None


def test_the_default_playbook_serves_a_package_nothing_matches(shipped):
    assert playbook_for_tier(shipped, "Platinum Mystery", "quickstart").name == "quickstart"
    assert playbook_for_tier(shipped, None, "quickstart").name == "quickstart"
    assert playbook_for_tier(shipped, "Enterprise", "quickstart").name == "enterprise-onboarding"
    assert playbook_for_tier(shipped, "Platinum", "no-such-playbook") is None


def test_tier_words_ignore_case_punctuation_and_hyphens():
    assert tier_words("QuickStart-Advanced (Default)") == ("quickstart", "advanced", "default")
    assert tier_words("Sprint 0") == ("sprint", "0")
