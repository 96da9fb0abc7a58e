"""The house plan, checked: each folder of ``ticketing`` is a layer, and imports run one way.

``core`` (pure) <- ``services`` (units of work) <- ``app`` (the shell); ``store`` is the only code
that touches peewee; ``files`` reads the package's files; ``config`` reads the TOML; ``mailer``
knows nothing of tickets. The rules are about folders, so a new module is covered the day it is
added. Every import counts, at the top of a module or inside a function.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mailer", "ticketing")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The absolute names ``path`` imports (``from a import b`` gives ``a`` and ``a.b``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


MODULES = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "_data" not in p.parts}
IMPORTS = {name: _imports(path) for name, path in MODULES.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "ticketing" and len(parts) > 1 else parts[0]


def _offenders(layer: str, forbidden: set[str]) -> dict[str, list[str]]:
    """The modules of ``layer`` that import a module whose top-level name or layer is in ``forbidden``."""
    found = {}
    for module, imported in IMPORTS.items():
        if _layer(module) != layer and module != layer:
            continue
        bad = sorted(n for n in imported if n.split(".")[0] in forbidden or _layer(n) in forbidden)
        if bad:
            found[module] = bad
    return found


IO_LIBRARIES = {"peewee", "playhouse", "imapclient", "imaplib", "smtplib", "socket", "ssl", "os", "schedule",
                "exchangelib", "requests", "msal", "selectors", "sqlite3", "psycopg2", "subprocess", "threading"}
PURE_MAILER = ["message", "body", "header_fields", "filenames", "charsets", "automated", "html", "quoting", "authresults", "compose",
               "parts", "imip", "imip_answers", "imip_series", "imap_keys"]


@pytest.mark.parametrize("layer, forbidden", [
    ("ticketing.core", {"ticketing.services", "ticketing.store", "ticketing.files", "ticketing.app"} | IO_LIBRARIES),
    ("ticketing.services", {"ticketing.app", "ticketing.files", "peewee", "playhouse", "os", "schedule"}),
    ("ticketing.store", {"ticketing.services", "ticketing.app", "ticketing.files"}),
    ("ticketing.files", {"ticketing.services", "ticketing.store", "ticketing.app"}),
    ("ticketing.config", {"ticketing.core", "ticketing.services", "ticketing.store", "ticketing.files", "ticketing.app"}),
    ("ticketing.errors", {"ticketing.core", "ticketing.services", "ticketing.store", "ticketing.files", "ticketing.app",
                          "ticketing.config", "mailer"}),
    ("mailer", {"ticketing"}),
])
def test_a_layer_imports_only_what_is_below_it(layer, forbidden):
    assert _offenders(layer, forbidden) == {}


def test_only_the_store_imports_peewee():
    users = {m for m, imported in IMPORTS.items() if any(n.split(".")[0] in ("peewee", "playhouse") for n in imported)}
    assert users and all(_layer(m) == "ticketing.store" for m in users), sorted(users)


def test_the_pure_parts_of_the_mail_toolkit_do_no_io():
    offenders = {
        name: sorted(n for n in IMPORTS[f"mailer.{name}"] if n.split(".")[0] in IO_LIBRARIES)
        for name in PURE_MAILER
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_pure_core_never_reads_the_wall_clock():
    clocks = {"now", "utcnow", "today", "time", "monotonic"}
    pure = [m for m in MODULES if _layer(m) == "ticketing.core"] + [f"mailer.{n}" for n in PURE_MAILER]
    offenders = {}
    for module in pure:
        calls = [
            node.func.attr for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in clocks
        ]
        if calls:
            offenders[module] = calls
    assert len(pure) > len(PURE_MAILER) and offenders == {}


def test_no_module_takes_part_in_an_import_cycle():
    graph = {m: sorted(n for n in imported if n in MODULES and n != m) for m, imported in IMPORTS.items()}
    # A package's __init__ re-exporting its own modules is not a cycle of the design.
    graph = {m: [n for n in deps if not m.startswith(n + ".")] for m, deps in graph.items()}
    cycles = _cycles(graph)
    assert cycles == []


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_rules_see_every_layer():
    """A guard for the checks above: a renamed folder must not make them pass vacuously."""
    layers = {_layer(m) for m in MODULES}
    assert {"ticketing.core", "ticketing.services", "ticketing.store", "ticketing.files", "ticketing.app",
            "ticketing.config", "mailer"} <= layers


def test_every_package_folder_is_installed():
    """pyproject.toml lists the packages by hand (for the _data mapping): a new folder must be added there."""
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    mapped = {folder.replace("/", "."): name for name, folder in setuptools["package-dir"].items()}
    listed = set(setuptools["packages"])
    folders = {_module_name(p) for pkg in PACKAGES for p in (ROOT / pkg).rglob("__init__.py") if "_data" not in p.parts}
    assert {mapped.get(f, f) for f in folders} - listed == set()


def test_the_command_line_reaches_the_database_only_through_the_store_bootstrap_opens():
    offenders = {m: sorted(n for n in imported if n.startswith("ticketing.store") or n.split(".")[0] in ("peewee", "playhouse"))
                 for m, imported in IMPORTS.items() if m.startswith("ticketing.app.cli")}
    assert len(offenders) >= 3 and {m: v for m, v in offenders.items() if v} == {}


def test_ticketing_uses_the_mail_toolkit_through_its_public_names():
    """``from mailer import X``, never ``from mailer.parts import X``: mailer's __all__ is its interface."""
    offenders = {}
    for module, path in MODULES.items():
        if not module.startswith("ticketing"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            bad = [n for n in names if n.startswith("mailer.")]
            if bad:
                offenders.setdefault(module, []).extend(bad)
    assert len(MODULES) > 50 and offenders == {}
