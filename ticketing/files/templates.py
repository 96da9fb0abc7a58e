"""Rendering outgoing mail from the Jinja2 templates in ``templates/``.

Each mail has a plain-text template (``NAME.txt``) and an HTML one (``NAME.html``, autoescaped:
a value from inbound mail can never add markup). Undefined variables are errors, so a template
and the code that fills it cannot drift apart silently.
"""
from __future__ import annotations

import importlib.resources
from pathlib import Path

import jinja2

CHECKOUT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def default_templates_dir() -> Path:
    """``templates/`` of a checkout (or an editable install), else the copy installed with the package."""
    if CHECKOUT_TEMPLATES.is_dir():
        return CHECKOUT_TEMPLATES
    return Path(str(importlib.resources.files("ticketing") / "_data" / "templates"))


class Renderer:
    """Renders ``NAME.txt`` and ``NAME.html`` pairs from one folder."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder or default_templates_dir()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.folder)),
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
        return [f"{n}.{ext}" for n in names for ext in ("txt", "html") if not (self.folder / f"{n}.{ext}").is_file()]


def filesize(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} GB"  # pragma: no cover
