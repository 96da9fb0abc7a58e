"""The weekly summary's portfolio (pure): engagements by health with the worst first, the go-lives of
the next 30 days, overdue tasks grouped by owner, and closed engagements shown the week they close only."""
from __future__ import annotations

from datetime import date

from ticketing.core.portfolio import EngagementFacts, OverdueTask, build_portfolio

MONDAY = date(2026, 11, 16)  # the summarised week
TODAY = date(2026, 11, 23)  # the manager's date when it is sent


def facts(id: int, account: str, health: str = "on_track", reasons: tuple[str, ...] = (), golive=None, **kw):
    return EngagementFacts(id, account, "ana@example.com", "enterprise", golive, 10, 60, health=health,
                           reasons=reasons, **kw)


def test_engagements_are_listed_late_then_at_risk_then_on_track_the_most_reasons_first():
    portfolio = build_portfolio((facts(1, "Acme"), facts(2, "Globex", "at_risk", ("a",)),
                                 facts(3, "Hooli", "late", ("b",)), facts(4, "Initech", "at_risk", ("c", "d"))),
                                MONDAY, TODAY)
    assert [e.account for e in portfolio.engagements] == ["Hooli", "Initech", "Globex", "Acme"]
    assert (portfolio.count("late"), portfolio.count("at_risk"), portfolio.count("on_track")) == (1, 2, 1)


def test_a_closed_engagement_is_shown_the_week_it_closed_and_drops_out_after():
    during = facts(1, "Soylent", closed_on=date(2026, 11, 16))
    sunday = facts(2, "Vandelay", closed_on=date(2026, 11, 15))  # the Sunday before the week
    since = facts(3, "Wonka", closed_on=date(2026, 11, 23))  # this morning, after the week
    assert [e.account for e in build_portfolio((during, sunday, since), MONDAY, TODAY).engagements] == ["Soylent", "Wonka"]
    # a week on, Soylent has dropped out
    assert [e.account for e in build_portfolio((during, sunday, since), date(2026, 11, 23), date(2026, 11, 30)).engagements] == ["Wonka"]


def test_go_lives_are_those_of_the_next_30_days_not_yet_live_nor_closed_soonest_first():
    engagements = (facts(1, "Late", golive=date(2026, 11, 20)), facts(2, "Far", golive=date(2026, 12, 23)),
                   facts(3, "Last day", golive=date(2026, 12, 22)), facts(4, "Today", golive=TODAY),
                   facts(5, "Live early", golive=date(2026, 12, 1), live_on=date(2026, 11, 20)),
                   facts(6, "Closed", golive=date(2026, 12, 1), closed_on=date(2026, 11, 18)))
    assert [e.account for e in build_portfolio(engagements, MONDAY, TODAY).golives] == ["Today", "Last day"]


def test_overdue_tasks_are_grouped_by_owner_the_busiest_first_each_most_overdue_first():
    def li(key: str, days: int) -> OverdueTask:
        return OverdueTask(key, key.title(), "Li Chen", date(2026, 11, 10), days)
    marcus = OverdueTask("staging", "Staging", "Marcus Lee (Globex)", date(2026, 11, 19), 4)
    portfolio = build_portfolio((facts(1, "Globex", "at_risk", overdue_tasks=(marcus, li("dns", 3))),
                                 facts(2, "Hooli", "at_risk", overdue_tasks=(li("cut-over", 11),))), MONDAY, TODAY)
    assert [(owner, [(e.account, t.key) for e, t in items]) for owner, items in portfolio.overdue_by_owner] == [
        ("Li Chen", [("Hooli", "cut-over"), ("Globex", "dns")]), ("Marcus Lee (Globex)", [("Globex", "staging")])]
    assert portfolio.as_json()["overdue_by_owner"]["Li Chen"][0] == {
        "engagement": 2, "account": "Hooli", "task": "cut-over", "due": "2026-11-10", "days_overdue": 11}
