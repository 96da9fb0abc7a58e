"""Engineers' commands: ``#resolve``, ``#pending`` … on their own lines at the top of a reply (pure).

Reading stops at the first line that is neither blank nor a command, so a ``#`` further down (a
quoted hashtag, "#1 priority") is text. A reply holding ``#note`` is never relayed to the customer:
the text after the commands joins the note. The commands that steer an onboarding engagement
(``#golive``, ``#move`` …) are :mod:`ticketing.core.steering`'s.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ticketing.config import PRIORITIES
from ticketing.core import steering

#: The commands, with the help line shown to an engineer who typed an unknown one.
HELP = {
    "resolve": "#resolve             mark the ticket resolved",
    "pending": "#pending             waiting on the customer (the resolution clock pauses)",
    "open": "#open                open the ticket again",
    "priority": "#priority P0-P3      change the priority",
    "assign": "#assign name@domain  hand the ticket to another engineer",
    "note": "#note text           an internal note; the reply is not sent to the customer",
    **steering.HELP,
}
_COMMAND = re.compile(r"^#([a-z][a-z-]*)\b[ \t]*(.*)$", re.IGNORECASE)
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass(frozen=True)
class Command:
    name: str  # one of HELP's keys
    argument: str = ""


@dataclass(frozen=True)
class Commands:
    """What the top of a reply asked for, and the text left to relay."""

    commands: tuple[Command, ...]
    problems: tuple[str, ...]  # unknown commands and bad arguments, as lines to answer with
    body: str  # the rest of the text (empty for a note: it went into the note)

    @property
    def relay(self) -> bool:
        """Whether the body should reach the customer: not with a note, and not when a command was
        not understood (a mistyped ``#ntoe`` must not send an internal remark to the customer)."""
        return bool(self.body.strip()) and not self.problems and not any(c.name == "note" for c in self.commands)


def parse_commands(text: str) -> Commands:
    """Split ``text`` into the commands on its first lines and the body below them."""
    lines = text.splitlines()
    commands: list[Command] = []
    problems: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if not line:
            index += 1
            continue
        match = _COMMAND.match(line)
        if not match:
            break
        name, argument = match.group(1).lower(), match.group(2).strip()
        index += 1
        if name not in HELP:
            problems.append(f"unknown command #{name}")
            continue
        problem = _check(name, argument)
        if problem:
            problems.append(problem)
            continue
        commands.append(Command(name, argument.upper() if name == "priority" else argument))
    body = "\n".join(lines[index:]).strip()
    notes = [c for c in commands if c.name == "note"]
    if notes and body:
        last = notes[-1]
        joined = f"{last.argument}\n{body}".strip()
        commands[commands.index(last)] = Command("note", joined)
        body = ""
    return Commands(tuple(commands), tuple(problems), body)


def _check(name: str, argument: str) -> str | None:
    if name in steering.HELP:
        return steering.check(name, argument)
    if name == "priority" and argument.upper() not in PRIORITIES:
        return f"#priority needs one of {', '.join(PRIORITIES)}, not {argument!r}"
    if name == "assign" and not _ADDRESS.match(argument):
        return f"#assign needs an engineer's address, not {argument!r}"
    if name == "note" and not argument:
        return None  # the text below the commands is the note
    if name in ("resolve", "pending", "open") and argument:
        return None  # a word after the command ("#resolve thanks!") is harmless
    return None
