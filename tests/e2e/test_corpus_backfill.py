"""A backfill of the real-world corpus is history: every message is stored, nobody is mailed."""
import contextlib
import io
from pathlib import Path

import pytest
from support.configs import example_copy

from ticketing.app.cli import main

pytestmark = pytest.mark.corpus

ROOT = Path(__file__).resolve().parents[2]


def test_ingesting_the_corpus_and_running_the_worker_sends_nothing_and_stores_everything(corpus_dir, tmp_path, db_url):
    example_copy(tmp_path, db_url)
    for name in (tmp_path / "examples/inbox/new").iterdir():  # an empty mailbox: only the backfill
        name.unlink()
    config = str(tmp_path / "config.toml")
    files = sorted(p for p in (corpus_dir / "mail").rglob("*") if p.is_file())
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["ingest", str(corpus_dir / "mail"), "--config", config]) == 0
        # The worker's next pass: the SLA sweep, the weekly summaries and the outbox run over it all.
        assert main(["run", "--once", "--config", config]) == 0
        assert main(["outbox", "--json", "--config", config]) == 0
    printed = out.getvalue()
    ingest_line = next(line for line in printed.splitlines() if line.startswith("ingest: "))
    numbers = [int(word) for word in ingest_line.replace(",", " ").split() if word.isdigit()]
    processed, duplicates, quarantined = numbers[:3]
    # Every message in every file is stored or quarantined (mbox files hold several).
    assert processed + duplicates + quarantined >= len(files) and processed > 300
    assert "outbox: 0 sent, 0 to retry, 0 failed" in printed
    assert list((tmp_path / "outbox").glob("*.eml")) == []
