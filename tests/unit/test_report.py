"""The weekly SLA summary: every figure of the fixture week (``support.week``) computed by hand, its mail
and its CSV. ``tests/adapters/test_weekly_in_chromium.py`` renders its HTML in a real browser."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from support.week import (
    ANA,
    BERLIN,
    HTML_FIGURES,
    LA,
    LI,
    MIN,
    NOW,
    TEXT_FIGURES,
    UTC,
    WEEK,
    H,
    clock,
    la,
    ticket,
)

from mailer.html import html_to_text
from ticketing.core.report import EngagementFacts, Ratio, weekly_summary
from ticketing.core.report_input import WeekInput
from ticketing.core.report_mail import (
    CSV_COLUMNS,
    plain_duration,
    render_weekly,
    weekly_csv,
)
from ticketing.core.weeks import (
    iso_week_label,
    last_completed_week,
    parse_iso_week,
    week_of,
)
from ticketing.files.templates import Renderer

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

def test_tickets_opened_and_resolved_this_week_and_last(week_summary):
    # Opened this week: 101, 102, 103, 104, 108; last week: 105, 106, 107.
    assert (week_summary.this.opened, week_summary.previous.opened) == (5, 3)
    # Resolved this week: 101 (Tue, breached) and 102 (Thu, met); 103 only next Monday.
    # Last week: 105 (Wed) and 107 (Sat).
    assert (week_summary.this.resolved, week_summary.previous.resolved) == (2, 2)


def test_first_response_attainment(week_summary):
    fr = week_summary.this.first_response
    # Settled this week: 101 met, 102 breached (Wed), 103 met, 104 met; 108 still running.
    assert fr.overall == Ratio(3, 4) and fr.overall.percent == 75
    assert dict(fr.by_priority) == {"P0": Ratio(1, 1), "P1": Ratio(1, 1), "P2": Ratio(1, 1), "P3": Ratio(0, 1)}
    # Ana: 101 and 103 met; Li: 102 breached, 104 met.
    assert fr.by_engineer == ((ANA, Ratio(2, 2)), (LI, Ratio(1, 2)))
    # Last week: 105 and 106 met, 107 breached: 2/3 = 66.7%, shown as 67%.
    prev = week_summary.previous.first_response
    assert prev.overall == Ratio(2, 3) and prev.overall.percent == 67
    assert dict(prev.by_priority) == {"P0": Ratio(), "P1": Ratio(0, 1), "P2": Ratio(1, 1), "P3": Ratio(1, 1)}
    assert prev.by_engineer == ((ANA, Ratio(1, 2)), (LI, Ratio(1, 1)))


def test_resolution_attainment(week_summary):
    res = week_summary.this.resolution
    # Settled this week: 101 breached (Mon 17:00), 102 met (Thu), 106 breached (Thu 14:00, still open).
    # Not settled: 103 (met next Monday), 104 (paused), 108 (running).
    assert res.overall == Ratio(1, 3) and res.overall.percent == 33
    assert dict(res.by_priority) == {"P0": Ratio(0, 1), "P1": Ratio(), "P2": Ratio(), "P3": Ratio(1, 2)}
    assert res.by_engineer == ((ANA, Ratio(0, 1)), (LI, Ratio(1, 2)))
    # Last week: 105 and 107 met.
    prev = week_summary.previous.resolution
    assert prev.overall == Ratio(2, 2)
    assert prev.by_engineer == ((ANA, Ratio(2, 2)), (LI, Ratio()))


def test_nothing_settled_is_not_applicable_not_zero():
    assert Ratio().percent is None and str(Ratio()) == "n/a"
    assert str(Ratio(0, 1)) == "0% (0/1)" and str(Ratio(2, 3)) == "67% (2/3)"
    assert Ratio(1, 8).percent == 13  # 12.5 rounds half up


def test_median_and_90th_percentile_by_nearest_rank(week_summary):
    # First responses that stopped this week: 40 min (101), 1 h (103), 1 h (104), 9 h 30 min (102).
    # Median: rank ceil(0.5 x 4) = 2 -> 1 h; 90th: rank ceil(0.9 x 4) = 4 -> 9 h 30 min.
    fr = week_summary.this.first_response.times
    assert (fr.count, fr.median, fr.p90) == (4, 1 * H, 9 * H + 30 * MIN)
    # Resolutions that stopped this week: 23 h (102), 26 h (101); ranks ceil(1) = 1 and ceil(1.8) = 2.
    res = week_summary.this.resolution.times
    assert (res.count, res.median, res.p90) == (2, 23 * H, 26 * H)
    # Last week: first responses 1 h, 3 h 30 min, 4 h -> ranks 2 and 3; resolutions 7 h, 16 h -> ranks 1 and 2.
    prev = week_summary.previous
    assert (prev.first_response.times.median, prev.first_response.times.p90) == (3 * H + 30 * MIN, 4 * H)
    assert (prev.resolution.times.median, prev.resolution.times.p90) == (7 * H, 16 * H)


def test_changes_against_the_previous_week(week_summary):
    # Opened 5 - 3; resolved 2 - 2; first response 75 - 67 = 8 pp; resolution 33 - 100 = -67 pp.
    assert week_summary.changes() == {"opened": 2, "resolved": 0, "first_response_pp": 8, "resolution_pp": -67}


def test_every_breach_of_the_week_in_order_with_how_late(week_summary):
    # 101 resolution at Mon 16 17:00 (26 h - 8 h), 102 first response at Wed 18 09:00 (9 h 30 - 8 h),
    # 106 resolution at Thu 19 14:00, still running: 15 business hours over its 45. 107's breach was last week.
    assert [(b.ticket.id, b.clock, b.late) for b in week_summary.breaches] == [
        (101, "resolution", 18 * H), (102, "first_response", 1 * H + 30 * MIN), (106, "resolution", 15 * H)]
    assert week_summary.breaches[0].facts.why == "26 h on 24x7, target 8 h"


def test_tickets_open_past_their_target_now(week_summary):
    # 106's resolution (breached, running) and 108's first response (running, due 10:00 < 11:00);
    # 104's paused resolution has no due time, 108's resolution is due Wednesday.
    assert [(o.ticket.id, o.clock, o.late) for o in week_summary.open_past_target] == [
        (106, "resolution", 15 * H), (108, "first_response", 1 * H)]


def test_onboarding_meetings_golives_and_overruns(week_summary):
    assert [m.title for m in week_summary.meetings_held] == ["Kickoff"]
    assert [m.title for m in week_summary.meetings_next_week] == ["Technical deep dive"]
    assert [e.id for e in week_summary.golives] == [7]
    assert [e.id for e in week_summary.past_planned_length] == [9]


@pytest.mark.parametrize("days, shown", [(-1, False), (0, True), (13, True), (14, False)])
def test_go_lives_are_shown_from_today_for_fourteen_days(days, shown):
    golive = date(2026, 11, 23) + timedelta(days=days)  # NOW is Monday 23 November in Los Angeles
    data = WeekInput(**{**WEEK.__dict__, "engagements": (EngagementFacts(1, "Acme", ANA, None, golive, 1, 20),)})
    assert bool(weekly_summary(data).golives) is shown


def test_the_weeks_tickets_are_those_in_its_figures_or_overdue_now(week_summary):
    # 105 and 107 only matter for last week; 106 breached this week; the rest were opened this week.
    assert [t.id for t in week_summary.tickets] == [101, 102, 103, 104, 106, 108]


def test_a_resolved_ticket_without_a_target_is_resolved_but_not_in_attainment():
    bare = ticket(200, "Question", "Globex", ANA, "P3", "resolved", la(16, 9),
                  clock("", stopped=la(16, 10)), clock("", stopped=la(17, 10)))
    week_summary = weekly_summary(_replace_tickets(bare))
    assert week_summary.this.resolved == 1 and week_summary.this.resolution.overall == Ratio()


def test_an_unassigned_ticket_gets_its_own_row_after_the_team():
    stray = ticket(201, "Who owns this?", "Globex", None, "P2", "open", la(16, 9),
                   clock("met", 4 * H, 1 * H, la(16, 10)), clock("running", 24 * H, 2 * H, due=la(19, 9)))
    week_summary = weekly_summary(_replace_tickets(stray))
    assert week_summary.this.first_response.by_engineer == ((ANA, Ratio()), (LI, Ratio()), ("", Ratio(1, 1)))
    assert week_summary.engineer_name(None) == "Unassigned"


def test_a_week_must_start_on_a_monday():
    with pytest.raises(ValueError):
        weekly_summary(WeekInput(**{**WEEK.__dict__, "week_start": date(2026, 11, 17)}))


def test_the_json_figures(week_summary):
    data = week_summary.as_json()
    assert data["week"] == "2026-W47" and data["week_end"] == "2026-11-22"
    assert data["this_week"]["first_response"]["attainment"] == {"met": 3, "total": 4, "percent": 75}
    assert data["this_week"]["resolution"]["times"] == {"count": 2, "median_minutes": 23 * 60, "p90_minutes": 26 * 60}
    assert data["change"]["resolution_pp"] == -67
    assert [b["late_minutes"] for b in data["breaches"]] == [18 * 60, 90, 15 * 60]
    assert data["onboarding"]["golives"][0]["golive"] == "2026-12-03"


def _replace_tickets(*tickets) -> WeekInput:
    return WeekInput(**{**WEEK.__dict__, "tickets": tickets, "meetings": (), "engagements": ()})


# -- the CSV --------------------------------------------------------------------------------------

def test_the_csv_has_a_row_per_ticket_of_the_week(week_summary):
    data = weekly_csv(week_summary)
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

def test_the_text_part_has_every_figure(week_mail):
    text, _ = week_mail
    for figure in TEXT_FIGURES:
        assert figure in text, figure
    assert "Cut-over rehearsal" not in text and "Scoping call" not in text and "Vandelay" not in text
    portfolio, onboarding = text.split("\nONBOARDING\n")[0].split("\nPORTFOLIO: ")[1], text.split("\nONBOARDING\n")[1]
    assert "13 Dec" in portfolio and "13 Dec" not in onboarding  # 30 days ahead in one, two weeks in the other
    assert portfolio.index("Hooli: LATE") < portfolio.index("Umbrella Corp: AT RISK") < portfolio.index(
        "Globex: AT RISK") < portfolio.index("Initech: ON TRACK")
    assert re.search(r"Tickets opened\s+5\s+3\s+\+2", text)
    assert re.search(r"First response\s+4\s+1 h\s+9 h 30 min", text)
    assert re.search(r"P3\s+0% \(0/1\)\s+50% \(1/2\)", text)


def test_the_html_part_has_every_figure_and_is_mail_safe(week_mail):
    _, html = week_mail
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


def test_the_chart_bars_are_as_wide_as_the_attainment(week_mail):
    parser = Bars()
    parser.feed(week_mail[1])
    # Ana: first response 100%, resolution 0% (no bar drawn); Li: 50% and 50%.
    assert parser.bars == [
        ("First response, Ana Ruiz: 100% (2/2)", "100%", "100%"),
        ("First response, Li Chen: 50% (1/2)", "50%", "50%"),
        ("Resolution, Li Chen: 50% (1/2)", "50%", "50%"),
    ]


def test_durations_in_plain_words():
    assert [plain_duration(d) for d in (None, timedelta(0), timedelta(seconds=30), 40 * MIN, 2 * H + 10 * MIN,
                                        93 * H)] == ["n/a", "0 min", "under 1 min", "40 min", "2 h 10 min", "93 h"]
