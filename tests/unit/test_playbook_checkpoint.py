"""A playbook's ``checkpoint_mail``: "weekly" turns the customer's weekly check-point mail on; QuickStart
asks for it ("Weekly check point via email or scheduled meetings"); anything else is reported."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_playbooks import GOOD, write

from ticketing.errors import PlaybookError
from ticketing.files.playbooks import load_playbooks, scan

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_asks_for_the_weekly_check_point_mail_and_the_others_do_not():
    playbooks = load_playbooks(ROOT / "playbooks")
    assert {name for name, p in playbooks.items() if p.checkpoint_mail == "weekly"} == {"quickstart"}


def test_a_playbook_may_ask_for_a_weekly_check_point_mail(tmp_path):
    folder = write(tmp_path, {"demo": 'checkpoint_mail = "weekly"\n' + GOOD})
    assert load_playbooks(folder)["demo"].checkpoint_mail == "weekly"
    assert load_playbooks(write(tmp_path, {"demo": GOOD}))["demo"].checkpoint_mail is None


def test_an_unknown_check_point_mail_is_reported_with_the_known_one(tmp_path):
    folder = write(tmp_path, {"demo": 'checkpoint_mail = "daily"\n' + GOOD})
    _, _, problems = scan(folder)
    [problem] = problems
    assert problem.key == "playbooks/demo.toml: checkpoint_mail" and "'daily'" in problem.message
    assert "'weekly'" in problem.fix
    with pytest.raises(PlaybookError):
        load_playbooks(folder)
