"""The weekly SLA summary as managers receive it (pure): the mail's parts and its CSV attachment.

:func:`render_weekly` gives the mail's text and HTML parts of a :class:`~ticketing.core.report.Summary`
from ``templates/weekly.*``; :func:`weekly_csv` the attachment, the week's tickets. The figures
themselves, and how they are counted, are :mod:`ticketing.core.report`'s.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ticketing.core.mails import Templates
from ticketing.core.portfolio import GOLIVE_DAYS, Portfolio
from ticketing.core.report import (
    CLOCKS,
    EngagementFacts,
    LateClock,
    Ratio,
    Summary,
    whole_minutes,
)
from ticketing.core.report_input import MeetingFacts
from ticketing.core.words import zone_label

# -- words ----------------------------------------------------------------------------------------

def plain_duration(value: timedelta | None) -> str:
    """``"2 h 10 min"``, ``"40 min"``, ``"26 h"``: hours and whole minutes (rounded down), "n/a" for None."""
    if value is None:
        return "n/a"
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return "under 1 min" if value > timedelta(0) else "0 min"
    hours, minutes = divmod(minutes, 60)
    return " ".join(p for p in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if p)


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return "n/a"
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _period(monday: date) -> str:
    sunday = monday + timedelta(days=6)
    if monday.year != sunday.year:
        return f"{monday.day} {monday:%B %Y} – {sunday.day} {sunday:%B %Y}"
    if monday.month != sunday.month:
        return f"{monday.day} {monday:%B} – {sunday.day} {sunday:%B %Y}"
    return f"{monday.day}–{sunday.day} {sunday:%B %Y}"


def _signed(value: int | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return "no change" if value == 0 else f"{value:+d}{unit}"


# -- the mail -------------------------------------------------------------------------------------

def render_weekly(summary: Summary, renderer: Templates) -> tuple[str, str]:
    """The mail's ``(text, html)`` parts from ``templates/weekly.txt`` and ``weekly.html``."""
    return renderer.render("weekly", **_context(summary))


def _context(s: Summary) -> dict:
    tz, this, prev, change = s.timezone, s.this, s.previous, s.changes()

    def late(item: LateClock) -> dict:
        t = item.ticket
        return {"id": t.id, "subject": t.subject, "customer": t.customer, "engineer": s.engineer_name(t.engineer),
                "priority": t.priority, "clock": CLOCKS[item.clock], "late": plain_duration(item.late),
                "at": _local(item.facts.breached_at, tz), "due": _local(item.facts.due, tz), "why": item.facts.why}

    def meeting(m: MeetingFacts) -> dict:
        when, engineer = _local(m.start, tz), s.engineer_name(m.engineer)
        return {"when": when, "account": m.account, "title": m.title, "engineer": engineer,
                "cells": (m.account, when, m.title, engineer)}

    def engagement(e: EngagementFacts) -> dict:
        days = (e.golive - s.now.astimezone(tz).date()).days if e.golive else None
        golive = f"{_day(e.golive)} ({ {0: 'today', 1: 'tomorrow'}.get(days, f'in {days} days') })" if e.golive else ""
        elapsed, planned = e.business_days_elapsed, e.planned_days
        over = f"day {elapsed} of {planned} ({elapsed - planned} over)" if planned is not None else ""
        engineer, playbook = s.engineer_name(e.engineer), e.playbook or "no playbook"
        return {"account": e.account, "engineer": engineer, "playbook": playbook, "golive": golive, "over": over,
                "golive_cells": (e.account, golive, engineer, playbook),
                "over_cells": (e.account, over, engineer, playbook)}

    engineers = [e for e, _ in this.first_response.by_engineer]
    fr, res = dict(this.first_response.by_engineer), dict(this.resolution.by_engineer)
    return {
        "label": s.label, "period": _period(s.week_start), "timezone": tz.key, "zone": zone_label(tz, s.now),
        "manager_name": s.manager_name, "manager_email": s.manager_email,
        "team": _and([name for _, name in s.engineers]) or "no engineers",
        "lead": _lead(s),
        "glance": [
            _glance("Tickets opened", this.opened, prev.opened, change["opened"]),
            _glance("Tickets resolved", this.resolved, prev.resolved, change["resolved"]),
            _glance("First response within target", this.first_response.overall, prev.first_response.overall,
                    change["first_response_pp"]),
            _glance("Resolution within target", this.resolution.overall, prev.resolution.overall,
                    change["resolution_pp"]),
        ],
        "breaches": [late(b) for b in s.breaches],
        "overdue": [late(o) for o in s.open_past_target],
        "chart": [{"name": s.engineer_name(e or None), "bars": [
            {"label": "First response", "width": fr[e].percent, "value": str(fr[e]), "colour": "#0969da"},
            {"label": "Resolution", "width": res[e].percent, "value": str(res[e]), "colour": "#8250df"}]}
            for e in engineers],
        "priorities": [{"priority": p, "first_response": str(r), "resolution": str(dict(
            this.resolution.by_priority)[p])} for p, r in this.first_response.by_priority],
        "times": [{"clock": CLOCKS[name], "count": f.times.count, "median": plain_duration(f.times.median),
                   "p90": plain_duration(f.times.p90)}
                  for name, f in (("first_response", this.first_response), ("resolution", this.resolution))],
        "meetings_held": [meeting(m) for m in s.meetings_held],
        "meetings_next": [meeting(m) for m in s.meetings_next_week],
        "golives": [engagement(e) for e in s.golives],
        "overruns": [engagement(e) for e in s.past_planned_length],
        "portfolio": _portfolio(s.portfolio, s),
        "generated": _local(s.now, tz),
    }


#: The colour of each health in the HTML part, with the text part's words.
HEALTH_COLOURS = {"late": "#cf222e", "at_risk": "#bc4c00", "on_track": "#1a7f37", "": "#656d76"}


def _portfolio(p: Portfolio, s: Summary) -> dict:
    """The portfolio's rows in words: each engagement with its health and why, the go-lives, the owners."""
    today = s.now.astimezone(s.timezone).date()

    def row(e) -> dict:
        closed = f"closed {_day(e.closed_on)}" if e.closed_on else ""
        why = "; ".join(e.reasons) or ("nothing overdue, nothing past plan" if e.health == "on_track" else "")
        return {"account": e.account, "health": e.health_label, "colour": HEALTH_COLOURS.get(e.health, "#656d76"),
                "why": why, "closed": closed, "engineer": s.engineer_name(e.engineer),
                "playbook": e.playbook or "no playbook"}

    def golive(e) -> dict:
        days = (e.golive - today).days
        when = f"{_day(e.golive)} ({ {0: 'today', 1: 'tomorrow'}.get(days, f'in {days} days') })"
        return {"when": when, "account": e.account, "engineer": s.engineer_name(e.engineer), "health": e.health_label,
                "colour": HEALTH_COLOURS.get(e.health, "#656d76")}

    counts = [f"{p.count(h)} {h.replace('_', ' ')}" for h in ("late", "at_risk", "on_track") if p.count(h)]
    return {
        "rows": [row(e) for e in p.engagements],
        "summary": f"{len(p.engagements)} engagement{'s' if len(p.engagements) != 1 else ''}"
                   + (f": {', '.join(counts)}" if counts else ""),
        "golive_days": GOLIVE_DAYS,
        "golives": [golive(e) for e in p.golives],
        "owners": [{"owner": owner, "count": len(items), "tasks": [
            {"account": e.account, "name": t.name, "due": _day(t.due),
             "late": f"{t.days_overdue} day{'s' if t.days_overdue != 1 else ''} overdue"} for e, t in items]}
            for owner, items in p.overdue_by_owner],
    }


def _glance(label: str, value: int | Ratio, before: int | Ratio, change: int | None) -> dict:
    """One headline figure: ``big`` and ``detail`` split a ratio into "75%" and "3 of 4"."""
    if isinstance(value, Ratio):
        big = "n/a" if value.percent is None else f"{value.percent}%"
        detail = f"{value.met} of {value.total} met" if value.total else "none settled"
        tone = "neutral" if not change else "good" if change > 0 else "bad"
        return {"label": label, "value": str(value), "big": big, "detail": detail, "before": str(before),
                "change": _signed(change, " pp"), "tone": tone}
    return {"label": label, "value": str(value), "big": str(value), "detail": "tickets", "before": str(before),
            "change": _signed(change), "tone": "neutral"}


def _lead(s: Summary) -> str:
    """The opening sentence: what needs the manager's attention, in counts."""
    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"
    parts = [count(len(s.breaches), "target missed this week", "targets missed this week") if s.breaches
             else "No target missed this week"]
    late = len({o.ticket.id for o in s.open_past_target})
    parts.append(count(late, "ticket past its target now", "tickets past their target now") if late
                 else "no open ticket past its target")
    if s.golives:
        parts.append(count(len(s.golives), "go-live in the next two weeks", "go-lives in the next two weeks"))
    if s.past_planned_length:
        parts.append(count(len(s.past_planned_length), "engagement past its planned length",
                           "engagements past their planned length"))
    return _and(parts) + "."


def _and(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


# -- the attachment -------------------------------------------------------------------------------

CSV_COLUMNS = ("id", "subject", "customer", "engineer", "priority", "kind", "status", "created",
               "first_response_state", "first_response_used_minutes", "first_response_target_minutes",
               "resolution_state", "resolution_used_minutes", "resolution_target_minutes")


def weekly_csv(summary: Summary) -> bytes:
    """The week's tickets as CSV (RFC 4180, CRLF), UTF-8 with a byte-order mark so Excel reads it.

    One row per ticket of :attr:`Summary.tickets`; times in the manager's zone with their offset,
    durations in whole minutes. A cell that a spreadsheet would take for a formula (it starts
    with ``= + - @``, tab or CR) gets a leading apostrophe: subjects come from customers' mail.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for t in summary.tickets:
        clocks = [v for c in (t.first_response, t.resolution)
                  for v in (c.state, whole_minutes(c.used), whole_minutes(c.target))]
        writer.writerow([t.id, *map(_cell, (t.subject, t.customer, t.engineer or "", t.priority, t.kind, t.status)),
                         t.created_at.astimezone(summary.timezone).isoformat(timespec="minutes"),
                         *("" if v is None else v for v in clocks)])
    return out.getvalue().encode("utf-8-sig")


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
