"""What ``whiteglove status`` reports, and its exit code for monitoring.

From the store: each connection's state (the worker records it after every pass), the last mail
sent, the outbox's queued and failed mail, quarantined messages nobody has retried. From the
heartbeat file (``--health-file``, see :mod:`ticketing.app.heartbeat`): whether the worker runs,
its last successful poll and its next SLA sweep. From the configuration: the next weekly summary.

The level and exit code:

- ``down`` (2): the worker is not running: the heartbeat file is missing, says it stopped, or was
  not replaced for two poll intervals (at least a minute) past the time the worker said its next
  pass would come; or the mailbox has failed for longer than ``support.connection_alert_minutes``.
- ``degraded`` (1): a connection fails (for less than that), the worker is retrying, mail failed
  for good, or quarantined messages wait for someone.
- ``healthy`` (0): none of that.

Without a heartbeat file the worker's state is ``unknown`` and counts for nothing. The mailbox's
backlog (new mail not handled yet) is not shown: counting it needs a login to the mailbox, which
``status`` does not make, and the worker handles every message it lists in the same pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ticketing.app.heartbeat import ago, parse_time
from ticketing.config import Config
from ticketing.config.sections import WEEKDAYS
from ticketing.core.domain import ComponentState, OutboxStatus

__all__ = ["LEVELS", "Status", "gather_status", "next_weekly_summary"]

#: The levels and their exit codes.
LEVELS = {"healthy": 0, "degraded": 1, "down": 2}
WHAT = {"mailbox": "mailbox", "outgoing": "outgoing server"}


@dataclass
class Status:
    now: datetime
    worker: str  # running | retrying | stopped | unknown
    worker_detail: str
    heartbeat: dict | None
    components: list[ComponentState]
    last_poll_ok: datetime | None
    last_send: datetime | None
    outbox: dict[OutboxStatus, int]
    quarantined: int
    next_sla_sweep: datetime | None
    next_weekly_summary: datetime | None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (level, what)

    @property
    def level(self) -> str:
        levels = {level for level, _ in self.problems}
        return "down" if "down" in levels else ("degraded" if levels else "healthy")

    @property
    def exit_code(self) -> int:
        return LEVELS[self.level]

    def as_json(self) -> dict:
        iso = lambda value: value.isoformat() if value else None  # noqa: E731
        return {
            "status": self.level,
            "exit_code": self.exit_code,
            "problems": [what for _, what in self.problems],
            "now": iso(self.now),
            "worker": {"state": self.worker, "detail": self.worker_detail,
                       "pid": (self.heartbeat or {}).get("pid"),
                       "heartbeat_at": (self.heartbeat or {}).get("time")},
            "last_poll_ok": iso(self.last_poll_ok),
            "last_send": iso(self.last_send),
            "connections": {c.name: {"state": "failing" if c.failing_since else "works",
                                     "failing_since": iso(c.failing_since), "last_error": c.last_error or None,
                                     "managers_told_at": iso(c.alerted_at)} for c in self.components},
            "outbox": {"queued": self.outbox[OutboxStatus.QUEUED], "failed": self.outbox[OutboxStatus.FAILED]},
            "quarantined": self.quarantined,
            "next_sla_sweep": iso(self.next_sla_sweep),
            "next_weekly_summary": iso(self.next_weekly_summary),
        }


def gather_status(config: Config, store, heartbeat: dict | None, health_file: Path | None, now: datetime) -> Status:
    """The status at ``now`` from ``store`` (a SqlStore) and the ``heartbeat`` read from ``health_file``."""
    components = store.components()
    outbox = store.outbox_counts()
    status = Status(
        now=now, worker="unknown", worker_detail="", heartbeat=heartbeat, components=components,
        last_poll_ok=parse_time((heartbeat or {}).get("last_poll_ok")), last_send=store.last_sent_at(),
        outbox=outbox, quarantined=store.quarantine_count(), next_sla_sweep=None,
        next_weekly_summary=next_weekly_summary(config, now) if config.managers else None,
    )
    _worker(status, heartbeat, health_file, now)
    alert_after = timedelta(minutes=config.support.connection_alert_minutes)
    for c in components:
        if c.failing_since is None:
            continue
        what = WHAT.get(c.name, c.name)
        lasting = now - c.failing_since
        level = "down" if c.name == "mailbox" and lasting >= alert_after else "degraded"
        status.problems.append((level, f"the {what} fails since {c.failing_since:%Y-%m-%d %H:%M} UTC: {c.last_error}"))
    if outbox[OutboxStatus.FAILED]:
        status.problems.append(("degraded", f"{outbox[OutboxStatus.FAILED]} outgoing message(s) failed "
                                            "(whiteglove outbox --failed)"))
    if status.quarantined:
        status.problems.append(("degraded", f"{status.quarantined} quarantined message(s) (whiteglove quarantine list)"))
    return status


def _worker(status: Status, heartbeat: dict | None, health_file: Path | None, now: datetime) -> None:
    if health_file is None:
        status.worker_detail = "not watched: run the worker with --health-file PATH and give status the same"
        return
    if heartbeat is None:
        status.worker, status.worker_detail = "stopped", f"no heartbeat file at {health_file}"
        status.problems.append(("down", f"the worker is not running: {status.worker_detail}"))
        return
    at = parse_time(heartbeat["time"])
    pid = heartbeat.get("pid")
    if heartbeat.get("state") == "stopped":
        status.worker, status.worker_detail = "stopped", f"pid {pid} stopped at {at:%Y-%m-%d %H:%M:%S} UTC"
        status.problems.append(("down", f"the worker is not running: {status.worker_detail}"))
        return
    poll = float(heartbeat.get("poll_seconds") or 60)
    deadline = (parse_time(heartbeat.get("next_pass_by")) or at) + timedelta(seconds=max(2 * poll, 60))
    if now > deadline:
        status.worker = "stopped"
        status.worker_detail = f"pid {pid} last wrote its heartbeat {ago(now - at)} ago"
        status.problems.append(("down", f"the worker is not running: {status.worker_detail}"))
        return
    status.worker = heartbeat.get("state", "running")
    status.worker_detail = f"pid {pid}, heartbeat {ago(now - at)} ago"
    if status.worker == "retrying":
        status.problems.append(("degraded", f"the worker is retrying: {heartbeat.get('error', 'a pass failed')}"))
    sweep = (heartbeat.get("jobs") or {}).get("SLA sweep")
    if sweep and sweep.get("last_run"):
        status.next_sla_sweep = parse_time(sweep["last_run"]) + timedelta(seconds=float(sweep["every"]))


def next_weekly_summary(config: Config, now: datetime) -> datetime | None:
    """The next time a manager's weekly summary falls due (``sla.summary_weekday`` and
    ``sla.summary_time`` in each manager's time zone), in UTC; None without managers."""
    weekday = WEEKDAYS.index(config.sla.summary_weekday)
    at = time.fromisoformat(config.sla.summary_time)
    found = []
    for manager in config.managers:
        tz = ZoneInfo(manager.timezone)
        local = now.astimezone(tz)
        day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
        due = datetime.combine(day, at, tzinfo=tz)
        if due <= local:
            due = datetime.combine(day + timedelta(days=7), at, tzinfo=tz)
        found.append(due.astimezone(ZoneInfo("UTC")))
    return min(found, default=None)

