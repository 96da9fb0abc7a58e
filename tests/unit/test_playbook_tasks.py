"""Playbooks declare tasks: a good ``[[tasks]]`` table loads into TaskSpec values, each broken one is
reported on one line naming the file, the key and the task; the five shipped playbooks carry the
tasks of their source documents and every one of them plans."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ticketing.config import CalendarConfig
from ticketing.core.calendars import BusinessCalendar
from ticketing.core.tasks import OWNER_ROLES, TaskSpec, plan_tasks
from ticketing.errors import PlaybookError
from ticketing.files.playbooks import check_playbooks, load_playbooks

ROOT = Path(__file__).resolve().parents[2]
US = BusinessCalendar.from_config(CalendarConfig(name="us", timezone="America/New_York", holidays="US"))

BASE = '''name = "demo"
title = "Demo"
source = "demo.txt"
tiers = ["Demo"]
length_days = 20
phases = ["setup", "go-live"]

[[meetings]]
key = "kickoff"
title = "Kick-off"
duration_minutes = 30
attendees = ["engineer", "customer:all"]
anchor = "start"
window = [3, 5]
'''


def task(key: str, extra: str = "", owner: str = "engineer", anchor: str = "start", offset: int = 1) -> str:
    return (f'\n[[tasks]]\nkey = "{key}"\nname = "Do {key}"\nowner = "{owner}"\nanchor = "{anchor}"\n'
            f'offset_days = {offset}\n{extra}')


def problems(tmp_path: Path, *tasks: str) -> list[str]:
    folder = tmp_path / "playbooks"
    folder.mkdir(exist_ok=True)
    (folder / "demo.toml").write_text(BASE + "".join(tasks), encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_playbooks(folder)
    return [str(p) for p in caught.value.problems]


def test_a_good_task_table_loads_into_task_specs(tmp_path):
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "demo.toml").write_text(BASE + task("tools", 'phase = "setup"\ncustomer_visible = true\n', "customer:IT",
                                                  "meeting:kickoff", -1)
                                      + task("launch", 'depends_on = ["tools"]\n', "Project Manager", "golive", 0),
                                      encoding="utf-8")
    tools, launch = load_playbooks(folder)["demo"].tasks
    assert tools == TaskSpec(key="tools", name="Do tools", owner="customer:it", anchor="meeting:kickoff", offset_days=-1,
                             phase="setup", customer_visible=True)
    assert (launch.owner, launch.depends_on, launch.customer_visible) == ("project_manager", ("tools",), False)


@pytest.mark.parametrize("extra, where, message", [
    ('colour = "red"\n', "tasks[0].colour", "unknown key"),
    ('phase = "launch"\n', "tasks[0].phase", "phase 'launch' is not declared"),
    ('customer_visible = "yes"\n', "tasks[0].customer_visible", "must be true or false"),
])
def test_unknown_keys_phases_and_bad_values_are_reported(tmp_path, extra, where, message):
    [line] = problems(tmp_path, task("tools", extra))
    assert line.startswith(f"playbooks/demo.toml: {where}: ") and message in line


@pytest.mark.parametrize("owner", ["manager", "ceo", "customer:"])
def test_an_owner_must_be_one_of_the_task_roles(tmp_path, owner):
    [line] = problems(tmp_path, task("tools", owner=owner))
    assert line.startswith("playbooks/demo.toml: tasks[0].owner: task 'tools': unknown owner")
    assert all(role in line for role in OWNER_ROLES)


@pytest.mark.parametrize("anchor, offset, where, message", [
    ("meeting:demo", 1, "anchor", "no meeting 'demo'"),
    ("task:other", 1, "anchor", "anchored on no task 'other'"),
    ("task:tools", 1, "anchor", "anchored on itself"),
    ("kickoff", 1, "anchor", "unknown anchor 'kickoff'"),
    ("start", -2, "offset_days", "outside the engagement"),
    ("start", 21, "offset_days", "outside the engagement"),
])
def test_an_unknown_anchor_or_a_start_offset_outside_the_engagement_is_reported(tmp_path, anchor, offset, where, message):
    [line] = problems(tmp_path, task("tools", anchor=anchor, offset=offset))
    assert line.startswith(f"playbooks/demo.toml: tasks[0].{where}: task 'tools': ") and message in line


def test_unknown_self_and_repeated_dependencies_are_each_reported(tmp_path):
    lines = problems(tmp_path, task("plan"), task("tools", 'depends_on = ["plan", "nope", "tools", "plan"]\n'))
    assert [line.split(": ", 2)[1] for line in lines] == [
        "tasks[1].depends_on[1]", "tasks[1].depends_on[2]", "tasks[1].depends_on[3]"]
    assert "no task 'nope'" in lines[0] and "depends on itself" in lines[1] and "'plan' is listed twice" in lines[2]


def test_a_cycle_of_anchors_and_dependencies_is_reported_once_with_its_path(tmp_path):
    [line] = problems(tmp_path, task("a", 'depends_on = ["c"]\n'), task("b", anchor="task:a"),
                      task("c", 'depends_on = ["b"]\n'))
    assert line.startswith("playbooks/demo.toml: tasks[0].depends_on: task 'a': ")
    assert "cycle: a -> c -> b -> a" in line


def test_a_repeated_task_key_is_reported(tmp_path):
    [line] = problems(tmp_path, task("tools"), task("tools"))
    assert line.startswith("playbooks/demo.toml: tasks[1].key: task 'tools': the key is used twice")


# --- the shipped playbooks ----------------------------------------------------------------------

SHIPPED = load_playbooks(ROOT / "playbooks")


def test_the_shipped_playbooks_with_their_tasks_check_clean():
    assert check_playbooks(ROOT / "playbooks", ROOT / "templates") == []
    assert all(pb.tasks for pb in SHIPPED.values())


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_task_plans_once_the_meetings_and_the_go_live_are_known(name):
    playbook = SHIPPED[name]
    start, golive = date(2026, 11, 23), date(2027, 1, 20)
    meetings = {m.key: US.add_days(start, 5 * n + 1) for n, m in enumerate(playbook.order())}
    planned = plan_tasks(playbook.tasks, start, golive, meetings, US)
    assert all(p.due is not None and US.is_working_day(p.due) for p in planned)
    due = {p.key: p.due for p in planned}
    for spec in playbook.tasks:
        assert all(due[other] <= due[spec.key] for other in spec.depends_on)
    waiting = plan_tasks(playbook.tasks, start, None, {}, US)
    assert all(p.due is None for p in waiting if p.key in _rooted_at_a_meeting_or_golive(playbook.tasks))


def _rooted_at_a_meeting_or_golive(specs) -> set[str]:
    by_key = {s.key: s for s in specs}
    rooted = set()
    for spec in specs:
        walk = spec
        while walk.anchor_task:
            walk = by_key[walk.anchor_task]
        if walk.anchor != "start":
            rooted.add(spec.key)
    return rooted


def test_sprint_zero_carries_the_seven_checklist_rows_owned_by_the_engineer_or_the_customer():
    tasks = SHIPPED["sprint-zero"].tasks
    assert [t.key for t in tasks] == ["delivery-tools", "site-network-access", "team-collaboration",
                                      "project-governance", "customer-education", "pre-engagement-interviews",
                                      "customer-kick-off"]
    assert {t.owner for t in tasks} <= {"engineer", "customer:it", "customer:project-lead"}
    assert {t.owner for t in tasks if t.for_customer} and all(t.customer_visible for t in tasks)
    # all due before the kick-off or by the end of Sprint 0 (length_days)
    assert all(t.anchor == "meeting:kick-off" and t.offset_days <= 0 or t.anchor == "start" and t.offset_days <= 10
               for t in tasks)


def test_the_other_playbooks_carry_the_deliverables_their_sources_name():
    keys = {name: {t.key for t in pb.tasks} for name, pb in SHIPPED.items()}
    assert {"project-plan", "technical-spec", "uat-signoff"} <= keys["white-glove"]
    assert {"project-summary", "financial-wrap-up", "post-mortem"} <= keys["professional-services"]
    assert {"onboarding-plan", "customer-buy-in", "checklist-complete"} <= keys["quickstart"]
    assert {"cut-over-date", "pre-launch-review"} <= keys["enterprise-onboarding"]
    internal = [t for t in SHIPPED["professional-services"].tasks if t.key in ("financial-wrap-up", "post-mortem")]
    assert internal and not any(t.customer_visible for t in internal)
