"""Reading a playbook's ``[survey]`` and ``[summary]`` tables: the 0-10 survey and the end-of-engagement mail.

::

    [survey]
    after_meeting = "first-month-review"   # once this meeting has ended; or:
    # after = "golive"                     # once the go-live day is over, or "close": once closed
    question = "How likely are you to recommend us to a colleague? Reply with a number from 0 to 10."

    [summary]
    customer_summary = true                # the customer gets a summary when the engagement closes

Without ``[survey]`` no survey goes; without ``question`` it asks
:data:`~ticketing.core.surveys.DEFAULT_QUESTION`. The internal summary (to the engineer and the
managers) goes for every closed engagement; ``customer_summary`` adds the customer's. Problems are
reported as the rest of :mod:`ticketing.files.playbooks` reports them, keyed ``survey.FIELD``.
"""
from __future__ import annotations

from ticketing.core.surveys import DEFAULT_QUESTION, SURVEY_AFTER, SurveySpec
from ticketing.files.playbook_fields import Key, Report, read_fields

#: The keys of the playbook's top level these tables add.
TOP_KEYS = {"survey": Key("table", False, '{ after_meeting = "first-month-review" }'),
            "summary": Key("table", False, "{ customer_summary = true }")}
_SURVEY = {"after_meeting": Key("str", False, '"first-month-review"'), "after": Key("str", False, '"golive" or "close"'),
           "question": Key("str", False, f'"{DEFAULT_QUESTION}"')}
_SUMMARY = {"customer_summary": Key("bool", False, "true")}


def read_survey(table: dict | None, meetings: set[str], report: Report) -> SurveySpec | None:
    """The playbook's survey (None without ``[survey]``); every problem is reported."""
    if table is None:
        return None
    f = read_fields(table, _SURVEY, "survey.", report)
    meeting, after = f.get("after_meeting"), f.get("after")
    if (meeting is None) == (after is None):
        report("survey", "say when the survey goes: after_meeting or after, one of them",
               'write after_meeting = "KEY" (a meeting of this playbook) or after = "golive" or "close"')
    elif meeting is not None and meeting not in meetings:
        report("survey.after_meeting", f"no meeting {meeting!r} in this playbook",
               f"use one of: {', '.join(sorted(meetings)) or '(none)'}")
    elif after is not None and after not in SURVEY_AFTER:
        report("survey.after", f"unknown moment {after!r}", 'use "golive" or "close"')
    question = " ".join(f.get("question", DEFAULT_QUESTION).split())
    return SurveySpec(after_meeting=meeting, after=after, question=question)


def read_summary(table: dict | None, report: Report) -> bool:
    """Whether the customer gets a summary when the engagement closes (``[summary] customer_summary``)."""
    if table is None:
        return False
    return read_fields(table, _SUMMARY, "summary.", report).get("customer_summary", False)
