"""contrib/: the systemd unit passes systemd-analyze, and the Containerfile is well formed and runs
commands our command line has."""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ticketing.app.cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "contrib" / "systemd" / "whiteglove.service"
CONTAINERFILE = ROOT / "contrib" / "container" / "Containerfile"
INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
                "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


def verify(unit_text: str, folder: Path) -> list[str]:
    """systemd-analyze verify's complaints about a copy of the unit whose binary is the installed script."""
    script = Path(sys.executable).parent / "whiteglove"
    unit = folder / "whiteglove.service"
    unit.write_text(unit_text.replace("/usr/local/bin/whiteglove", str(script)))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    return [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    text = UNIT.read_text()
    assert verify(text, tmp_path) == []
    # The check can fail: an unknown key (systemd only warns, and exits 0) is caught.
    broken = text.replace("Restart=always", "Restart=always\nRestartSecs=10")
    assert any("RestartSecs" in line for line in verify(broken, tmp_path))


def test_the_systemd_unit_runs_the_worker_as_its_own_user_with_its_state_and_secrets():
    service = dict(line.split("=", 1) for line in UNIT.read_text().split("[Service]")[1].split("[Install]")[0].splitlines()
                   if "=" in line and not line.startswith("#"))
    command = shlex.split(service["ExecStart"])
    assert command[1:] == ["--config", "/etc/whiteglove/whiteglove.toml", "run"]
    assert build_parser().parse_args(command[1:]).command == "run"
    assert build_parser().parse_args(shlex.split(service["ExecStartPre"])[1:]).action == "check"
    assert service["User"] == "whiteglove" and service["StateDirectory"] == "whiteglove"
    assert service["WorkingDirectory"] == service["ReadWritePaths"] == "/var/lib/whiteglove"
    assert service["EnvironmentFile"].startswith("-") and service["Restart"] == "always"
    assert service["KillSignal"] == "SIGTERM" and service["ProtectSystem"] == "strict"


def instructions(text: str) -> list[tuple[str, str]]:
    """The Containerfile's (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    lines, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip().removesuffix("\\") + (" " if line.rstrip().endswith("\\") else "")
        if not line.rstrip().endswith("\\"):
            lines.append(current)
            current = ""
    assert current == "", "a continuation runs off the end of the file"
    return [(line.split(None, 1)[0], line.split(None, 1)[1] if " " in line.strip() else "") for line in lines]


def test_every_containerfile_instruction_is_known_and_its_json_arrays_parse():
    found = instructions(CONTAINERFILE.read_text())
    assert found[0][0] == "FROM" and found[0][1].startswith("python:3.11")
    for name, args in found:
        assert name in INSTRUCTIONS, name
        if args.startswith("["):
            assert all(isinstance(a, str) for a in json.loads(args)), name
    names = [n for n, _ in found]
    assert {"HEALTHCHECK", "VOLUME", "USER", "ENTRYPOINT", "CMD"} <= set(names)
    assert dict(found)["USER"] not in ("root", "0")
    assert json.loads(dict(found)["VOLUME"]) == ["/var/lib/whiteglove"]


def test_the_container_runs_and_checks_real_commands_of_our_command_line():
    found = dict(instructions(CONTAINERFILE.read_text()))
    entrypoint, cmd = json.loads(found["ENTRYPOINT"]), json.loads(found["CMD"])
    assert entrypoint == ["whiteglove"]
    assert build_parser().parse_args(cmd).command == "run"
    check = found["HEALTHCHECK"].split(" CMD ", 1)[1].split("||")[0]
    program, *argv = shlex.split(check)
    assert program == "whiteglove" and build_parser().parse_args(argv).command == "status"


def test_an_unknown_instruction_or_a_broken_array_is_caught():
    with pytest.raises(json.JSONDecodeError):
        for _, args in instructions('FROM python:3.11-slim\nCMD ["run",]\n'):
            if args.startswith("["):
                json.loads(args)
    assert instructions("FROM x\nRUNN y\n")[1][0] not in INSTRUCTIONS
