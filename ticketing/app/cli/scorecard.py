"""``whiteglove engagement ID``'s milestones and success metrics, printed under its heading: the
verdict with its reasons first, then one line per metric with its target (see :mod:`ticketing.core.metrics`)."""
from __future__ import annotations

from ticketing.core.domain import Engagement
from ticketing.core.metrics import EngagementMetrics


def milestones_lines(engagement: Engagement) -> list[str]:
    """The engagement's status and milestones, one line."""
    signed = (f"{engagement.signed_off_on}" + (f" by {engagement.signed_off_by}" if engagement.signed_off_by else "")
              if engagement.signed_off_on else "not yet")
    closed = f"{engagement.closed_at:%Y-%m-%d %H:%M} UTC" if engagement.closed_at else "not yet"
    return [f"  {engagement.status}: went live {engagement.live_on or 'not yet'}, signed off {signed}, closed {closed}"]


def metrics_lines(m: EngagementMetrics) -> list[str]:
    """The verdict, its reasons, and the metrics with their targets."""
    t = m.targets
    lines = [f"  Health: {m.health.verdict.label} (as of {m.today})"]
    lines += [f"    - {reason}" for reason in m.health.reasons]
    lines.append("  Metrics:")
    lines.append(f"    go-live   {_golive(m)}")
    length = f"business day {m.business_days}" + (f" of {m.planned_days} planned" if m.planned_days else "")
    lines.append(f"    length    {length}")
    overdue = ", ".join(f"{task.key} ({task.owner}, due {task.due})" for task in m.overdue_tasks)
    target = f", target {t.tasks_on_time_percent}%" if t.tasks_on_time_percent is not None else ""
    lines.append(f"    tasks     done on time {m.tasks_on_time}{target}; {len(m.overdue_tasks)} overdue"
                 f"{': ' + overdue if overdue else ''}; {len(m.blocked_tasks)} blocked")
    required = (f"; required held {m.required_meetings_held.met}/{m.required_meetings_held.total}"
                if m.required_meetings_held.total else "")
    lines.append(f"    meetings  held {m.meetings_held.met} of {m.meetings_held.total} ({m.meetings_ahead} ahead, "
                 f"{m.meetings_cancelled} cancelled){required}")
    target = f", target {t.min_survey:g}" if t.min_survey is not None else ""
    survey = (f"average {m.survey_average:g} of 10 from {m.survey_count} answer{'s' if m.survey_count != 1 else ''}"
              if m.survey_count else "no answers yet")
    lines.append(f"    survey    {survey}{target}")
    return lines


def _golive(m: EngagementMetrics) -> str:
    weeks = f"within {m.targets.max_weeks} weeks" if m.targets.max_weeks is not None else ""
    if m.live_on is not None:
        plan = (f", planned {m.planned_golive}" + (f" ({_late(m.golive_days_late)})" if m.golive_days_late else
                                                     " (on the day)")) if m.planned_golive else ""
        said = f"live on {m.live_on}{plan}, {m.weeks_to_golive:g} weeks from the start"
        return said + (f"; target {weeks}" if weeks else "")
    if m.planned_golive is None:
        said = "no date yet"
    else:
        said = f"planned {m.planned_golive}, not live yet" + (f" ({_late(m.golive_days_late)})" if m.golive_days_late
                                                              else "")
    if m.weeks_to_golive is not None:
        said += f"; {m.weeks_to_golive:g} weeks since the start"
    return said + (f"; target {weeks}" if weeks else "")


def _late(days: int) -> str:
    return f"{days} day{'s' if abs(days) != 1 else ''} late" if days > 0 else f"{-days} day{'s' if days != -1 else ''} early"
