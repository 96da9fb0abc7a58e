"""A playbook's success targets, its ``[success]`` table (pure): what :mod:`ticketing.core.metrics`
measures an engagement against. Read and checked by :mod:`ticketing.files.playbook_success`."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SuccessTargets:
    """A playbook's ``[success]`` table: what counts as a success for its engagements (None: no target)."""

    max_weeks: int | None = None  # go-live within this many weeks of the start
    min_survey: float | None = None  # the customers' average score at least this (0-10)
    tasks_on_time_percent: int | None = None  # at least this share of the tasks done by their due date
    required_meetings: tuple[str, ...] = ()  # meeting keys that must be held (e.g. the trainings)

    def as_json(self) -> dict:
        return {"max_weeks": self.max_weeks, "min_survey": self.min_survey,
                "tasks_on_time_percent": self.tasks_on_time_percent, "required_meetings": list(self.required_meetings)}
