"""A meeting's ``after``: the meetings it must follow besides its anchor (the debrief after the developer
consultation), read into the playbook, ordering the planning, and checked by ``playbooks check``."""
from __future__ import annotations

from pathlib import Path

from ticketing.errors import Problem
from ticketing.files.playbooks import check_playbooks, load_playbooks

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"

TOP = '''name = "demo"
title = "Demo"
source = "000_edea7403beb02fbf.txt"
tiers = ["Demo"]
length_days = 20
'''


def meeting(key: str, anchor: str = "start", after: str | None = None, window: str = "[1, 5]") -> str:
    return (f'\n[[meetings]]\nkey = "{key}"\ntitle = "{key}"\nduration_minutes = 30\nattendees = ["engineer"]\n'
            f'anchor = "{anchor}"\nwindow = {window}\n' + (f"after = {after}\n" if after is not None else ""))


def folder_with(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir(exist_ok=True)
    (folder / "demo.toml").write_text(text, encoding="utf-8")
    return folder


def check(tmp_path: Path, text: str) -> list[Problem]:
    return check_playbooks(folder_with(tmp_path, text), TEMPLATES)


def test_after_is_read_and_orders_the_planning_after_the_meetings_it_follows(tmp_path):
    text = TOP + meeting("debrief", "golive", '["consultation"]', "[2, 5]") + meeting("consultation")
    pb = load_playbooks(folder_with(tmp_path, text))["demo"]
    assert pb.meeting("debrief").after == ("consultation",)
    assert pb.meeting("consultation").after == ()
    assert [m.key for m in pb.order()] == ["consultation", "debrief"]  # the file lists the debrief first
    assert check(tmp_path, text) == []


def test_after_naming_an_unknown_meeting_itself_or_one_twice_is_reported_with_the_key(tmp_path):
    text = (TOP + meeting("consultation") + meeting("debrief", "golive", '["consultaton"]')
            + meeting("review", "golive", '["review"]') + meeting("wrap", "golive", '["consultation", "consultation"]'))
    problems = check(tmp_path, text)
    assert [(p.key, p.message) for p in problems] == [
        ("playbooks/demo.toml: meetings[1].after[0]", "no meeting 'consultaton' in this playbook"),
        ("playbooks/demo.toml: meetings[2].after[0]", "a meeting cannot follow itself"),
        ("playbooks/demo.toml: meetings[3].after[1]", "'consultation' is listed twice"),
    ]
    assert "consultation" in problems[0].fix


def test_a_cycle_through_after_is_reported_once_with_its_path(tmp_path):
    # b follows a by its anchor, a follows b by after; c joins the cycle without being in it.
    text = (TOP + meeting("a", after='["b"]') + meeting("b", "meeting:a") + meeting("c", "meeting:b", '["a"]'))
    problems = check(tmp_path, text)
    assert [(p.key, p.message) for p in problems] == [
        ("playbooks/demo.toml: meetings[0].after", "anchors and after form a cycle: a -> b -> a")]
    assert problems[0].fix == "remove one of those meetings from after"


def test_a_cycle_of_anchors_alone_is_reported_once_by_the_anchor_check(tmp_path):
    problems = check(tmp_path, TOP + meeting("a", "meeting:b") + meeting("b", "meeting:a"))
    assert [p.message for p in problems] == ["anchors form a cycle: a -> b -> a"]


def test_a_start_meeting_cannot_follow_a_golive_meeting(tmp_path):
    problems = check(tmp_path, TOP + meeting("launch", "golive", window="[0, 0]") + meeting("training", after='["launch"]'))
    assert [p.key for p in problems] == ["playbooks/demo.toml: meetings[1].after"]
    assert "wait for the go-live date" in problems[0].message and "golive" in problems[0].fix


def test_after_must_be_a_list_of_meeting_keys(tmp_path):
    problems = check(tmp_path, TOP + meeting("a") + meeting("b", after='"a"'))
    assert [p.key for p in problems] == ["playbooks/demo.toml: meetings[1].after"]
    assert "a list of non-empty strings" in problems[0].message
