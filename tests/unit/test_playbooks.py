"""Onboarding playbooks: the five shipped ones follow their documents, and every broken playbook is
reported with its file, key and a fix."""
from __future__ import annotations

import ast
import dataclasses
from datetime import time, timedelta
from pathlib import Path

import jinja2
import pytest

from ticketing.core.playbooks import (
    TEXT_CONTEXT,
    MeetingSpec,
    Playbook,
    Window,
    canonical_role,
    playbook_for_tier,
    role_key,
)
from ticketing.errors import PlaybookError, Problem
from ticketing.files.playbooks import (
    check_playbooks,
    default_playbooks_dir,
    load_playbooks,
)
from ticketing.files.templates import Renderer

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
TEMPLATES = ROOT / "templates"
SOURCES = ROOT.parent / "shared" / "playbook-sources"


@pytest.fixture(scope="module")
def shipped() -> dict[str, Playbook]:
    return load_playbooks(PLAYBOOKS)


def minutes(spec: MeetingSpec) -> int:
    return int(spec.duration.total_seconds() // 60)


# --- the shipped playbooks ----------------------------------------------------------------------

def test_the_shipped_playbooks_load_and_check_clean(shipped):
    assert check_playbooks(PLAYBOOKS, TEMPLATES) == []
    assert sorted(shipped) == ["enterprise-onboarding", "professional-services", "quickstart", "sprint-zero", "white-glove"]
    assert default_playbooks_dir() == PLAYBOOKS


def test_each_shipped_playbook_follows_its_own_source_document(shipped):
    sources = {name: pb.source for name, pb in shipped.items()}
    assert sources == {
        "enterprise-onboarding": "000_edea7403beb02fbf.txt",
        "quickstart": "001_ab6f3cce7fcf0505.txt",
        "sprint-zero": "002_89d6337e5f9203cd.txt",
        "white-glove": "003_e646a59bcc32c48d.txt",
        "professional-services": "004_c9709b02dc8b65e2.txt",
    }
    if SOURCES.is_dir():
        assert all((SOURCES / source).is_file() for source in sources.values())


def test_every_shipped_playbook_welcomes_the_customer_at_the_start_and_the_engineer_attends_everything(shipped):
    for playbook in shipped.values():
        welcome = next(e for e in playbook.emails if e.key == "welcome")
        assert (welcome.template, welcome.anchor, welcome.offset_days) == ("welcome", "start", 0)
        assert welcome.to == ("customer:all",) and "engineer" in welcome.cc
        assert all("engineer" in m.attendees for m in playbook.meetings)
        assert all(timedelta(0) < m.duration <= timedelta(hours=8) for m in playbook.meetings)


def test_enterprise_onboarding_has_three_phases_and_meets_around_the_golive(shipped):
    pb = shipped["enterprise-onboarding"]
    assert pb.tiers == ("Enterprise",) and pb.sla_policy == "enterprise"
    assert pb.phases == ("setup", "development", "go-live")
    assert [(m.key, m.phase) for m in pb.meetings] == [
        ("introduction", "setup"), ("hand-off", "setup"), ("developer-workflow", "development"),
        ("pre-launch", "go-live"), ("debrief", "go-live"),
    ]
    # "a few days before the approximate cut-over date": 3 to 5 business days; debrief 2 to 5 after.
    assert (pb.meeting("pre-launch").anchor, pb.meeting("pre-launch").window) == ("golive", Window(-5, -3))
    assert (pb.meeting("debrief").anchor, pb.meeting("debrief").window) == ("golive", Window(2, 5))
    assert pb.meeting("debrief").after == ("developer-workflow",)  # development comes before the go-live
    assert [pb.root_anchor(m.key) for m in pb.meetings] == ["start", "start", "start", "golive", "golive"]
    assert pb.meeting("hand-off").anchor == "meeting:introduction"
    assert pb.meeting("developer-workflow").attendees == ("engineer", "customer:it")


def test_quickstart_has_the_five_formal_meetings_and_a_weekly_check_point(shipped):
    pb = shipped["quickstart"]
    formal = ["kickoff", "deep-dive", "implementation-1", "implementation-2", "closure"]
    assert [minutes(pb.meeting(k)) for k in formal] == [30, 60, 60, 60, 30]
    assert all("project_manager" in pb.meeting(k).attendees for k in formal)
    assert pb.phases == ("kickoff", "implementation", "closure")
    deep_dive = pb.meeting("deep-dive")
    assert deep_dive.anchor == "meeting:kickoff" and deep_dive.window.earliest >= 2
    check_point = pb.meeting("check-point")
    assert (check_point.repeat_every, check_point.repeat_count) == (5, 3)
    assert {"quickstart", "quickstart express", "quickstart advanced"} <= {t.lower() for t in pb.tiers}
    assert pb.length_days == 22  # "the first 30 days"


def test_white_glove_follows_the_twelve_week_plan(shipped):
    pb = shipped["white-glove"]
    assert pb.sla_policy == "enterprise" and pb.length_days == 60
    durations = {m.key: minutes(m) for m in pb.meetings}
    assert durations == {
        "kickoff": 90, "discovery-workshop": 180, "admin-training": 240, "user-training": 120,
        "executive-briefing": 30, "soft-launch": 30, "full-launch": 30, "daily-check-in": 15, "first-month-review": 60,
    }
    assert pb.meeting("executive-briefing").attendees == ("engineer", "customer:exec")
    assert {"customer:it", "customer:finance"} <= set(pb.meeting("admin-training").attendees)
    week = lambda n: Window(5 * n - 4, 5 * n)  # noqa: E731  week N: business days 5N-4 to 5N
    # The go-live date is the full launch (week 10): the soft launch two weeks before it (week 8), daily
    # check-ins the days after, the first month review a month of use later; all follow the date.
    assert [(k, pb.meeting(k).anchor, pb.meeting(k).window) for k in
            ("soft-launch", "full-launch", "daily-check-in", "first-month-review")] == [
        ("soft-launch", "golive", Window(-10, -6)), ("full-launch", "golive", Window(0, 0)),
        ("daily-check-in", "golive", Window(1, 1)), ("first-month-review", "golive", Window(19, 23))]
    assert (pb.meeting("daily-check-in").repeat_every, pb.meeting("daily-check-in").repeat_count) == (1, 5)
    assert pb.meeting("first-month-review").after == ("user-training", "executive-briefing")
    assert pb.meeting("admin-training").window == week(6)
    assert pb.meeting("executive-briefing").window == week(7)
    # Kickoff and discovery both in week 1.
    kickoff, discovery = pb.meeting("kickoff"), pb.meeting("discovery-workshop")
    assert kickoff.window.latest + discovery.window.latest <= 5 and discovery.anchor == "meeting:kickoff"


def test_professional_services_welcomes_then_calls_weekly_and_ends_with_a_blameless_post_mortem(shipped):
    pb = shipped["professional-services"]
    assert "manager" in pb.emails[0].cc
    assert [m.key for m in pb.meetings] == ["kick-off", "intake", "project-call", "cut-over", "project-summary", "post-mortem"]
    assert (pb.meeting("cut-over").anchor, pb.meeting("cut-over").window) == ("golive", Window(0, 0))
    call = pb.meeting("project-call")
    assert (call.anchor, call.repeat_every, call.repeat_count) == ("meeting:kick-off", 5, 5)
    post_mortem = pb.meeting("post-mortem")
    assert "blameless" in post_mortem.title.lower() and post_mortem.anchor == "meeting:project-summary"
    assert not any(r.startswith("customer:") for r in post_mortem.attendees)  # internal, as the handbook's page
    assert {t.lower() for t in pb.tiers} == {"professional services", "sow"}


def test_sprint_zero_interviews_each_workstream_for_an_hour_before_the_kick_off(shipped):
    pb = shipped["sprint-zero"]
    interviews = [m for m in pb.meetings if m.key.startswith("interview-")]
    assert len(interviews) >= 3 and all(minutes(m) == 60 for m in interviews)
    assert all(any(r.startswith("customer:") and r != "customer:all" for r in m.attendees) for m in interviews)
    kickoff = pb.meeting("kick-off")
    assert minutes(kickoff) == 60 and "customer:all" in kickoff.attendees
    assert kickoff.anchor == "start" and all(m.anchor == "start" for m in interviews)
    assert kickoff.window.earliest > max(m.window.latest for m in interviews)


def test_order_puts_every_anchor_first_in_the_shipped_playbooks(shipped):
    for playbook in shipped.values():
        seen: set[str] = set()
        for spec in playbook.order():
            assert spec.anchor_meeting is None or spec.anchor_meeting in seen
            seen.add(spec.key)
        assert sorted(seen) == sorted(m.key for m in playbook.meetings)


@pytest.mark.parametrize("golive_date", [None, "2027-01-14"])
def test_shipped_titles_and_descriptions_render_with_the_meeting_context(shipped, golive_date):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    context = dict.fromkeys(TEXT_CONTEXT, "x") | {"account": "Acme", "golive_date": golive_date}
    for playbook in shipped.values():
        for m in playbook.meetings:
            assert "Acme" in env.from_string(m.title).render(context)
            assert "\n" not in m.title
            env.from_string(m.description).render(context)


# --- the welcome templates ------------------------------------------------------------------------

WELCOME = {
    "account": "Acme <b>Corp</b>", "customer_name": "Jane <script>alert(1)</script>", "engineer_name": "Priya Raman",
    "engineer_email": "priya.raman@northwind.example", "sales_rep_name": "Dana Whitfield",
    "support": {"name": "Northwind Onboarding", "address": "support@northwind.example"},
    "playbook_title": "Three-phase enterprise onboarding",
    "meetings": [
        {"title": "Introduction: Acme", "start_local": "Tue 1 Dec 2026, 10:00-10:30 EST", "attendees": ["Priya Raman", "Jane Doe"]},
        {"title": "Hand-off: Acme", "start_local": "Fri 4 Dec 2026, 10:00-11:00 EST", "attendees": ["Priya Raman"]},
    ],
    "unplanned": ["Developer workflow consultation: Acme"],
    "golive_waiting": ["Pre-launch review: Acme", "Go-live debrief: Acme"],
    "tasks": [{"name": "Your application live on <script>staging</script>", "owner": "Marcus Lee", "due": "Tue 8 Dec 2026"}],
    "greeting": "Jane <script>alert(1)</script> and Marcus Lee", "customer_zone": "New York time (EST)",
    "project_lead": {"name": "Jane <script>", "email": "jane@acme.example", "role": "project lead"},
    "our_project_manager": None, "support_hours": ["Monday to Friday, 08:00-17:00 Los Angeles time (PST)"],
    "sla": ["urgent (P1): an answer within 2 hours"], "escalation": {"name": "", "email": "dana@northwind.example"},
}


def test_the_welcome_lists_the_planned_meetings_and_names_the_engineer_as_single_point_of_contact():
    text, html = Renderer(TEMPLATES).render("welcome", **WELCOME)
    for part in (text, html):
        assert "Tue 1 Dec 2026, 10:00-10:30 EST" in part and "Hand-off: Acme" in part
        assert "Pre-launch review: Acme" in part and "single point" in part
        assert "priya.raman@northwind.example" in part and "Dana Whitfield" in part
    assert "Priya Raman, Jane Doe" in text
    assert "Marcus Lee, due Tue 8 Dec 2026" in text.split("The onboarding checklist", 1)[1]


def test_the_welcome_says_the_go_live_meetings_are_planned_once_the_date_is_known():
    text, html = Renderer(TEMPLATES).render("welcome", **WELCOME)
    waiting, others = text.split("Planned once we know your go-live date", 1)[1].split("Still to be scheduled", 1)
    assert "Pre-launch review: Acme" in waiting and "Go-live debrief: Acme" in waiting and "tell us when" in waiting
    assert "Developer workflow consultation: Acme" in others and "Pre-launch" not in others
    assert "Planned once we know your go-live date" in html


def test_the_welcome_html_escapes_every_value():
    _, html = Renderer(TEMPLATES).render("welcome", **WELCOME)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>Corp" not in html
    assert "|safe" not in (TEMPLATES / "welcome.html").read_text().replace(" ", "")


def test_the_welcome_reads_well_with_nothing_planned_and_no_names():
    context = WELCOME | {"meetings": [], "unplanned": [], "golive_waiting": [], "tasks": [], "customer_name": None,
                         "sales_rep_name": None,
                         "greeting": "", "project_lead": None, "support_hours": [], "sla": [], "escalation": None}
    text, html = Renderer(TEMPLATES).render("welcome", **context)
    assert text.startswith("Hello,\n") and "planned" not in text and "scheduled" not in text and "checklist" not in text
    assert "None" not in text and "None" not in html


# --- problems, each with its file and key ------------------------------------------------------

GOOD = '''
name = "demo"
title = "Demo"
source = "000_edea7403beb02fbf.txt"
tiers = ["Demo"]
length_days = 30
phases = ["setup"]

[[emails]]
key = "welcome"
template = "welcome"
to = ["customer:all"]
cc = ["engineer"]
anchor = "start"
offset_days = 0

[[meetings]]
key = "kickoff"
title = "Kick-off: {{ account }}"
phase = "setup"
duration_minutes = 30
attendees = ["engineer", "customer:all"]
optional = ["manager"]
anchor = "start"
window = [1, 5]
preferred_time = "10:00"
description = "Your engineer: {{ engineer_name }}."

[[meetings]]
key = "follow-up"
title = "Follow-up"
duration_minutes = 60
attendees = ["engineer", "customer:IT"]
anchor = "meeting:kickoff"
window = [2, 4]
repeat = { every_days = 5, count = 2 }
'''


def meeting(key: str, anchor: str, window: str = "[1, 2]", extra: str = "") -> str:
    return (f'\n[[meetings]]\nkey = "{key}"\ntitle = "{key}"\nduration_minutes = 30\nattendees = ["engineer"]\n'
            f'anchor = "{anchor}"\nwindow = {window}\n{extra}')


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    return folder


def problems_of(tmp_path: Path, text: str, name: str = "demo") -> list[Problem]:
    folder = write(tmp_path, {name: text})
    with pytest.raises(PlaybookError) as caught:
        load_playbooks(folder)
    return caught.value.problems


def keys(problems: list[Problem]) -> list[str]:
    return [p.key for p in problems]


def test_a_good_playbook_loads_into_frozen_specs(tmp_path):
    pb = load_playbooks(write(tmp_path, {"demo": GOOD}))["demo"]
    kickoff, follow_up = pb.meetings
    assert kickoff == MeetingSpec(
        key="kickoff", title="Kick-off: {{ account }}", duration=timedelta(minutes=30), attendees=("engineer", "customer:all"),
        optional=("manager",), anchor="start", window=Window(1, 5), preferred_time=time(10, 0),
        description="Your engineer: {{ engineer_name }}.", phase="setup", repeat_every=None, repeat_count=1,
    )
    assert follow_up.attendees == ("engineer", "customer:it")  # roles in their canonical spelling
    assert (follow_up.repeat_every, follow_up.repeat_count, follow_up.phase, follow_up.description) == (5, 2, None, "")
    assert pb.sla_policy is None and pb.path == tmp_path / "playbooks" / "demo.toml"
    with pytest.raises(dataclasses.FrozenInstanceError):
        pb.name = "other"  # type: ignore[misc]
    with pytest.raises(KeyError):
        pb.meeting("nope")


def test_a_toml_syntax_error_names_the_file(tmp_path):
    problems = problems_of(tmp_path, GOOD + "\nthis is = = not toml\n")
    assert keys(problems) == ["playbooks/demo.toml: (syntax)"]
    assert "line" in problems[0].message


@pytest.mark.parametrize("addition, key", [
    ("owner = 'x'\n", "owner"),
    ('[[emails]]\nkey = "w2"\ntemplate = "welcome"\nto = ["engineer"]\nanchor = "start"\noffset_days = 1\nbcc = []\n', "emails[1].bcc"),
    (meeting("extra", "start", extra="room = 'A'\n"), "meetings[2].room"),
    (meeting("extra", "start", extra="repeat = { every_days = 5, count = 2, until = 9 }\n"), "meetings[2].repeat.until"),
])
def test_unknown_keys_are_reported_at_every_level(tmp_path, addition, key):
    text = addition + GOOD if not addition.startswith(("[", "\n")) else GOOD + addition
    problems = problems_of(tmp_path, text)
    assert keys(problems) == [f"playbooks/demo.toml: {key}"]
    assert problems[0].message == "unknown key" and "known keys" in problems[0].fix


def test_missing_required_keys_are_each_reported_with_an_example(tmp_path):
    text = GOOD.replace('source = "000_edea7403beb02fbf.txt"\n', "").replace("offset_days = 0\n", "").replace("window = [2, 4]\n", "")
    problems = problems_of(tmp_path, text)
    assert keys(problems) == ["playbooks/demo.toml: source", "playbooks/demo.toml: emails[0].offset_days",
                              "playbooks/demo.toml: meetings[1].window"]
    assert problems[2].message == "required" and problems[2].fix == "add window = [1, 5]"


@pytest.mark.parametrize("old, new, key", [
    ("duration_minutes = 30", 'duration_minutes = "30"', "meetings[0].duration_minutes"),
    ("window = [1, 5]", "window = [1]", "meetings[0].window"),
    ("window = [1, 5]", "window = [1.5, 2]", "meetings[0].window"),
    ('tiers = ["Demo"]', 'tiers = "Demo"', "tiers"),
    ('attendees = ["engineer", "customer:all"]', 'attendees = "engineer"', "meetings[0].attendees"),
    ("length_days = 30", "length_days = true", "length_days"),
    ('title = "Demo"', 'title = ""', "title"),
    ("repeat = { every_days = 5, count = 2 }", "repeat = 5", "meetings[1].repeat"),
])
def test_values_of_the_wrong_type_are_reported(tmp_path, old, new, key):
    problems = problems_of(tmp_path, GOOD.replace(old, new))
    assert f"playbooks/demo.toml: {key}" in keys(problems)
    assert next(p for p in problems if p.key.endswith(key)).message.startswith("must be")


def test_the_name_must_be_the_file_name_and_unique(tmp_path):
    folder = write(tmp_path, {"demo": GOOD, "copy": GOOD.replace('tiers = ["Demo"]', 'tiers = ["Other"]')})
    with pytest.raises(PlaybookError) as caught:
        load_playbooks(folder)
    assert keys(caught.value.problems) == ["playbooks/copy.toml: name", "playbooks/copy.toml: name"]
    messages = " / ".join(p.message for p in caught.value.problems)
    assert "differs from the file name copy.toml" in messages and "also the name of playbooks/demo.toml" in messages


@pytest.mark.parametrize("value", ["0", "-15", "481", "600"])
def test_durations_must_be_positive_and_at_most_eight_hours(tmp_path, value):
    problems = problems_of(tmp_path, GOOD.replace("duration_minutes = 30", f"duration_minutes = {value}"))
    assert keys(problems) == ["playbooks/demo.toml: meetings[0].duration_minutes"]


def test_a_window_must_run_from_earliest_to_latest(tmp_path):
    problems = problems_of(tmp_path, GOOD.replace("window = [1, 5]", "window = [5, 1]"))
    assert "playbooks/demo.toml: meetings[0].window" in keys(problems)
    assert problems[0].fix == "write window = [1, 5]"


def test_golive_windows_may_lie_before_after_or_around_the_golive(tmp_path):
    text = GOOD + meeting("before", "golive", "[-5, -3]") + meeting("around", "golive", "[-1, 1]") + meeting("after", "meeting:before", "[6, 9]")
    pb = load_playbooks(write(tmp_path, {"demo": text}))["demo"]
    assert [pb.root_anchor(k) for k in ("before", "around", "after", "follow-up")] == ["golive", "golive", "golive", "start"]


def test_an_anchor_on_an_unknown_meeting_is_reported(tmp_path):
    problems = problems_of(tmp_path, GOOD + meeting("orphan", "meeting:kick-off") + meeting("child", "meeting:orphan"))
    assert keys(problems) == ["playbooks/demo.toml: meetings[2].anchor"]
    assert "kick-off" in problems[0].message and "kickoff" in problems[0].fix


@pytest.mark.parametrize("anchor", ["meeting", "kickoff", "Start", "meeting: kickoff", "contract"])
def test_an_anchor_must_be_start_golive_or_a_meeting(tmp_path, anchor):
    problems = problems_of(tmp_path, GOOD.replace('anchor = "meeting:kickoff"', f'anchor = "{anchor}"'))
    assert keys(problems) == ["playbooks/demo.toml: meetings[1].anchor"]


def test_a_cycle_of_anchors_is_reported_once_with_its_path(tmp_path):
    text = (GOOD + meeting("a", "meeting:c") + meeting("b", "meeting:a") + meeting("c", "meeting:b")
            + meeting("d", "meeting:b") + meeting("self", "meeting:self"))
    problems = problems_of(tmp_path, text)
    assert [(p.key, p.message) for p in problems] == [
        ("playbooks/demo.toml: meetings[2].anchor", "anchors form a cycle: a -> c -> b -> a"),
        ("playbooks/demo.toml: meetings[6].anchor", "anchors form a cycle: self -> self"),
    ]
    assert "start" in problems[0].fix


def test_order_is_topological_and_otherwise_keeps_the_file_order(tmp_path):
    text = GOOD.replace("phases", "# phases").replace('phase = "setup"\n', "") + meeting("late", "meeting:middle") + meeting("first", "start") + meeting("middle", "meeting:first") + meeting("free", "golive")
    # The follow-up is anchored on kickoff, which comes first in the file.
    pb = load_playbooks(write(tmp_path, {"demo": text}))["demo"]
    assert [m.key for m in pb.order()] == ["kickoff", "follow-up", "first", "middle", "late", "free"]


def test_order_refuses_anchors_that_never_resolve():
    spec = MeetingSpec("a", "A", timedelta(minutes=30), ("engineer",), (), "meeting:b", Window(1, 2), None, "", None, None, 1)
    pb = Playbook("x", "X", "s", ("X",), None, 10, (), (), (spec,), Path("x.toml"))
    with pytest.raises(ValueError):
        pb.order()


def test_a_chained_window_that_reaches_before_the_start_is_reported(tmp_path):
    # kickoff lands on business day 1 to 5; two days before it can be day -1.
    problems = problems_of(tmp_path, GOOD + meeting("prep", "meeting:kickoff", "[-2, -1]"))
    assert keys(problems) == ["playbooks/demo.toml: meetings[2].window"]
    assert "1 business day(s) before the engagement starts" in problems[0].message
    assert problems[0].fix == "raise earliest to -1 or more"


def test_a_meeting_anchored_on_the_start_cannot_come_before_it(tmp_path):
    problems = problems_of(tmp_path, GOOD.replace("window = [1, 5]", "window = [-3, 5]"))
    assert keys(problems) == ["playbooks/demo.toml: meetings[0].window"]


def test_meetings_and_their_repeats_must_fit_in_the_engagement(tmp_path):
    # follow-up: kickoff (1-5) + 2-4 = day 9 at the latest, repeated 5 days later: day 14.
    assert load_playbooks(write(tmp_path, {"demo": GOOD.replace("length_days = 30", "length_days = 14")}))
    problems = problems_of(tmp_path, GOOD.replace("length_days = 30", "length_days = 13"))
    assert keys(problems) == ["playbooks/demo.toml: meetings[1].window"]
    assert "business day 14" in problems[0].message and "last occurrence" in problems[0].message


@pytest.mark.parametrize("old, new, key", [
    ('attendees = ["engineer", "customer:all"]', 'attendees = ["engineer", "customer"]', "meetings[0].attendees[1]"),
    ('attendees = ["engineer", "customer:all"]', 'attendees = ["engineer", "cto"]', "meetings[0].attendees[1]"),
    ('attendees = ["engineer", "customer:all"]', 'attendees = ["engineer", "customer:"]', "meetings[0].attendees[1]"),
    ('optional = ["manager"]', 'optional = ["managers"]', "meetings[0].optional[0]"),
    ('cc = ["engineer"]', 'cc = ["account_manager"]', "emails[0].cc[0]"),
    ('to = ["customer:all"]', 'to = ["customer:all", "Customer:ALL"]', "emails[0].to[1]"),
    ('to = ["customer:all"]', "to = []", "emails[0].to"),
    ('attendees = ["engineer", "customer:all"]', 'attendees = ["customer:all"]', "meetings[0].attendees"),
    ('optional = ["manager"]', 'optional = ["Engineer"]', "meetings[0].optional"),
])
def test_unknown_roles_and_bad_attendee_lists_are_reported(tmp_path, old, new, key):
    problems = problems_of(tmp_path, GOOD.replace(old, new))
    assert keys(problems) == [f"playbooks/demo.toml: {key}"]


def test_roles_ignore_case_spaces_underscores_and_hyphens():
    assert canonical_role("Sales Rep") == "sales_rep"
    assert canonical_role("project-manager") == "project_manager"
    assert canonical_role("customer:Project Lead") == canonical_role("customer:project_lead") == "customer:project-lead"
    assert canonical_role("customer:IT") == "customer:it"
    assert canonical_role("cto") is None and canonical_role("customer:") is None and canonical_role("customer:a/b") is None
    assert "customer:" + role_key("  Project  Lead ") == "customer:project-lead"


@pytest.mark.parametrize("value", ["9am", "9:00", "24:00", "10:60", "10.00"])
def test_a_preferred_time_is_hh_mm(tmp_path, value):
    problems = problems_of(tmp_path, GOOD.replace('preferred_time = "10:00"', f'preferred_time = "{value}"'))
    assert keys(problems) == ["playbooks/demo.toml: meetings[0].preferred_time"]


def test_a_meeting_at_its_preferred_time_must_end_the_same_day(tmp_path):
    problems = problems_of(tmp_path, GOOD.replace('preferred_time = "10:00"', 'preferred_time = "23:45"'))
    assert keys(problems) == ["playbooks/demo.toml: meetings[0].preferred_time"]


@pytest.mark.parametrize("repeat, key", [
    ("{ every_days = 0, count = 2 }", "every_days"), ("{ every_days = 5, count = 0 }", "count"),
    ("{ count = 2 }", "every_days"),
])
def test_a_repeat_needs_a_step_and_a_count_of_at_least_one(tmp_path, repeat, key):
    problems = problems_of(tmp_path, GOOD.replace("{ every_days = 5, count = 2 }", repeat))
    assert keys(problems) == [f"playbooks/demo.toml: meetings[1].repeat.{key}"]


@pytest.mark.parametrize("field, value, message", [
    ("title", "Kick-off: {{ account }", "Jinja2 syntax error"),
    ("description", "{% if golive_date %}Go-live{% endfi %}", "Jinja2 syntax error"),
    ("description", "{{ acount }} and {{ engineer }}", "unknown variables acount, engineer"),
    ("title", "Kick-off\\n{{ account }}", "must be one line"),
])
def test_titles_and_descriptions_must_be_valid_jinja_with_known_variables(tmp_path, field, value, message):
    old = 'title = "Kick-off: {{ account }}"' if field == "title" else 'description = "Your engineer: {{ engineer_name }}."'
    problems = problems_of(tmp_path, GOOD.replace(old, f'{field} = "{value}"'))
    assert keys(problems) == [f"playbooks/demo.toml: meetings[0].{field}"]
    assert message in problems[0].message


def test_a_phase_must_be_declared(tmp_path):
    problems = problems_of(tmp_path, GOOD.replace('phases = ["setup"]\n', ""))
    assert keys(problems) == ["playbooks/demo.toml: meetings[0].phase"]
    assert "phases" in problems[0].fix


def test_meeting_and_email_keys_are_unique(tmp_path):
    text = GOOD + meeting("kickoff", "start") + '\n[[emails]]\nkey = "welcome"\ntemplate = "welcome"\nto = ["engineer"]\nanchor = "golive"\noffset_days = -2\n'
    problems = problems_of(tmp_path, text)
    assert keys(problems) == ["playbooks/demo.toml: emails[1].key", "playbooks/demo.toml: meetings[2].key"]


@pytest.mark.parametrize("anchor, offset", [("start", -1), ("start", 31), ("meeting:kickoff", 0), ("signature", 0)])
def test_emails_are_anchored_on_the_start_or_the_golive_inside_the_engagement(tmp_path, anchor, offset):
    problems = problems_of(tmp_path, GOOD.replace('anchor = "start"\noffset_days = 0', f'anchor = "{anchor}"\noffset_days = {offset}'))
    assert len(problems) == 1 and problems[0].key.startswith("playbooks/demo.toml: emails[0].")


def test_a_tier_belongs_to_one_playbook_only(tmp_path):
    other = GOOD.replace('name = "demo"', 'name = "other"').replace('tiers = ["Demo"]', 'tiers = ["Gold", "  DEMO "]')
    folder = write(tmp_path, {"demo": GOOD, "other": other})
    with pytest.raises(PlaybookError) as caught:
        load_playbooks(folder)
    assert keys(caught.value.problems) == ["playbooks/other.toml: tiers"]
    assert "playbooks/demo.toml" in caught.value.problems[0].message


def test_a_playbook_needs_a_tier_and_lists_each_once(tmp_path):
    assert keys(problems_of(tmp_path, GOOD.replace('tiers = ["Demo"]', "tiers = []"))) == ["playbooks/demo.toml: tiers"]
    assert keys(problems_of(tmp_path, GOOD.replace('tiers = ["Demo"]', 'tiers = ["Demo", "demo"]'))) == ["playbooks/demo.toml: tiers"]


def test_every_problem_of_every_file_is_listed_at_once(tmp_path):
    folder = write(tmp_path, {
        "demo": GOOD.replace("duration_minutes = 30", "duration_minutes = 0").replace("window = [2, 4]", "window = [4, 2]"),
        "other": "name = 'other'\n[oops",
    })
    with pytest.raises(PlaybookError) as caught:
        load_playbooks(folder)
    assert keys(caught.value.problems) == ["playbooks/demo.toml: meetings[0].duration_minutes",
                                           "playbooks/demo.toml: meetings[1].window", "playbooks/other.toml: (syntax)"]
    assert "playbooks/other.toml: (syntax)" in str(caught.value)


def test_a_missing_folder_is_a_problem_and_an_empty_one_has_no_playbooks(tmp_path):
    with pytest.raises(PlaybookError) as caught:
        load_playbooks(tmp_path / "nowhere")
    assert "no playbooks folder" in caught.value.problems[0].message
    assert load_playbooks(write(tmp_path, {})) == {}


def test_check_reports_missing_and_broken_templates(tmp_path):
    folder = write(tmp_path, {"demo": GOOD})
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "welcome.txt").write_text("Hello {{ account }\n", encoding="utf-8")
    problems = check_playbooks(folder, templates)
    assert keys(problems) == ["playbooks/demo.toml: emails[0].template", "templates/welcome.txt: line 1"]
    assert "welcome.html" in problems[0].message
    (templates / "welcome.txt").write_text("Hello {{ account }}\n", encoding="utf-8")
    (templates / "welcome.html").write_text("<p>{{ account }}</p>\n", encoding="utf-8")
    assert check_playbooks(folder, templates) == []


def test_check_lists_load_problems_and_template_problems_together(tmp_path):
    folder = write(tmp_path, {"demo": GOOD.replace('template = "welcome"', 'template = "hello"').replace("window = [1, 5]", "window = [5, 1]")})
    problems = check_playbooks(folder, TEMPLATES)
    assert keys(problems) == ["playbooks/demo.toml: meetings[0].window", "playbooks/demo.toml: emails[0].template",
                              "playbooks/demo.toml: emails[0].template"]


# --- choosing a playbook ----------------------------------------------------------------------------

def test_a_tier_finds_its_playbook_ignoring_case_and_spacing(shipped):
    assert playbook_for_tier(shipped, "Enterprise").name == "enterprise-onboarding"
    assert playbook_for_tier(shipped, "  ENTERPRISE ").name == "enterprise-onboarding"
    assert playbook_for_tier(shipped, "quickstart   express").name == "quickstart"
    assert playbook_for_tier(shipped, "Enterprise Plus").name == "white-glove"
    assert playbook_for_tier(shipped, "sow").name == "professional-services"
    assert playbook_for_tier(shipped, "Sprint 0").name == "sprint-zero"
    assert playbook_for_tier(shipped, "Bronze") is None
    assert playbook_for_tier(shipped, None) is None


def test_a_playbook_with_the_star_tier_is_the_fallback(tmp_path):
    fallback = GOOD.replace('name = "demo"', 'name = "any"').replace('tiers = ["Demo"]', 'tiers = ["*"]')
    playbooks = load_playbooks(write(tmp_path, {"any": fallback, "demo": GOOD}))
    assert playbook_for_tier(playbooks, "demo").name == "demo"
    assert playbook_for_tier(playbooks, "Bronze").name == "any"
    assert playbook_for_tier(playbooks, None).name == "any"
    assert playbook_for_tier(playbooks, "  ").name == "any"


# --- purity -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("module", ["core/playbooks.py", "files/playbooks.py"])
def test_the_playbook_module_opens_no_connection_and_reads_no_clock(module):
    tree = ast.parse((ROOT / "ticketing" / module).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m.split(".")[0] for m in imported} & {"peewee", "imapclient", "smtplib", "socket", "os", "exchangelib"}
    clocks = {"now", "utcnow", "today", "monotonic"}
    assert not [n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in clocks]


def test_a_meeting_may_declare_where_it_is_held_or_its_join_link(tmp_path):
    text = GOOD + meeting("call", "start", extra='location = "https://meet.example/j/42"\n') \
        + meeting("visit", "start", extra='location = "Room 4B, 2nd floor"\n')
    pb = load_playbooks(write(tmp_path, {"demo": text}))["demo"]
    assert [m.location for m in pb.meetings] == ["", "", "https://meet.example/j/42", "Room 4B, 2nd floor"]


@pytest.mark.parametrize("value", ['"https://meet example/j/42"', '"""Room 4B\nsecond floor"""', '"' + "x" * 256 + '"', "42"])
def test_a_location_a_calendar_cannot_show_is_reported(tmp_path, value):
    problems = problems_of(tmp_path, GOOD + meeting("call", "start", extra=f"location = {value}\n"))
    assert keys(problems) == ["playbooks/demo.toml: meetings[2].location"]
