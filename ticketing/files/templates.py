"""Rendering outgoing mail from the Jinja2 templates in ``templates/``.

An operator's folder of overrides (``[templates] path``: files named like the shipped ones, the
layout ``_layout.html`` included) is looked in first, so every mail can be branded without touching
the installed package; :func:`check_overrides` says what is wrong with such a folder.
Each mail has a plain-text template (``NAME.txt``) and an HTML one (``NAME.html``, autoescaped:
a value from inbound mail can never add markup). Undefined variables are errors, so a template
and the code that fills it cannot drift apart silently.
"""
from __future__ import annotations

import difflib
import importlib.resources
from pathlib import Path

import jinja2

from ticketing.errors import Problem

CHECKOUT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def default_templates_dir() -> Path:
    """``templates/`` of a checkout (or an editable install), else the copy installed with the package."""
    if CHECKOUT_TEMPLATES.is_dir():
        return CHECKOUT_TEMPLATES
    return Path(str(importlib.resources.files("ticketing") / "_data" / "templates"))


class Renderer:
    """Renders ``NAME.txt`` and ``NAME.html`` pairs from ``overrides`` (if given), else from ``folder``."""

    def __init__(self, folder: Path | None = None, overrides: Path | None = None):
        self.folder = folder or default_templates_dir()
        self.folders = [overrides, self.folder] if overrides else [self.folder]
        self.env = jinja2.Environment(
            # FileSystemLoader with several paths takes each file from the first folder that has it.
            loader=jinja2.FileSystemLoader([str(f) for f in self.folders]),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self.env.filters["filesize"] = filesize

    def render(self, name: str, **context) -> tuple[str, str]:
        """Return ``(text, html)`` of template pair ``name``. Raises jinja2 errors for bad templates."""
        text = self.env.get_template(f"{name}.txt").render(**context)
        html = self.env.get_template(f"{name}.html").render(**context)
        return text.strip() + "\n", html

    def render_text(self, template: str, **context) -> str:
        """A one-off template (a playbook's meeting title or description) rendered as plain text."""
        return self.env.from_string(template).render(**context)

    def missing(self, names: list[str]) -> list[str]:
        """The template files of ``names`` that do not exist."""
        return [f"{n}.{ext}" for n in names for ext in ("txt", "html")
                if not any((folder / f"{n}.{ext}").is_file() for folder in self.folders)]


def filesize(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} GB"  # pragma: no cover


def check_overrides(overrides: Path, key: str = "templates.path") -> list[Problem]:
    """The problems of a folder of template overrides, each one :class:`Problem`: the folder is
    missing, a file is named like no shipped template (it would never be used), a file does not
    compile, or a mail does not render with its sample context (a name the code does not give it).
    """
    from ticketing.files.template_samples import SAMPLES

    if not overrides.is_dir():
        return [Problem(key, f"no folder at {overrides}",
                        "create it (files named like the shipped templates) or remove the key")]
    shipped = default_templates_dir()
    known = {p.name for p in shipped.iterdir() if p.is_file()}
    renderer = Renderer(shipped, overrides)
    problems: list[Problem] = []
    files = sorted(p.name for p in overrides.iterdir() if not p.name.startswith("."))
    for name in files:
        where = f"{overrides.name}/{name}"
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            problems.append(Problem(where, "no shipped template has this name, so it would never be used",
                                    f"rename it to {close[0]}" if close else f"name it like a file in {shipped}"))
            continue
        try:
            renderer.env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(Problem(f"{where}: line {exc.lineno}", f"the template does not compile: {exc.message}",
                                    "correct its Jinja2 syntax"))
        except jinja2.TemplateError as exc:
            problems.append(Problem(where, f"the template does not compile: {exc}", "correct its Jinja2 syntax"))
    if problems:
        return problems
    # Every mail a changed file takes part in (a layout or macros override: all of them) renders.
    partials = [name for name in files if name.startswith("_")]
    failed: dict[tuple[str, str], list[str]] = {}  # (override, error): the mails it breaks
    for name, context in sorted(SAMPLES.items()):
        for file in (f"{name}.txt", f"{name}.html"):
            if file not in files and not (partials and file.endswith(".html")):
                continue
            try:
                renderer.env.get_template(file).render(**context)
            except Exception as exc:  # the operator's code: an undefined name, a filter on the wrong kind of value
                error = str(exc) if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {exc}"
                failed.setdefault((file if file in files else ", ".join(partials), error), []).append(file)
    for (where, error), mails in failed.items():
        problems.append(Problem(f"{overrides.name}/{where}", f"would not render {', '.join(mails)}: {error}",
                                f"use only the values the shipped {mails[0]} uses"))
    return problems
