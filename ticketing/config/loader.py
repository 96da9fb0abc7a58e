"""Reading the TOML file into a :class:`~ticketing.config.sections.Config`.

The sections' annotations drive the conversion, so a new key is one line in ``sections.py``.
Every problem is collected before failing, each with its key (``accounts[1].contacts[0].email``)
and a fix.
"""
from __future__ import annotations

import dataclasses
import functools
import tomllib
import typing
from datetime import date
from pathlib import Path
from typing import Any

from ticketing.config.checks import validate
from ticketing.config.sections import Config
from ticketing.config.suggest import close_names, did_you_mean
from ticketing.errors import ConfigError, Problem


def load_config(path: str | Path) -> Config:
    """Read and validate the TOML file at ``path``. Raises :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem("(file)", f"no configuration file at {path}", "pass --config PATH, or copy config.example.toml")]
        ) from None
    except OSError as exc:
        raise ConfigError([Problem("(file)", f"cannot read {path}: {exc.strerror}", "check the path and its permissions")]) from None
    except UnicodeDecodeError as exc:
        line = text_line(path, exc.start)
        raise ConfigError([Problem("(file)", f"not UTF-8 text (line {line})", "save the file as UTF-8")], path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Problem("(syntax)", f"not valid TOML: {exc}", "correct the TOML syntax at that line")], path) from None
    return config_from_dict(data, base_dir=path.resolve().parent, path=path)


def text_line(path: Path, offset: int) -> int:
    """The line of byte ``offset`` in the file at ``path``."""
    return path.read_bytes()[:offset].count(b"\n") + 1


def config_from_dict(data: dict[str, Any], base_dir: Path = Path("."), path: Path | None = None) -> Config:
    """Build a :class:`Config` from parsed TOML. Raises :class:`ConfigError` listing every problem."""
    problems: list[Problem] = []
    values = _build_fields(Config, data, "", problems, top=True)
    config = Config(**values, base_dir=base_dir)
    problems.extend(validate(config))
    if problems:
        raise ConfigError(problems, path)
    return config


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return {k: v for k, v in typing.get_type_hints(cls).items() if k != "base_dir"}


def _build_fields(cls: type, data: dict[str, Any], prefix: str, problems: list[Problem], top: bool = False) -> dict[str, Any]:
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{prefix}{key}"
        if key not in hints:
            kind = "section" if top else "key"
            close = close_names(key, hints)
            fix = did_you_mean(close) if close else f"remove it; known {kind}s: {', '.join(hints)}"
            problems.append(Problem(where, f"unknown {kind}", fix))
            continue
        try:
            values[key] = _convert(hints[key], value, where, problems)
        except _Invalid as exc:
            problems.append(Problem(where, str(exc), exc.fix))
    return values


class _Invalid(Exception):
    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.fix = fix


def _convert(hint: Any, value: Any, where: str, problems: list[Problem]) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        hint = next(a for a in args if a is not type(None))  # Optional[X]: TOML has no null
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            name = where.rsplit(".", 1)[-1]
            raise _Invalid("must be a table", f"write it as [{where}] or {name} = {{ … }}")
        return hint(**_build_fields(hint, value, f"{where}.", problems))
    if origin is tuple:
        item = args[0]
        if not isinstance(value, list):
            raise _Invalid(f"must be a list, not {_type_name(value)}", f"write e.g. {where.rsplit('.', 1)[-1]} = [{_example(item)}]")
        if dataclasses.is_dataclass(item):
            out = []
            for index, entry in enumerate(value):
                if not isinstance(entry, dict):
                    problems.append(Problem(f"{where}[{index}]", "must be a table", f"write it as [[{where}]]"))
                    continue
                out.append(item(**_build_fields(item, entry, f"{where}[{index}].", problems)))
            return tuple(out)
        return tuple(_scalar(item, entry, f"{where}[{index}]") for index, entry in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise _Invalid("must be a table of strings", f'write e.g. {where.rsplit(".", 1)[-1]} = {{ enterprise = "P2" }}')
        return {str(k): _scalar(args[1], v, f"{where}.{k}") for k, v in value.items()}
    return _scalar(hint, value, where)


def _scalar(kind: type, value: Any, where: str) -> Any:
    if kind is date:
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise _Invalid(f"must be a date, not {value!r}", "write e.g. 2026-12-24")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Invalid(f"must be {_type_word(kind)}, not {_type_name(value)}", f"write e.g. {where.rsplit('.', 1)[-1]} = {_example(kind)}")
    return value


def _type_name(value: Any) -> str:
    return {dict: "a table", list: "a list"}.get(type(value), type(value).__name__)


def _type_word(kind: type) -> str:
    return {bool: "true or false", int: "a whole number", str: "a string"}.get(kind, kind.__name__)


def _example(kind: Any) -> str:
    return {bool: "true", int: "60", str: '"…"', date: "2026-12-24"}.get(kind, "…")
