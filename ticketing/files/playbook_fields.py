"""The typed fields of a playbook's TOML tables, shared by :mod:`ticketing.files.playbooks` and
:mod:`ticketing.files.playbook_tasks`: every unknown, missing or mistyped key is reported with an example."""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

Report = Callable[[str, str, str], None]  # (key, message, fix)


class Key(NamedTuple):
    kind: str  # str, text (may be empty), int, strs, window, tables, table
    required: bool
    example: str


_WORDS = {"str": "a non-empty string", "text": "a string", "int": "a whole number", "strs": "a list of non-empty strings",
          "window": "a list of two whole numbers", "tables": "an array of tables", "table": "a table",
          "bool": "true or false", "any": "a value"}


def read_fields(data: dict[str, Any], schema: dict[str, Key], prefix: str, report: Report) -> dict[str, Any]:
    """The well-typed values of ``data``; unknown, missing and mistyped keys are reported."""
    values: dict[str, Any] = {}
    for key in data:
        if key not in schema:
            report(f"{prefix}{key}", "unknown key", f"remove it or correct its spelling; known keys: {', '.join(schema)}")
    for key, spec in schema.items():
        where = f"{prefix}{key}"
        if key not in data:
            if spec.required:
                report(where, "required", f"add {key} = {spec.example}")
            continue
        value = data[key]
        if not _is(spec.kind, value):
            got = {dict: "a table", list: "a list"}.get(type(value), type(value).__name__)
            report(where, f"must be {_WORDS[spec.kind]}, not {got}" + (f" {value!r}" if not isinstance(value, (dict, list)) else ""),
                   f"write e.g. {key} = {spec.example}")
            continue
        values[key] = tuple(value) if spec.kind in ("strs", "tables") else value
    return values


def _is(kind: str, value: Any) -> bool:
    if kind in ("str", "text"):
        return isinstance(value, str) and (kind == "text" or bool(value.strip()))
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("bool", "any"):
        return isinstance(value, bool) or kind == "any"
    if kind == "strs":
        return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
    if kind == "window":
        return isinstance(value, list) and len(value) == 2 and all(_is("int", v) for v in value)
    if kind == "tables":
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    return isinstance(value, dict)
