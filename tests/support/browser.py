"""A real browser for tests: headless Chromium (Debian ``chromium``) renders a local HTML file.

:class:`Chromium` takes a screenshot of a page (so a person can look at it) or dumps its DOM after
layout (so a test can read the text a reader would see). Each run gets a fresh profile and
Chromium's background networking is off: nothing leaves the machine. Without the binary,
:func:`chromium` skips the test, or fails it under ``CI=true`` (see :mod:`support.servers`).
"""
from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .servers import server_unavailable

BINARY = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
TIMEOUT = 90  # seconds; a first start on a cold CI machine is slow


@dataclass(frozen=True)
class Chromium:
    binary: Path

    def screenshot(self, page: Path, png: Path, width: int = 900, height: int = 1600) -> Path:
        """Render ``page`` in a ``width`` x ``height`` window to ``png``; raises AssertionError on failure."""
        self._run(f"--screenshot={png}", f"--window-size={width},{height}", page.resolve().as_uri())
        assert png.is_file() and png.stat().st_size > 0, f"chromium wrote no screenshot to {png}"
        return png

    def dump_dom(self, page: Path) -> str:
        """The serialized DOM of ``page`` after it loaded (what the browser made of the markup)."""
        return self._run("--dump-dom", page.resolve().as_uri())

    def _run(self, *args: str) -> str:
        with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
            done = subprocess.run([str(self.binary), *FLAGS, f"--user-data-dir={profile}", *args],
                                  capture_output=True, text=True, timeout=TIMEOUT, check=False)
        assert done.returncode == 0, f"chromium exited with {done.returncode}:\n{done.stderr[-2000:]}"
        return done.stdout


def chromium() -> Chromium:
    """The installed Chromium; skips the test without it (fails it under CI=true)."""
    if not BINARY.is_file():
        server_unavailable(f"headless Chromium is not installed at {BINARY} (Debian package chromium)")
    return Chromium(BINARY)
