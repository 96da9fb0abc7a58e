"""The mail toolkit stands alone: ``mailer`` never imports ``ticketing``, and the pure core of
``ticketing`` touches no database, network or environment."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURE = ["classify.py", "threads.py", "domain.py", "notices.py", "golive.py", "dates.py", "routing.py", "priority.py",
        "commands.py", "calendars.py", "planner.py", "playbooks.py", "playbook_checks.py", "sla.py", "report.py",
        "report_mail.py"]
PURE_MAILER = ["message.py", "charsets.py", "automated.py", "html.py", "quoting.py", "authresults.py", "compose.py", "parts.py",
               "imip.py"]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_mailer_never_imports_ticketing():
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in imported_modules(path) if n.split(".")[0] == "ticketing")
        for path in (ROOT / "mailer").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_pure_core_imports_no_io_library():
    forbidden = {"peewee", "playhouse", "imapclient", "imaplib", "smtplib", "socket", "os", "schedule", "exchangelib"}
    offenders = {
        name: sorted(n for n in imported_modules(ROOT / "ticketing" / name) if n.split(".")[0] in forbidden)
        for name in PURE
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_pure_parts_of_the_mail_toolkit_do_no_io():
    forbidden = {"imapclient", "imaplib", "smtplib", "socket", "ssl", "os", "exchangelib", "selectors"}
    offenders = {
        name: sorted(n for n in imported_modules(ROOT / "mailer" / name) if n.split(".")[0] in forbidden)
        for name in PURE_MAILER
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_pure_core_never_reads_the_wall_clock():
    clocks = {"now", "utcnow", "today", "time", "monotonic"}
    offenders = {}
    for path in [ROOT / "ticketing" / n for n in PURE] + [ROOT / "mailer" / n for n in PURE_MAILER]:
        calls = [
            node.func.attr for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in clocks
        ]
        if calls:
            offenders[path.name] = calls
    assert offenders == {}
