"""What a test does when a server it needs is not there.

On a developer's machine it skips with the reason; under CI (``CI=true``) it fails, so that a
missing server can never turn a red run green.
"""
from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def server_unavailable(reason: str) -> None:
    """Skip the test (fail it under CI) because a server it needs is missing."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a test that needs a server must not skip)")
    pytest.skip(reason)
