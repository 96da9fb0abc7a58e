"""Who a worker is, for the outgoing mail it claims, and whether the worker of a claim still runs.

A worker's name is ``host:pid:start``, ``start`` being when the process started (the kernel's start
time on Linux, else the time it took its name), so a pid reused by another process is not taken for
the old worker. A claim whose lease runs out goes back to the queue after the lease, whoever held
it; these names let a restarted worker give back its predecessor's claims at once: a claim of this
host whose process is gone (or whose pid is now another process) is dead. Claims of other hosts are
left to their lease: we cannot see their processes.
"""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

_PROC = Path("/proc")


def worker_name() -> str:
    """This process's name as the owner of claims: ``host:pid:start``."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_started(pid) or _FIRST_LOOK}"


def claim_is_dead(owner: str) -> bool:
    """Whether the worker named ``owner`` (a :func:`worker_name`) is known not to run any more."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False  # not a name we give: its lease decides
    host, pid, start = parts[0], int(parts[1]), parts[2]
    if host != socket.gethostname():
        return False
    if pid == os.getpid():
        return owner != worker_name()  # an earlier process with our pid (a container's pid 1 restarted)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # a process of another user has it: alive, maybe ours under another account
    fields = _stat(pid)
    if fields and fields[0] in ("Z", "X"):
        return True  # killed, not yet reaped by its parent (a supervisor that has not called wait)
    now_start = fields[19] if len(fields) > 19 else None
    return now_start is not None and now_start != start


def _started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), if known."""
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else None


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state first); empty if unknown."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return []
    # the command name (field 2) is in parentheses and may hold spaces: count fields after it
    return stat.rpartition(")")[2].split()


_FIRST_LOOK = str(int(time.time()))
