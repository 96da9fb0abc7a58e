"""Whether a new ticket also pages on-call: urgent, and nobody inside working hours has it (pure)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ticketing.config import ConfigError, config_from_dict
from ticketing.core.routing import Candidate, choose_engineer, oncall_reason


def candidate(email: str, working: bool, away: bool = False) -> Candidate:
    return Candidate(email, open_load=0, last_assigned_at=None, out_of_office=away, working_now=working)


PRIYA_OFF = candidate("priya@northwind.example", working=False)
TOM_ON = candidate("tom@northwind.example", working=True)


@pytest.mark.parametrize("priority", ["P0", "P1"])
def test_an_urgent_ticket_whose_engineer_is_off_duty_pages_on_call(priority):
    assignment = choose_engineer(priority, "priya@northwind.example", (PRIYA_OFF, TOM_ON))
    assert assignment.engineer == "priya@northwind.example"  # the account's engineer keeps it
    assert oncall_reason(priority, assignment) == f"a {priority} outside the working hours of priya@northwind.example"


@pytest.mark.parametrize("priority", ["P2", "P3"])
def test_a_less_urgent_ticket_never_pages_on_call(priority):
    assert oncall_reason(priority, choose_engineer(priority, "priya@northwind.example", (PRIYA_OFF,))) is None


def test_an_urgent_ticket_routed_to_someone_at_work_pages_nobody():
    assignment = choose_engineer("P0", None, (PRIYA_OFF, TOM_ON))
    assert assignment.engineer == "tom@northwind.example"
    assert oncall_reason("P0", assignment) is None
    assert oncall_reason("P1", choose_engineer("P1", "tom@northwind.example", (TOM_ON,))) is None


def test_an_urgent_ticket_nobody_can_take_pages_on_call():
    assignment = choose_engineer("P1", None, (candidate("priya@northwind.example", working=False, away=True),))
    assert assignment.engineer is None
    assert oncall_reason("P1", assignment) == "a P1 that no engineer could take"


def test_the_oncall_address_is_checked_when_the_configuration_is_built():
    inbox = str(Path(__file__).resolve().parents[2] / "examples/inbox")
    data = {"mailbox": {"backend": "maildir", "path": inbox}, "support": {"address": "support@example.com"}}
    assert config_from_dict(data).support.oncall is None
    good = config_from_dict({**data, "support": {**data["support"], "oncall": "noc@example.com"}})
    assert good.support.oncall == "noc@example.com"
    with pytest.raises(ConfigError) as info:
        config_from_dict({**data, "support": {**data["support"], "oncall": "the noc team"}})
    assert [p.key for p in info.value.problems] == ["support.oncall"]
