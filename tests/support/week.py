"""The fixture week of the weekly SLA summary: tickets, meetings and engagements whose every figure is
worked out by hand beside it, and the figures a reader must find in the mail."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ticketing.core.portfolio import OverdueTask
from ticketing.core.report import EngagementFacts
from ticketing.core.report_input import ClockFacts, MeetingFacts, TicketFacts, WeekInput

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
    # breached THIS week; still running at now, late in its own (business) time by 60 - 45 = 15 h:
    # Thu 14:00-17:00, Fri 9 h, Mon 08:00-11:00 (93 h of wall time, which the summary does not mix in).
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
    # Today is Monday 23 November: a go-live on 3 December is 10 days away (shown), 13 December 20 (not
    # in the onboarding's two weeks; in the portfolio's 30 days). Health and reasons as the metrics gave them.
    EngagementFacts(7, "Globex", ANA, "enterprise", date(2026, 12, 3), 12, 20, health="at_risk",
                    reasons=("1 task overdue (customer:it)",),
                    overdue_tasks=(OverdueTask("staging-live", "Your application live on staging", "Marcus Lee (Globex)",
                                               date(2026, 11, 19), 4),)),
    EngagementFacts(8, "Initech", LI, "enterprise", date(2026, 12, 13), 20, 20, health="on_track"),  # at its length
    EngagementFacts(9, "Umbrella Corp", ANA, "quickstart", None, 32, 25, health="at_risk",  # 7 days past its length
                    reasons=("1 task overdue (engineer)", "business day 32 of a planned 25"),
                    overdue_tasks=(OverdueTask("checklist-complete", "Onboarding checklist complete", "Ana Ruiz",
                                               date(2026, 11, 16), 7),)),
    # no playbook length: never past it; its go-live came and went
    EngagementFacts(10, "Hooli", LI, None, date(2026, 11, 13), 40, None, health="late",
                    reasons=("go-live 2026-11-13 is 10 days past plan",),
                    overdue_tasks=(OverdueTask("cut-over", "Cut-over plan", "Li Chen", date(2026, 11, 12), 11),
                                   OverdueTask("dns", "DNS switched", "Li Chen", date(2026, 11, 13), 10))),
    # closed during the week: still in its portfolio; closed the week before: gone
    EngagementFacts(11, "Soylent", ANA, "quickstart", None, 22, 22, health="on_track", live_on=date(2026, 11, 2),
                    closed_on=date(2026, 11, 18)),
    EngagementFacts(12, "Vandelay", LI, "quickstart", None, 22, 22, health="on_track", closed_on=date(2026, 11, 13)),
)
WEEK = WeekInput(
    manager_name="Dana Whitfield", manager_email="dana.whitfield@northwind.example", timezone=LA,
    week_start=date(2026, 11, 16), engineers=((ANA, "Ana Ruiz"), (LI, "Li Chen")),
    tickets=TICKETS, meetings=MEETINGS, engagements=ENGAGEMENTS, now=NOW,
)


# The figures a reader must find in both parts (and in the page the browser renders).
FIGURES = [
    "2026-W47", "16–22 November 2026", "Dana Whitfield", "Ana Ruiz and Li Chen", "All times are Los Angeles time (PST).",
    "3 targets missed this week, 2 tickets past their target now, 1 go-live in the next two weeks and "
    "1 engagement past its planned length.",
    "67% (2/3)", "+8 pp", "100% (2/2)", "-67 pp", "+2", "no change",  # last week and the changes
    "#101 SSO login loops for all users", "18 h late", "resolution breached Mon 16 Nov 17:00",
    "#102 How do I export audit logs?", "1 h 30 min late", "first response breached Wed 18 Nov 09:00",
    "#106 Audit log retention question", "15 h late", "15 h overdue", "resolution due Thu 19 Nov 14:00",
    "#108 Cannot add a second admin", "1 h overdue", "first response due Mon 23 Nov 10:00",
    "26 h on 24x7, target 8 h", "Globex", "Initech", "P0", "P3",
    "Ana Ruiz", "Li Chen", "100% (2/2)", "0% (0/1)", "50% (1/2)", "100% (1/1)", "n/a",
    "1 h", "9 h 30 min", "23 h", "26 h",
    "Kickoff", "Tue 17 Nov 10:00", "Technical deep dive", "Wed 25 Nov 13:00",
    "Thu 3 Dec (in 10 days)", "Umbrella Corp", "day 32 of 25 (7 over)",
    # the portfolio: each engagement's health and why, the go-lives of 30 days, the overdue tasks by owner
    "5 engagements: 1 late, 2 at risk, 2 on track", "go-live 2026-11-13 is 10 days past plan",
    "1 task overdue (engineer); business day 32 of a planned 25", "closed Wed 18 Nov", "Sun 13 Dec (in 20 days)",
    "Li Chen (2)", "Marcus Lee (Globex) (1)", "Cut-over plan", "11 days overdue", "Your application live on staging",
]
# This week's overall attainment: a table row in the text part, a headline figure in the HTML.
TEXT_FIGURES = FIGURES + ["75% (3/4)", "33% (1/3)"]
HTML_FIGURES = FIGURES + ["75%", "3 of 4 met", "33%", "1 of 3 met"]
