"""Reading and checking a playbook's ``[success]`` table into :class:`~ticketing.core.success.SuccessTargets`.

::

    [success]                        # optional, every key optional
    max_weeks = 10                   # go-live within 10 weeks of the start
    min_survey = 8                   # the customers' average survey score at least 8 (0-10)
    tasks_on_time_percent = 80       # at least 80% of the tasks done by their due date
    required_meetings = ["admin-training", "user-training"]   # meetings that must be held

:mod:`ticketing.core.metrics` measures each engagement against them. Problems are keyed
``success.FIELD``, as the rest of :mod:`ticketing.files.playbooks` reports them.
"""
from __future__ import annotations

from ticketing.core.success import SuccessTargets
from ticketing.files.playbook_fields import Key, Report, read_fields

EXAMPLE = "{ max_weeks = 10, min_survey = 8 }"
_SUCCESS = {
    "max_weeks": Key("int", False, "10"), "min_survey": Key("any", False, "8"),
    "tasks_on_time_percent": Key("int", False, "80"), "required_meetings": Key("strs", False, '["admin-training"]'),
}


def read_success(table: dict, meetings: set[str], report: Report) -> SuccessTargets:
    """The targets ``table`` sets; every problem is reported (a target with one is left out)."""
    f = read_fields(table, _SUCCESS, "success.", report)
    weeks, percent, survey = f.get("max_weeks"), f.get("tasks_on_time_percent"), f.get("min_survey")
    if weeks is not None and weeks < 1:
        report("success.max_weeks", "must be at least 1", "set max_weeks = 10")
        weeks = None
    if percent is not None and not 0 <= percent <= 100:
        report("success.tasks_on_time_percent", f"{percent} is not a percentage from 0 to 100", "set tasks_on_time_percent = 80")
        percent = None
    if survey is not None and (isinstance(survey, bool) or not isinstance(survey, (int, float)) or not 0 <= survey <= 10):
        report("success.min_survey", f"{survey!r} is not a score from 0 to 10", "set min_survey = 8")
        survey = None
    required = []
    for index, key in enumerate(f.get("required_meetings", ())):
        if key not in meetings:
            report(f"success.required_meetings[{index}]", f"no meeting {key!r} in this playbook",
                   f"use one of: {', '.join(sorted(meetings)) or '(none)'}")
        elif key not in required:
            required.append(key)
    return SuccessTargets(max_weeks=weeks, min_survey=float(survey) if survey is not None else None,
                          tasks_on_time_percent=percent, required_meetings=tuple(required))
