"""The connections' health: a failure is remembered from its first pass, the managers are told once
when it has lasted, and once more when it is over."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from support.desk import CONFIG, Desk

from ticketing.services.health import Health

T0 = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)


@pytest.fixture
def health(store):
    desk = Desk(store, {**CONFIG, "managers": [{**CONFIG["managers"][0], "timezone": "Europe/Berlin"}]})
    bare = desk.intake.desk
    return desk, Health(store, desk.config, bare.mails, bare.outbox, alert_after=30 * MIN)


def test_a_failing_mailbox_is_told_to_the_managers_once_after_the_alert_time_and_its_recovery_once(health, store):
    desk, watch = health
    watch.observe("mailbox", T0, error="imap.contoso.com refused the OAuth2 token of support@contoso.com")
    assert store.component("mailbox").failing_since == T0 and desk.mail("connection") == []
    watch.observe("mailbox", T0 + 29 * MIN, error="the same")
    assert desk.mail("connection") == []
    watch.observe("mailbox", T0 + 31 * MIN, error="still refused")
    watch.observe("mailbox", T0 + 45 * MIN, error="still refused")
    [(_, alert)] = desk.mail("connection")
    assert alert.to[0].email == "dana@northwind.example" and "cannot use the support mailbox" in alert.subject
    assert "still refused" in alert.text and "31 min" in alert.text and "config check --connect" in alert.text
    assert store.component("mailbox").alerted_at == T0 + 31 * MIN
    assert "Wed 18 Nov 2026, 17:00 CET" in alert.text  # when it began, in Dana's zone (16:00 UTC)

    watch.observe("mailbox", T0 + 50 * MIN, worked=True)
    watch.observe("mailbox", T0 + 51 * MIN, worked=True)
    recovered = [m for _, m in desk.mail("connection") if "again" in m.subject]
    assert len(recovered) == 1 and "50 min" in recovered[0].text
    assert store.component("mailbox").failing_since is None


def test_a_short_failure_is_logged_but_nobody_is_mailed(health, store, caplog):
    desk, watch = health
    caplog.set_level(logging.INFO, logger="ticketing.services.health")
    watch.observe("outgoing", T0, error="smtp refused the login")
    watch.observe("outgoing", T0 + 5 * MIN, worked=True)
    assert desk.mail("connection") == []
    messages = [r.getMessage() for r in caplog.records if r.name == "ticketing.services.health"]
    assert messages == ["the outgoing mail server fails: smtp refused the login",
                        "the outgoing mail server works again, after 5 min failing"]


def test_a_pass_that_saw_nothing_changes_nothing(health, store):
    desk, watch = health
    watch.observe("outgoing", T0, error="refused")
    watch.observe("outgoing", T0 + 40 * MIN)  # nothing was due: no evidence either way
    assert store.component("outgoing").failing_since == T0 and store.component("outgoing").alerted_at is None
