"""The weekly SLA summary: every figure of a fixture week computed by hand, its mail, its CSV, and
the HTML as a real browser renders it."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from mailer.html import html_to_text
from support.browser import chromium
from ticketing.report import (
    ClockFacts, EngagementFacts, MeetingFacts, Ratio, TicketFacts, WeekInput, iso_week_label, last_completed_week,
    parse_iso_week, week_of, weekly_summary,
)
from ticketing.report_mail import CSV_COLUMNS, plain_duration, render_weekly, weekly_csv
from ticketing.templates import Renderer

UTC = ZoneInfo("UTC")
LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
H, MIN = timedelta(hours=1), timedelta(minutes=1)
ANA, LI = "ana.ruiz@northwind.example", "li.chen@northwind.example"


def la(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A Pacific wall time in November 2026 (PST, UTC-8 all month: DST ended on 1 November), as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=LA).astimezone(UTC)


def clock(state, target=None, used=None, stopped=None, due=None, breached=None, why=""):
    return ClockFacts(state=state, target=target, used=used, stopped_at=stopped, due=due, breached_at=breached,
                      why=why)


def ticket(id, subject, customer, engineer, priority, status, created, first_response, resolution):
    return TicketFacts(id=id, subject=subject, customer=customer, engineer=engineer, priority=priority,
                       kind="support", status=status, created_at=created, first_response=first_response,
                       resolution=resolution)


# The fixture week: 2026-W47, Monday 16 to Sunday 22 November 2026, for a manager in Los Angeles,
# summarised on Monday 23 November at 11:00. P0/P1 run on a 24x7 clock; P2/P3 on business hours
# (Monday to Friday 08:00-17:00 Pacific, 9 h a day). Each clock's numbers are worked out beside it.
NOW = la(23, 11)
TICKETS = (
    # This week. P0, Ana: answered in 40 min (met); resolved Tue 17 11:00, 26 h after 09:00 Monday
    # on 24x7 against 8 h: breached at Mon 16 17:00, 18 h late.
    ticket(101, "SSO login loops for all users", "Globex", ANA, "P0", "resolved", la(16, 9),
           clock("met", 2 * H, 40 * MIN, la(16, 9, 40), la(16, 11), why="40 min on 24x7, target 2 h"),
           clock("breached", 8 * H, 26 * H, la(17, 11), la(16, 17), la(16, 17), why="26 h on 24x7, target 8 h")),
    # P3, Li, created Tue 10:00: 7 h on Tuesday + 1 h on Wednesday = 8 h, so first response was due
    # Wed 09:00 and breached then; answered Wed 10:30 = 9 h 30 min used, 1 h 30 min late. Resolved
    # Thu 15:00 = 7 + 9 + 7 = 23 business hours of 45: met.
    ticket(102, "How do I export audit logs?", "Initech", LI, "P3", "resolved", la(17, 10),
           clock("breached", 8 * H, 9 * H + 30 * MIN, la(18, 10, 30), la(18, 9), la(18, 9),
                 why="9 h 30 min on us-pacific business hours, target 8 h"),
           clock("met", 45 * H, 23 * H, la(19, 15), la(24, 10), why="23 h on us-pacific business hours, target 45 h")),
    # P2, Ana, created Thu 10:00: answered in 1 h (met). Resolved NEXT week, Mon 23 07:00 (before
    # business hours: Thu 7 h + Fri 9 h = 16 h of 24): counts neither as resolved nor in this week's times.
    ticket(103, "Webhook deliveries retried twice", "Globex", ANA, "P2", "resolved", la(19, 10),
           clock("met", 4 * H, 1 * H, la(19, 11), la(19, 14), why="1 h on us-pacific business hours, target 4 h"),
           clock("met", 24 * H, 16 * H, la(23, 7), la(23, 16), why="16 h on us-pacific business hours, target 24 h")),
    # P1, Li, created Fri 08:00: answered in 1 h (met); resolution paused waiting on the customer
    # after 3 h of 8: not settled, no due time, not past target.
    ticket(104, "SCIM provisioning fails for new hires", "Initech", LI, "P1", "pending", la(20, 8),
           clock("met", 2 * H, 1 * H, la(20, 9), la(20, 10), why="1 h on 24x7, target 2 h"),
           clock("paused", 8 * H, 3 * H, why="3 h on 24x7, target 8 h; paused since Fri 11:00 waiting on customer")),
    # P2, Ana, created Fri 15:00: first response due after 2 h on Friday + 2 h on Monday = Mon 23 10:00,
    # still unanswered at 11:00 and not yet marked breached (state running, due < now): 1 h overdue.
    ticket(108, "Cannot add a second admin", "Globex", ANA, "P2", "open", la(20, 15),
           clock("running", 4 * H, 5 * H, due=la(23, 10), why="5 h on us-pacific business hours, target 4 h"),
           clock("running", 24 * H, 5 * H, due=la(25, 12), why="5 h on us-pacific business hours, target 24 h")),
    # The previous week (9-15 November). P2, Ana: answered in 1 h, resolved Wed 11 16:00 after 16 h: both met.
    ticket(105, "Bulk import rejects a CSV with a BOM", "Globex", ANA, "P2", "resolved", la(10, 9),
           clock("met", 4 * H, 1 * H, la(10, 10), la(10, 13)),
           clock("met", 24 * H, 16 * H, la(11, 16), la(12, 9))),
    # P3, Li, created Thu 12 14:00: answered Fri 13 09:00 = 3 + 1 = 4 h (met, last week). Resolution
    # still open: 45 business hours were reached on Thu 19 at 14:00 (3 + 9 + 9 + 9 + 9 + 6), so it
    # breached THIS week; still running at now, late by now - due = Mon 23 11:00 - Thu 19 14:00 = 93 h.
    ticket(106, "Audit log retention question", "Initech", LI, "P3", "open", la(12, 14),
           clock("met", 8 * H, 4 * H, la(13, 9), la(13, 13)),
           clock("breached", 45 * H, 60 * H, None, la(19, 14), la(19, 14),
                 why="60 h on us-pacific business hours, target 45 h")),
    # P1, Ana, created Fri 13 22:00 (24x7): answered Sat 14 01:30 = 3 h 30 min, breached Sat 00:00
    # (last week's breach, not this week's); resolved Sat 05:00 = 7 h of 8: met.
    ticket(107, "API returns 500 on login", "Globex", ANA, "P1", "resolved", la(13, 22),
           clock("breached", 2 * H, 3 * H + 30 * MIN, la(14, 1, 30), la(14, 0), la(14, 0)),
           clock("met", 8 * H, 7 * H, la(14, 5), la(14, 6))),
)
MEETINGS = (
    MeetingFacts(8, "Initech", "Scoping call", la(13, 10), la(13, 11), LI),  # last week: not shown
    MeetingFacts(7, "Globex", "Kickoff", la(17, 10), la(17, 11), ANA),  # held this week
    MeetingFacts(8, "Initech", "Technical deep dive", la(25, 13), la(25, 14, 30), LI),  # next week
    MeetingFacts(7, "Globex", "Cut-over rehearsal", la(1, 9, month=12), la(1, 10, month=12), ANA),  # the week after
)
ENGAGEMENTS = (
    # Today is Monday 23 November: a go-live on 3 December is 10 days away (shown), 13 December 20 (not).
    EngagementFacts(7, "Globex", ANA, "enterprise", date(2026, 12, 3), 12, 20),
    EngagementFacts(8, "Initech", LI, "enterprise", date(2026, 12, 13), 20, 20),  # at its length, not past it
    EngagementFacts(9, "Umbrella Corp", ANA, "quickstart", None, 32, 25),  # 7 business days past its length
    EngagementFacts(10, "Hooli", LI, None, None, 40, None),  # no playbook length: never past it
)
WEEK = WeekInput(
    manager_name="Dana Whitfield", manager_email="dana.whitfield@northwind.example", timezone=LA,
    week_start=date(2026, 11, 16), engineers=((ANA, "Ana Ruiz"), (LI, "Li Chen")),
    tickets=TICKETS, meetings=MEETINGS, engagements=ENGAGEMENTS, now=NOW,
)


@pytest.fixture(scope="module")
def summary():
    return weekly_summary(WEEK)


@pytest.fixture(scope="module")
def mail(summary):
    return render_weekly(summary, Renderer())


# -- weeks ----------------------------------------------------------------------------------------

def test_the_fixture_week_is_the_last_completed_week_at_its_now():
    assert last_completed_week(NOW, LA) == WEEK.week_start


@pytest.mark.parametrize("moment, tz, monday, last_completed", [
    # 07:59 UTC on Monday 23 November is Sunday 23:59 in Los Angeles (UTC-8) ...
    (datetime(2026, 11, 23, 7, 59, tzinfo=UTC), LA, date(2026, 11, 16), date(2026, 11, 9)),
    # ... and 08:00 UTC its Monday 00:00: the week of the 16th has just been completed.
    (datetime(2026, 11, 23, 8, 0, tzinfo=UTC), LA, date(2026, 11, 23), date(2026, 11, 16)),
    # Berlin is UTC+1 in November: 22:59 UTC on Sunday is 23:59 there, 23:00 UTC Monday 00:00.
    (datetime(2026, 11, 22, 22, 59, tzinfo=UTC), BERLIN, date(2026, 11, 16), date(2026, 11, 9)),
    (datetime(2026, 11, 22, 23, 0, tzinfo=UTC), BERLIN, date(2026, 11, 23), date(2026, 11, 16)),
    # The same instant is Monday in Berlin and still Sunday in Los Angeles.
    (datetime(2026, 11, 23, 7, 59, tzinfo=UTC), BERLIN, date(2026, 11, 23), date(2026, 11, 16)),
])
def test_the_week_turns_at_midnight_between_sunday_and_monday_in_the_managers_zone(
        moment, tz, monday, last_completed):
    assert week_of(moment, tz) == monday
    assert last_completed_week(moment, tz) == last_completed


def test_a_naive_moment_has_no_week():
    with pytest.raises(ValueError):
        week_of(datetime(2026, 11, 23, 8, 0), LA)


def test_iso_week_labels_and_their_mondays():
    assert iso_week_label(date(2026, 11, 16)) == "2026-W47"
    assert parse_iso_week("2026-W47") == date(2026, 11, 16)
    assert parse_iso_week(" 2026-W47\n") == date(2026, 11, 16)
    # 2026 begins on a Thursday, so it has a week 53 that ends in 2027; 30 December 2024 is in 2025-W01.
    assert parse_iso_week("2026-W53") == date(2026, 12, 28)
    assert iso_week_label(date(2027, 1, 1)) == "2026-W53"
    assert iso_week_label(date(2024, 12, 30)) == "2025-W01"
    assert parse_iso_week("2025-W01") == date(2024, 12, 30)


@pytest.mark.parametrize("label", ["2025-W53", "2026-W00", "2026-W54", "2026W47", "2026-w47", "26-W47",
                                   "2026-W4", "2026-W47x", "", "2026-11-16", "２０２６-W47"])
def test_anything_but_an_iso_week_is_refused(label):
    with pytest.raises(ValueError):
        parse_iso_week(label)


# -- the figures ----------------------------------------------------------------------------------

def test_tickets_opened_and_resolved_this_week_and_last(summary):
    # Opened this week: 101, 102, 103, 104, 108; last week: 105, 106, 107.
    assert (summary.this.opened, summary.previous.opened) == (5, 3)
    # Resolved this week: 101 (Tue, breached) and 102 (Thu, met); 103 only next Monday.
    # Last week: 105 (Wed) and 107 (Sat).
    assert (summary.this.resolved, summary.previous.resolved) == (2, 2)


def test_first_response_attainment(summary):
    fr = summary.this.first_response
    # Settled this week: 101 met, 102 breached (Wed), 103 met, 104 met; 108 still running.
    assert fr.overall == Ratio(3, 4) and fr.overall.percent == 75
    assert dict(fr.by_priority) == {"P0": Ratio(1, 1), "P1": Ratio(1, 1), "P2": Ratio(1, 1), "P3": Ratio(0, 1)}
    # Ana: 101 and 103 met; Li: 102 breached, 104 met.
    assert fr.by_engineer == ((ANA, Ratio(2, 2)), (LI, Ratio(1, 2)))
    # Last week: 105 and 106 met, 107 breached: 2/3 = 66.7%, shown as 67%.
    prev = summary.previous.first_response
    assert prev.overall == Ratio(2, 3) and prev.overall.percent == 67
    assert dict(prev.by_priority) == {"P0": Ratio(), "P1": Ratio(0, 1), "P2": Ratio(1, 1), "P3": Ratio(1, 1)}
    assert prev.by_engineer == ((ANA, Ratio(1, 2)), (LI, Ratio(1, 1)))


def test_resolution_attainment(summary):
    res = summary.this.resolution
    # Settled this week: 101 breached (Mon 17:00), 102 met (Thu), 106 breached (Thu 14:00, still open).
    # Not settled: 103 (met next Monday), 104 (paused), 108 (running).
    assert res.overall == Ratio(1, 3) and res.overall.percent == 33
    assert dict(res.by_priority) == {"P0": Ratio(0, 1), "P1": Ratio(), "P2": Ratio(), "P3": Ratio(1, 2)}
    assert res.by_engineer == ((ANA, Ratio(0, 1)), (LI, Ratio(1, 2)))
    # Last week: 105 and 107 met.
    prev = summary.previous.resolution
    assert prev.overall == Ratio(2, 2)
    assert prev.by_engineer == ((ANA, Ratio(2, 2)), (LI, Ratio()))


def test_nothing_settled_is_not_applicable_not_zero():
    assert Ratio().percent is None and str(Ratio()) == "n/a"
    assert str(Ratio(0, 1)) == "0% (0/1)" and str(Ratio(2, 3)) == "67% (2/3)"
    assert Ratio(1, 8).percent == 13  # 12.5 rounds half up


def test_median_and_90th_percentile_by_nearest_rank(summary):
    # First responses that stopped this week: 40 min (101), 1 h (103), 1 h (104), 9 h 30 min (102).
    # Median: rank ceil(0.5 x 4) = 2 -> 1 h; 90th: rank ceil(0.9 x 4) = 4 -> 9 h 30 min.
    fr = summary.this.first_response.times
    assert (fr.count, fr.median, fr.p90) == (4, 1 * H, 9 * H + 30 * MIN)
    # Resolutions that stopped this week: 23 h (102), 26 h (101); ranks ceil(1) = 1 and ceil(1.8) = 2.
    res = summary.this.resolution.times
    assert (res.count, res.median, res.p90) == (2, 23 * H, 26 * H)
    # Last week: first responses 1 h, 3 h 30 min, 4 h -> ranks 2 and 3; resolutions 7 h, 16 h -> ranks 1 and 2.
    prev = summary.previous
    assert (prev.first_response.times.median, prev.first_response.times.p90) == (3 * H + 30 * MIN, 4 * H)
    assert (prev.resolution.times.median, prev.resolution.times.p90) == (7 * H, 16 * H)


def test_changes_against_the_previous_week(summary):
    # Opened 5 - 3; resolved 2 - 2; first response 75 - 67 = 8 pp; resolution 33 - 100 = -67 pp.
    assert summary.changes() == {"opened": 2, "resolved": 0, "first_response_pp": 8, "resolution_pp": -67}


def test_every_breach_of_the_week_in_order_with_how_late(summary):
    # 101 resolution at Mon 16 17:00 (26 h - 8 h), 102 first response at Wed 18 09:00 (9 h 30 - 8 h),
    # 106 resolution at Thu 19 14:00, still running (now - due = 3 days 21 h). 107's breach was last week.
    assert [(b.ticket.id, b.clock, b.late) for b in summary.breaches] == [
        (101, "resolution", 18 * H), (102, "first_response", 1 * H + 30 * MIN), (106, "resolution", 93 * H)]
    assert summary.breaches[0].facts.why == "26 h on 24x7, target 8 h"


def test_tickets_open_past_their_target_now(summary):
    # 106's resolution (breached, running) and 108's first response (running, due 10:00 < 11:00);
    # 104's paused resolution has no due time, 108's resolution is due Wednesday.
    assert [(o.ticket.id, o.clock, o.late) for o in summary.open_past_target] == [
        (106, "resolution", 93 * H), (108, "first_response", 1 * H)]


def test_onboarding_meetings_golives_and_overruns(summary):
    assert [m.title for m in summary.meetings_held] == ["Kickoff"]
    assert [m.title for m in summary.meetings_next_week] == ["Technical deep dive"]
    assert [e.id for e in summary.golives] == [7]
    assert [e.id for e in summary.past_planned_length] == [9]


@pytest.mark.parametrize("days, shown", [(-1, False), (0, True), (13, True), (14, False)])
def test_go_lives_are_shown_from_today_for_fourteen_days(days, shown):
    golive = date(2026, 11, 23) + timedelta(days=days)  # NOW is Monday 23 November in Los Angeles
    data = WeekInput(**{**WEEK.__dict__, "engagements": (EngagementFacts(1, "Acme", ANA, None, golive, 1, 20),)})
    assert bool(weekly_summary(data).golives) is shown


def test_the_weeks_tickets_are_those_in_its_figures_or_overdue_now(summary):
    # 105 and 107 only matter for last week; 106 breached this week; the rest were opened this week.
    assert [t.id for t in summary.tickets] == [101, 102, 103, 104, 106, 108]


def test_a_resolved_ticket_without_a_target_is_resolved_but_not_in_attainment():
    bare = ticket(200, "Question", "Globex", ANA, "P3", "resolved", la(16, 9),
                  clock("", stopped=la(16, 10)), clock("", stopped=la(17, 10)))
    summary = weekly_summary(_replace_tickets(bare))
    assert summary.this.resolved == 1 and summary.this.resolution.overall == Ratio()


def test_an_unassigned_ticket_gets_its_own_row_after_the_team():
    stray = ticket(201, "Who owns this?", "Globex", None, "P2", "open", la(16, 9),
                   clock("met", 4 * H, 1 * H, la(16, 10)), clock("running", 24 * H, 2 * H, due=la(19, 9)))
    summary = weekly_summary(_replace_tickets(stray))
    assert summary.this.first_response.by_engineer == ((ANA, Ratio()), (LI, Ratio()), ("", Ratio(1, 1)))
    assert summary.engineer_name(None) == "Unassigned"


def test_a_week_must_start_on_a_monday():
    with pytest.raises(ValueError):
        weekly_summary(WeekInput(**{**WEEK.__dict__, "week_start": date(2026, 11, 17)}))


def test_the_json_figures(summary):
    data = summary.as_json()
    assert data["week"] == "2026-W47" and data["week_end"] == "2026-11-22"
    assert data["this_week"]["first_response"]["attainment"] == {"met": 3, "total": 4, "percent": 75}
    assert data["this_week"]["resolution"]["times"] == {"count": 2, "median_minutes": 23 * 60, "p90_minutes": 26 * 60}
    assert data["change"]["resolution_pp"] == -67
    assert [b["late_minutes"] for b in data["breaches"]] == [18 * 60, 90, 93 * 60]
    assert data["onboarding"]["golives"][0]["golive"] == "2026-12-03"


def _replace_tickets(*tickets) -> WeekInput:
    return WeekInput(**{**WEEK.__dict__, "tickets": tickets, "meetings": (), "engagements": ()})


# -- the CSV --------------------------------------------------------------------------------------

def test_the_csv_has_a_row_per_ticket_of_the_week(summary):
    data = weekly_csv(summary)
    assert data.startswith(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark, for Excel
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r[0] for r in rows[1:]] == ["101", "102", "103", "104", "106", "108"]
    assert rows[1] == ["101", "SSO login loops for all users", "Globex", ANA, "P0", "support", "resolved",
                       "2026-11-16T09:00-08:00", "met", "40", "120", "breached", "1560", "480"]
    assert rows[4][0] == "104" and rows[4][8:] == ["met", "60", "120", "paused", "180", "480"]


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_quoted():
    evil = ticket(202, "=HYPERLINK(\"http://x\")", "@Globex", ANA, "P3", "open", la(16, 9),
                  clock("running"), clock("running"))
    rows = list(csv.reader(io.StringIO(weekly_csv(weekly_summary(_replace_tickets(evil))).decode("utf-8-sig"))))
    assert rows[1][1:3] == ["'=HYPERLINK(\"http://x\")", "'@Globex"]


# -- the mail -------------------------------------------------------------------------------------

# The figures a reader must find in both parts (and in the page the browser renders).
FIGURES = [
    "2026-W47", "16–22 November 2026", "Dana Whitfield", "Ana Ruiz and Li Chen", "America/Los_Angeles",
    "3 targets missed this week, 2 tickets past their target now, 1 go-live in the next two weeks and "
    "1 engagement past its planned length.",
    "67% (2/3)", "+8 pp", "100% (2/2)", "-67 pp", "+2", "no change",  # last week and the changes
    "#101 SSO login loops for all users", "18 h late", "resolution breached Mon 16 Nov 17:00",
    "#102 How do I export audit logs?", "1 h 30 min late", "first response breached Wed 18 Nov 09:00",
    "#106 Audit log retention question", "93 h late", "93 h overdue", "resolution due Thu 19 Nov 14:00",
    "#108 Cannot add a second admin", "1 h overdue", "first response due Mon 23 Nov 10:00",
    "26 h on 24x7, target 8 h", "Globex", "Initech", "P0", "P3",
    "Ana Ruiz", "Li Chen", "100% (2/2)", "0% (0/1)", "50% (1/2)", "100% (1/1)", "n/a",
    "1 h", "9 h 30 min", "23 h", "26 h",
    "Kickoff", "Tue 17 Nov 10:00", "Technical deep dive", "Wed 25 Nov 13:00",
    "Thu 3 Dec (in 10 days)", "Umbrella Corp", "day 32 of 25 (7 over)",
]
# This week's overall attainment: a table row in the text part, a headline figure in the HTML.
TEXT_FIGURES = FIGURES + ["75% (3/4)", "33% (1/3)"]
HTML_FIGURES = FIGURES + ["75%", "3 of 4 met", "33%", "1 of 3 met"]


def test_the_text_part_has_every_figure(mail):
    text, _ = mail
    for figure in TEXT_FIGURES:
        assert figure in text, figure
    assert "Cut-over rehearsal" not in text and "Scoping call" not in text and "13 Dec" not in text
    assert re.search(r"Tickets opened\s+5\s+3\s+\+2", text)
    assert re.search(r"First response\s+4\s+1 h\s+9 h 30 min", text)
    assert re.search(r"P3\s+0% \(0/1\)\s+50% \(1/2\)", text)


def test_the_html_part_has_every_figure_and_is_mail_safe(mail):
    _, html = mail
    text = html_to_text(html)
    for figure in HTML_FIGURES:
        assert figure in text, figure
    assert "<script" not in html.lower() and "javascript:" not in html.lower()
    assert not re.search(r"""(src|href)\s*=|url\(|@import|https?://""", html, re.IGNORECASE)
    assert "<table" in html and "<div style=\"display:flex" not in html and "<style" not in html


def test_data_is_escaped_in_the_html_part():
    hostile = ticket(203, "<img src=x onerror=alert(1)>", "A&B <Corp>", ANA, "P0", "open", la(16, 9),
                     clock("breached", 2 * H, None, None, la(16, 11), la(16, 11), why="<b>why</b>"),
                     clock("running", 8 * H))
    _, html = render_weekly(weekly_summary(_replace_tickets(hostile)), Renderer())
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "A&amp;B &lt;Corp&gt;" in html and "&lt;b&gt;why&lt;/b&gt;" in html


class Bars(HTMLParser):
    """The chart's bars: (title, width attribute, CSS width) of each ``td class="bar"``."""

    def __init__(self):
        super().__init__()
        self.bars = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "td" and attrs.get("class") == "bar":
            css = re.search(r"(?:^|;)width:(\d+)%", attrs["style"]).group(1)
            self.bars.append((attrs["title"], attrs["width"], css + "%"))


def test_the_chart_bars_are_as_wide_as_the_attainment(mail):
    parser = Bars()
    parser.feed(mail[1])
    # Ana: first response 100%, resolution 0% (no bar drawn); Li: 50% and 50%.
    assert parser.bars == [
        ("First response, Ana Ruiz: 100% (2/2)", "100%", "100%"),
        ("First response, Li Chen: 50% (1/2)", "50%", "50%"),
        ("Resolution, Li Chen: 50% (1/2)", "50%", "50%"),
    ]


def test_durations_in_plain_words():
    assert [plain_duration(d) for d in (None, timedelta(0), timedelta(seconds=30), 40 * MIN, 2 * H + 10 * MIN,
                                        93 * H)] == ["n/a", "0 min", "under 1 min", "40 min", "2 h 10 min", "93 h"]


# -- in a real browser ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered(mail, tmp_path_factory):
    """The HTML part rendered once by headless Chromium: a PNG to look at, and the DOM it built."""
    browser = chromium()
    folder = tmp_path_factory.mktemp("weekly")
    page = folder / "weekly-summary.html"
    page.write_text(mail[1], encoding="utf-8")
    png = browser.screenshot(page, folder / "weekly-summary.png", width=900, height=2000)
    print(f"\nthe weekly summary as Chromium renders it: {png}")
    return png, browser.dump_dom(page)


def test_chromium_renders_every_figure(rendered):
    png, dom = rendered
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = html_to_text(dom)
    for figure in HTML_FIGURES:
        assert figure in text, figure
    assert "<script" not in dom.lower()
