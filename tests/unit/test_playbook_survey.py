"""A playbook's [survey] and [summary] tables: read with a default question, refused when they say
nothing of when, name a meeting the playbook lacks or an unknown moment."""
from __future__ import annotations

from ticketing.core.surveys import DEFAULT_QUESTION, SurveySpec
from ticketing.files.playbook_survey import read_summary, read_survey
from ticketing.files.playbooks import default_playbooks_dir, load_playbooks


def read(table):
    problems = []
    spec = read_survey(table, {"first-month-review", "kickoff"}, lambda key, message, fix: problems.append((key, message)))
    return spec, problems


def test_a_survey_after_a_meeting_asks_the_default_question():
    assert read({"after_meeting": "first-month-review"}) == (SurveySpec(after_meeting="first-month-review",
                                                                        question=DEFAULT_QUESTION), [])
    assert read({"after": "close", "question": "Would you  recommend us?\n(0-10)"})[0].question == \
        "Would you recommend us? (0-10)"


def test_a_survey_that_cannot_be_placed_is_refused_with_the_key():
    assert read({})[1][0][0] == "survey"
    assert read({"after_meeting": "kickoff", "after": "close"})[1][0][0] == "survey"
    assert read({"after_meeting": "review"})[1] == [("survey.after_meeting", "no meeting 'review' in this playbook")]
    assert read({"after": "launch"})[1] == [("survey.after", "unknown moment 'launch'")]
    assert read({"after": "close", "when": "soon"})[1][0][0] == "survey.when"


def test_the_customer_summary_is_asked_for_in_summary():
    problems = []
    assert read_summary({"customer_summary": True}, lambda *a: problems.append(a)) is True
    assert read_summary(None, lambda *a: problems.append(a)) is False
    assert read_summary({"customer_summary": "yes"}, lambda *a: problems.append(a)) is False and problems


def test_the_shipped_playbooks_survey_as_their_sources_say():
    playbooks = load_playbooks(default_playbooks_dir())
    assert playbooks["white-glove"].survey.after_meeting == "first-month-review"
    assert playbooks["quickstart"].survey.after_meeting == "closure"
    assert playbooks["enterprise-onboarding"].survey.after_meeting == "debrief"
    assert playbooks["professional-services"].survey.after == "close"
    assert playbooks["sprint-zero"].survey is None
    assert [n for n, p in playbooks.items() if p.customer_summary] == ["professional-services"]
