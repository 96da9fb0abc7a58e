"""Playbooks declare their success targets (``[success]``): a good table loads, each broken key is
reported with the file, the key and a fix, and the shipped playbooks carry their sources' targets."""
from __future__ import annotations

from pathlib import Path

import pytest

from ticketing.core.success import SuccessTargets
from ticketing.errors import PlaybookError
from ticketing.files.playbooks import load_playbooks

ROOT = Path(__file__).resolve().parents[2]
BASE = '''name = "demo"
title = "Demo"
source = "demo.txt"
tiers = ["Demo"]
length_days = 20

[[meetings]]
key = "training"
title = "Training"
duration_minutes = 60
attendees = ["engineer", "customer:all"]
anchor = "start"
window = [3, 5]
'''


def load(tmp_path: Path, table: str):
    folder = tmp_path / "playbooks"
    folder.mkdir(exist_ok=True)
    (folder / "demo.toml").write_text(BASE + "\n[success]\n" + table, encoding="utf-8")
    return load_playbooks(folder)["demo"]


def problems(tmp_path: Path, table: str) -> list[str]:
    with pytest.raises(PlaybookError) as caught:
        load(tmp_path, table)
    return [str(p) for p in caught.value.problems]


def test_a_good_success_table_loads_into_targets(tmp_path):
    playbook = load(tmp_path, 'max_weeks = 10\nmin_survey = 8.5\ntasks_on_time_percent = 90\n'
                              'required_meetings = ["training"]\n')
    assert playbook.success == SuccessTargets(max_weeks=10, min_survey=8.5, tasks_on_time_percent=90,
                                              required_meetings=("training",))


def test_a_playbook_without_success_has_no_targets(tmp_path):
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "demo.toml").write_text(BASE, encoding="utf-8")
    assert load_playbooks(folder)["demo"].success == SuccessTargets()


@pytest.mark.parametrize("table, where, message", [
    ("max_weeks = 0\n", "success.max_weeks", "at least 1"),
    ("min_survey = 11\n", "success.min_survey", "not a score from 0 to 10"),
    ('min_survey = "high"\n', "success.min_survey", "not a score from 0 to 10"),
    ("tasks_on_time_percent = 120\n", "success.tasks_on_time_percent", "not a percentage"),
    ('required_meetings = ["trainnig"]\n', "success.required_meetings[0]", "no meeting 'trainnig'"),
    ("nps = 8\n", "success.nps", "unknown key"),
])
def test_each_broken_target_is_reported_with_its_key_and_a_fix(tmp_path, table, where, message):
    [problem] = problems(tmp_path, table)
    assert f"playbooks/demo.toml: {where}" in problem and message in problem and "fix:" in problem


def test_the_shipped_white_glove_playbook_carries_its_sources_success_metrics():
    playbooks = load_playbooks(ROOT / "playbooks")
    white_glove = playbooks["white-glove"].success
    # "On-time delivery (<10 weeks)", "Training completion", "NPS (>8 for enterprise)"
    assert (white_glove.max_weeks, white_glove.min_survey) == (10, 8)
    assert white_glove.required_meetings == ("admin-training", "user-training")
    # the playbooks without a go-live measure no weeks to it
    assert playbooks["quickstart"].success.max_weeks is None and playbooks["sprint-zero"].success.max_weeks is None
    assert all(p.success.min_survey is not None and p.success.tasks_on_time_percent for p in playbooks.values())
