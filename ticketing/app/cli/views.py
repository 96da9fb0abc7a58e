"""What the command line prints: tables and detail views of what the commands found.

Plain functions of plain values (the store's domain objects); nothing here reads the database.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from typing import TextIO

from ticketing.core.domain import MeetingStatus, OutboxStatus
from ticketing.core.planner import local_label
from ticketing.core.sla import humanize


def write_json_array(items: Iterable, out: TextIO) -> None:
    """Write ``items`` as ``json.dumps(list(items), indent=2)`` plus a newline would, one item at a
    time: a JSON string holds no raw line break, so indenting each item's lines by two spaces is safe."""
    started = False
    for item in items:
        out.write(",\n  " if started else "[\n  ")
        out.write(json.dumps(item, indent=2).replace("\n", "\n  "))
        started = True
    out.write("\n]\n" if started else "[]\n")


def sla_state(ticket, now) -> tuple[str, object]:
    """A ticket's SLA in a word and its next due time: ``breached`` or ``overdue`` (a clock past its
    due time that the next sweep will mark), ``due`` with the time, ``paused``, ``met``, or ``-``."""
    clocks = [(ticket.first_response_state, ticket.first_response_due),
              (ticket.resolution_state, ticket.resolution_due)]
    states = {state for state, _ in clocks}
    if "breached" in states:
        return "breached", None
    running = sorted(due for state, due in clocks if state == "running" and due is not None)
    if running:
        return ("overdue" if running[0] <= now else "due"), running[0]
    for word in ("paused", "met"):
        if word in states:
            return word, None
    return "-", None


def _sla_cell(ticket, now) -> str:
    word, due = sla_state(ticket, now)
    return f"{word} {due.astimezone():%m-%d %H:%M}" if due is not None else word


def ticket_table(tickets, now, wide: bool = False) -> None:
    """The tickets in 80 columns (``wide``: every column, as wide as it takes)."""
    if not tickets:
        print("no tickets")
        return
    if wide:
        print(f"{'ID':<7} {'KIND':<15} {'STATUS':<8} {'PRI':<3} {'SLA':<20} {'MSGS':>4}  {'ASSIGNEE':<30} "
              f"{'REQUESTER':<30} {'ACCOUNT':<20} SUBJECT")
        for t in tickets:
            subject = t.subject + (f" (go-live {t.golive_date})" if t.golive_date else "") + (" [review]" if t.review else "")
            print(f"{'WG-' + str(t.id):<7} {t.kind.value:<15} {t.status.value:<8} {t.priority:<3} {_sla_cell(t, now):<20} "
                  f"{t.message_count:>4}  {t.assignee or '-':<30} {t.requester:<30} {t.account or '-':<20} {subject}")
        return
    print(f"{'ID':<7} {'PRI':<3} {'STATUS':<8} {'SLA':<20} {'ASSIGNEE':<12} SUBJECT")
    for t in tickets:
        subject = ("! " if t.review else "") + t.subject
        assignee = (t.assignee or "-").split("@")[0]
        print(_fit(f"{'WG-' + str(t.id):<7} {t.priority:<3} {t.status.value:<8} {_sla_cell(t, now):<20} "
                   f"{_fit(assignee, 12):<12} {subject}", 80))


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, an ellipsis marking the cut."""
    return text if len(text) <= width else text[:width - 1] + "…"


def ticket_detail(ticket, thread, events, outgoing, policy_name: str, clocks) -> None:
    print(f"Ticket {ticket.id}: {ticket.subject}")
    print(f"  kind {ticket.kind.value}, status {ticket.status.value}, priority {ticket.priority}"
          + (", FLAGGED FOR REVIEW" if ticket.review else ""))
    print(f"  requester {ticket.requester_name} <{ticket.requester}>" if ticket.requester_name else f"  requester {ticket.requester}")
    if ticket.account:
        print(f"  account {ticket.account}")
    if ticket.golive_date:
        print(f"  go-live {ticket.golive_date} (from \"{ticket.golive_text}\")")
    if ticket.refers_to:
        print(f"  refers to ticket {ticket.refers_to}")
    print(f"  created {ticket.created_at:%Y-%m-%d %H:%M} UTC, updated {ticket.updated_at:%Y-%m-%d %H:%M} UTC")
    if clocks:
        print()
        print(f"SLA ({policy_name}):")
        for clock in clocks:
            target = f"target {humanize(clock.target.duration)} on {clock.target.clock}" if clock.target else "no target"
            due = f", due {clock.due:%Y-%m-%d %H:%M} UTC" if clock.due and clock.status.value in ("running", "breached") else ""
            print(f"  {clock.name.replace('_', ' ')}: {clock.status.value}, {humanize(clock.used)} used, {target}{due}")
            for line in clock.explanation:
                print(f"    - {line}")
    print()
    print("Why this kind and priority:")
    for reason in ticket.reasons:
        print(f"  - {reason}")
    print()
    assignment = ticket.assignment or {}
    print(f"Assigned to {ticket.assignee or 'nobody'}: {assignment.get('reason', '')}")
    for c in assignment.get("candidates", []):
        state = "out of office" if c["out_of_office"] else ("working" if c["working_now"] else "off hours")
        last = c["last_assigned_at"][:16].replace("T", " ") + " UTC" if c["last_assigned_at"] else "never"
        print(f"  {c['email']:<36} {c['open_load']:>3} open  {state:<13} last assigned {last}")
    for msg in thread:
        print()
        print(f"--- {msg.received_at:%Y-%m-%d %H:%M} UTC  {msg.kind.value if msg.kind else msg.status.value}  from {msg.from_name} <{msg.from_addr}>")
        print(f"    Subject: {msg.subject}")
        for att in msg.attachments:
            print(f"    Attachment: {att['filename']} ({att['content_type']}, {att['size']} bytes)")
        body = msg.body_text.strip()
        print()
        print("\n".join("    " + line for line in body.splitlines()[:200]))
    print()
    print("Events:")
    for event in events:
        detail = ", ".join(f"{k}={v}" for k, v in event.detail.items())
        print(f"  {event.at:%Y-%m-%d %H:%M} UTC  {event.kind.value:<17} {event.actor}  {detail}".rstrip())
    if outgoing:
        print()
        print("Mail sent about it:")
        for o in outgoing:
            print(f"  {o.created_at:%Y-%m-%d %H:%M} UTC  {o.purpose:<15} {o.status:<7} to {', '.join(o.recipients)}")


def engagement_table(engagements, counts) -> None:
    if not engagements:
        print("no engagements")
        return
    print(f"{'ID':>4}  {'ACCOUNT':<28} {'PLAYBOOK':<22} {'ENGINEER':<32} {'GO-LIVE':<10}  MEETINGS")
    for e in engagements:
        planned = sum(1 for m in counts[e.id] if m.status is MeetingStatus.PLANNED)
        print(f"{e.id:>4}  {e.account[:28]:<28} {(e.playbook or '-')[:22]:<22} {(e.engineer or '-')[:32]:<32} "
              f"{str(e.golive_date or '-'):<10}  {planned} planned, {len(counts[e.id]) - planned} other")


def engagement_detail(engagement, meetings, tasks=(), scorecard=()) -> None:
    print(f"Engagement {engagement.id}: {engagement.account}")
    print(f"  playbook {engagement.playbook or '(none)'}, tier {engagement.tier or '-'}, engineer {engagement.engineer or '-'}")
    print(f"  contract {engagement.contract_id or '-'}, closed {engagement.close_date or '-'}, "
          f"go-live {engagement.golive_date or 'not known'}, hand-off ticket {engagement.ticket_id or '-'}")
    for line in scorecard:  # milestones and metrics (:mod:`ticketing.app.cli.scorecard`)
        print(line)
    shown: set[str] = set()
    for m in meetings:
        indent = "  "
        if m.series_uid:
            # A weekly series: one invitation, its occurrences under it (answers may differ per occurrence).
            members = [o for o in meetings if o.series_uid == m.series_uid]
            if m.series_uid not in shown:
                shown.add(m.series_uid)
                print()
                title = re.sub(r" \(\d+\)$", "", m.title)
                print(f"  {title}: weekly series, {len(members)} occurrences (one invitation, UID {m.series_uid})")
            indent = "    "
            number = members.index(m) + 1
        print()
        when = f"{m.start:%a %Y-%m-%d %H:%M}-{m.end:%H:%M} UTC" if m.start else "not planned"
        if m.series_uid:
            moved = "" if m.recurrence_id == m.start else f" (moved from {m.recurrence_id:%a %Y-%m-%d %H:%M} UTC)"
            print(f"{indent}occurrence {number}  [{m.status}]  {when}{moved}")
        else:
            print(f"{indent}{m.title}  [{m.status}]  {when}")
        if m.note:
            print(f"{indent}  note: {m.note}")
        for a in m.attendees:
            remark = f"  {a.comment}" if a.comment else ""
            print(f"{indent}  {a.partstat:<12} {a.name + ' ' if a.name else ''}<{a.email}> "
                  f"({a.role}{'' if a.required else ', optional'}){remark}")
    if tasks:
        print()
        print("  Tasks:")
    for t in tasks:
        due = t.due.isoformat() if t.due else "waiting"
        print(f"    {due:<10}  {t.key:<20} {t.owner:<18} {t.status.value:<7}  {t.name}")
        if t.note:
            print(f"      note: {t.note}")


def task_json(task) -> dict:
    """One task of an engagement for ``whiteglove engagement ID --json``."""
    return {"key": task.key, "name": task.name, "owner": task.owner,
            "due": task.due.isoformat() if task.due else None, "status": task.status.value,
            "customer_visible": task.customer_visible, "note": task.note,
            "done_at": task.done_at.isoformat() if task.done_at else None}


def outbox_table(mails, failed_only: bool) -> None:
    if not mails:
        print("no failed mail" if failed_only else "no outgoing mail")
        return
    for mail in mails:
        print(f"{mail.id:>5}  {mail.created_at:%Y-%m-%d %H:%M}  {mail.status:<7} {mail.purpose:<15} "
              f"to {', '.join(mail.recipients)[:50]:<50} {mail.subject[:60]}")
        if mail.status is OutboxStatus.SUPPRESSED:
            print(f"       not sent: {mail.last_error[:200]}")
        elif mail.status is not OutboxStatus.SENT and mail.last_error:
            print(f"       {mail.attempts} attempt(s); last error: {mail.last_error[:200]}")


def quarantine_table(entries) -> None:
    if not entries:
        print("no quarantined messages")
        return
    for e in entries:
        state = ""
        if e.released_at:
            how = f"discarded by {e.discarded_by}" if e.discarded_by else "released"
            state = f" ({how} {e.released_at:%Y-%m-%d %H:%M})"
        print(f"{e.id:>5}  {e.created_at:%Y-%m-%d %H:%M}  {e.mailbox} {e.source_key}  {e.size} bytes{state}")
        print(f"       from {e.from_addr or '?'}: {e.subject[:70]}")
        print(f"       reason: {e.reason}")


def printable(text: str) -> str:
    """``text`` without control characters: what a stranger's mail holds must not drive the terminal."""
    return "".join(c if c.isprintable() or c == "\t" else "\ufffd" for c in text)


def quarantine_detail(entry, received_at, parsed) -> None:
    print(f"Quarantined message {entry.id}: {printable(entry.subject) or '(no subject)'}")
    print(f"  from {printable(entry.from_addr) or '?'}, {entry.size} bytes, received {received_at:%Y-%m-%d %H:%M} UTC")
    print(f"  mailbox {entry.mailbox}, key {entry.source_key}")
    print(f"  quarantined {entry.created_at:%Y-%m-%d %H:%M} UTC: {entry.reason}")
    if entry.detail:
        print(f"  detail: {entry.detail}")
    if entry.released_at:
        how = f"discarded by {entry.discarded_by}" if entry.discarded_by else "released by a retry"
        print(f"  {how} {entry.released_at:%Y-%m-%d %H:%M} UTC")
    print()
    shown = ("from", "to", "cc", "date", "subject", "message-id", "content-type")
    for name, value in parsed.headers:
        if name in shown:
            print(f"  {name.title()}: {printable(value[:200])}")
    for defect in parsed.defects[:5]:
        print(f"  defect: {printable(defect)}")
    print()
    print("\n".join("    " + printable(line) for line in parsed.text[:4000].splitlines()[:80]))
    print()
    print(f"whiteglove quarantine retry {entry.id}    (after a fix)")
    print(f"whiteglove quarantine discard {entry.id}  (to give up on it)")
    print(f"whiteglove quarantine show {entry.id} --raw > message.eml")


def plan_table(playbook, result, start, golive, engineer, calendar, customer_tz) -> None:
    print(f"{playbook.title} ({playbook.name}), starting {start}"
          + (f", go-live {golive}" if golive else "")
          + f"; engineer {engineer.email if engineer else '(none)'} on calendar {calendar.name}")
    for placement in result.placed:
        spec = playbook.meeting(placement.spec_key)
        print(f"  {local_label(placement.start, placement.end, customer_tz):<40} {placement.key:<24} "
              f"{int(spec.duration.total_seconds() // 60)} min" + ("  [internal]" if spec.internal else "")
              + (f"  ! {placement.warning}" if placement.warning else ""))
    for missing in result.unplaced:
        print(f"  {'not placed':<40} {missing.key:<24} {missing.reason}")


def task_table(playbook, planned) -> None:
    """The tasks of ``playbook`` after its meetings: due date (or "waiting"), key, owner, name; a
    task the customer sees is marked [customer], and why one waits or moved follows "!"."""
    if not playbook.tasks:
        return
    print("tasks:")
    specs = {spec.key: spec for spec in playbook.tasks}
    for task in sorted(planned, key=lambda t: (t.due is None, t.due or date.min, t.key)):
        spec = specs[task.key]
        due = task.due.isoformat() if task.due else "waiting"
        print(f"  {due:<12} {task.key:<28} {spec.owner:<24} {spec.name}"
              + ("  [customer]" if spec.customer_visible else "") + (f"  ! {task.reason}" if task.reason else ""))


def iso(value):
    return value.isoformat() if value else None


def clock_json(clock) -> dict:
    minutes = lambda d: int(d.total_seconds() // 60) if d is not None else None  # noqa: E731
    return {
        "name": clock.name, "priority": clock.priority, "status": clock.status.value,
        "target_minutes": minutes(clock.target.duration) if clock.target else None,
        "clock": clock.target.clock if clock.target else None, "used_minutes": minutes(clock.used),
        "started_at": iso(clock.started_at), "stopped_at": iso(clock.stopped_at), "due": iso(clock.due),
        "breached_at": iso(clock.breached_at), "explanation": list(clock.explanation),
    }


def status_table(status) -> None:
    """``whiteglove status``: a :class:`ticketing.app.status.Status`."""
    now = status.now
    print(f"{'status':<16} {status.level.upper()}")
    for _, problem in status.problems:
        print(f"{'':<16} - {problem}")
    print(f"{'worker':<16} {status.worker}" + (f" ({status.worker_detail})" if status.worker_detail else ""))
    print(f"{'last poll':<16} {_when(status.last_poll_ok, now)}")
    print(f"{'last send':<16} {_when(status.last_send, now)}")
    known = {c.name: c for c in status.components}
    for name, what in (("mailbox", "mailbox"), ("outgoing", "outgoing server")):
        c = known.get(name)
        if c is None or c.failing_since is None:
            print(f"{what:<16} works" if c else f"{what:<16} not tried yet")
            continue
        minutes = int((now - c.failing_since).total_seconds() // 60)
        told = f"; managers told {c.alerted_at:%Y-%m-%d %H:%M} UTC" if c.alerted_at else ""
        print(f"{what:<16} FAILING since {c.failing_since:%Y-%m-%d %H:%M} UTC ({minutes} min){told}")
        print(f"{'':<16} {c.last_error}")
    print(f"{'outbox':<16} {status.outbox[OutboxStatus.QUEUED]} waiting, {status.outbox[OutboxStatus.FAILED]} failed")
    print(f"{'quarantined':<16} {status.quarantined}")
    print(f"{'next SLA sweep':<16} " + (f"{status.next_sla_sweep:%Y-%m-%d %H:%M:%S} UTC" if status.next_sla_sweep
                                       else "every minute while the worker runs"))
    print(f"{'weekly summary':<16} " + (f"{status.next_weekly_summary:%Y-%m-%d %H:%M} UTC" if status.next_weekly_summary
                                       else "none (no [[managers]])"))


def _when(moment, now) -> str:
    if moment is None:
        return "not known"
    minutes = int((now - moment).total_seconds() // 60)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({minutes} min ago)"


def dry_run(summary, tickets, mails) -> None:
    """What a dry run would have done."""
    print("dry run: rolled back, nothing was stored, sent or marked in the mailbox")
    print(f"intake: {summary}")
    print(f"would create {len(tickets)} ticket(s)" + (":" if tickets else ""))
    for t in tickets:
        print(_fit(f"  WG-{t.id:<5} {t.priority} {t.kind.value:<15} from {t.requester}, to {t.assignee or 'nobody'}: "
                   f"{printable(t.subject)}", 120))
    sending = [m for m in mails if m.status not in (OutboxStatus.HELD, OutboxStatus.SUPPRESSED)]
    held = len([m for m in mails if m.status is OutboxStatus.HELD])
    stopped = [m for m in mails if m.status is OutboxStatus.SUPPRESSED]
    print(f"would send {len(sending)} mail(s)" + (":" if sending else ""))
    for m in sending:
        print(_fit(f"  {m.purpose:<16} to {', '.join(m.recipients)}: {printable(m.subject)}", 120))
    if held:
        print(f"would keep {held} mail(s) about history unsent (held: see README, \"History is never answered\")")
    if stopped:
        print(f"would stop {len(stopped)} mail(s) past a loop limit (suppressed: see README, \"Mail loops are broken\")")
