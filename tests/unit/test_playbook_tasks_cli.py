"""``whiteglove playbooks preview`` lists a playbook's tasks after its meetings, with due dates and
owners; ``whiteglove playbooks check`` refuses a broken task, one line naming the file and the key."""
from __future__ import annotations

import shutil
from pathlib import Path

from ticketing.app.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_preview_lists_the_tasks_after_the_meetings_with_due_dates_and_owners(capsys):
    code, out, err = run(capsys, "playbooks", "preview", "sprint-zero", "--start", "2026-11-23",
                         "--config", str(ROOT / "config.example.toml"))
    assert code == 0, err
    lines = out.splitlines()
    [kick_off] = [line for line in lines[:lines.index("tasks:")] if " kick-off " in line]
    assert "Wed 2 Dec 2026" in kick_off
    tasks = {line.split()[1]: line.split() for line in lines[lines.index("tasks:") + 1:]}
    assert len(tasks) == 7
    # due the business day before the kick-off, the customer's IT owns it, and the customer sees it
    assert tasks["delivery-tools"][:3] == ["2026-12-01", "delivery-tools", "customer:it"]
    assert tasks["delivery-tools"][-1] == "[customer]"
    assert tasks["customer-kick-off"][:3] == ["2026-12-02", "customer-kick-off", "engineer"]
    # the end of Sprint 0: ten business days after Monday 23 November on the engineer's California
    # calendar, which closes on Thanksgiving and the day after
    assert tasks["site-network-access"][0] == "2026-12-09"


def test_preview_says_which_tasks_wait_for_the_go_live_and_then_dates_them(capsys):
    config = str(ROOT / "config.example.toml")
    _, out, _ = run(capsys, "playbooks", "preview", "white-glove", "--start", "2026-11-23", "--config", config)
    [announcement] = [line for line in out.splitlines() if "launch-announcement" in line]
    assert announcement.split()[0] == "waiting" and "waiting for the go-live date" in announcement
    _, out, _ = run(capsys, "playbooks", "preview", "white-glove", "--start", "2026-11-23", "--golive", "2027-02-17",
                    "--config", config)
    [announcement] = [line for line in out.splitlines() if "launch-announcement" in line]
    assert announcement.split()[0] == "2027-02-16"


def test_check_reports_a_task_with_an_unknown_owner_on_one_line(capsys, tmp_path):
    folder = tmp_path / "own-playbooks"
    shutil.copytree(ROOT / "playbooks", folder)
    quickstart = folder / "quickstart.toml"
    text = quickstart.read_text(encoding="utf-8")
    quickstart.write_text(text.replace('owner = "project_manager"', 'owner = "account_manager"'), encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text((ROOT / "config.example.toml").read_text(encoding="utf-8")
                      .replace("[onboarding]\n", f'[onboarding]\nplaybooks = "{folder}"\n'), encoding="utf-8")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    code, _, err = run(capsys, "playbooks", "check", "--config", str(config))
    [line] = err.strip().splitlines()
    assert code != 0
    assert "own-playbooks/quickstart.toml: tasks[0].owner: task 'kickoff-coordinated': unknown owner 'account_manager'" in line
