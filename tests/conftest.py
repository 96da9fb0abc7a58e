"""Shared fixtures. Server fixtures live in ``tests/support``; they are re-exported here."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real-world corpus in ``../shared/corpus``; tests using it are marked ``corpus``."""
    if not CORPUS.is_dir():
        pytest.skip(f"the corpus is not at {CORPUS}")
    return CORPUS


# The server fixtures: a Dovecot IMAP server, an aiosmtpd SMTP server, a PostgreSQL database.
pytest_plugins = ["support.dovecot", "support.smtp", "support.postgres", "support.oauth", "support.graph", "support.ews"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A fresh, empty database: SQLite in a temp dir, and PostgreSQL (the same tests run on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'whiteglove.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def week_summary():
    """The weekly SLA summary of the fixture week (``support.week``)."""
    from support.week import WEEK

    from ticketing.core.report import weekly_summary

    return weekly_summary(WEEK)


@pytest.fixture(scope="session")
def week_mail(week_summary):
    """Its mail: ``(text, html)``."""
    from ticketing.core.report_mail import render_weekly
    from ticketing.files.templates import Renderer

    return render_weekly(week_summary, Renderer())
