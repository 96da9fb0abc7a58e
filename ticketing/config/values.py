"""An email address as the configuration accepts it (shared by the checks of people and of connections)."""
from __future__ import annotations

import re

_EMAIL = re.compile(r"^[^@\s<>(),;:\"\\]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z0-9-]{2,63}$")


def is_email(value: str | None) -> bool:
    return bool(value) and _EMAIL.match(value) is not None
