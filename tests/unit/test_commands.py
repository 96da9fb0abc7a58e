"""Engineers' commands at the top of a reply."""
from ticketing.core.commands import Command, parse_commands


def test_commands_on_the_first_lines_are_taken_and_the_rest_is_the_answer():
    result = parse_commands("#pending\n#priority p1\n\nCould you send the SAML trace?\n#resolve is not a command here")
    assert result.commands == (Command("pending"), Command("priority", "P1"))
    assert result.body == "Could you send the SAML trace?\n#resolve is not a command here"
    assert result.relay and result.problems == ()


def test_unknown_commands_and_bad_arguments_are_reported_not_run():
    result = parse_commands("#resolv\n#priority P7\n#assign bob\nThanks")
    assert result.commands == () and not result.relay  # "Thanks" waits until the commands are right
    assert result.problems == ("unknown command #resolv", "#priority needs one of P0, P1, P2, P3, not 'P7'",
                               "#assign needs an engineer's address, not 'bob'")


def test_a_note_is_never_relayed_and_takes_the_text_below_it():
    result = parse_commands("#note\nCustomer is on the legacy plan; check billing first.")
    assert result.commands == (Command("note", "Customer is on the legacy plan; check billing first."),)
    assert not result.relay and result.body == ""
    inline = parse_commands("#note call them Monday\n#resolve")
    assert inline.commands == (Command("note", "call them Monday"), Command("resolve"))


def test_a_hash_that_is_not_a_word_starts_the_text():
    result = parse_commands("#1 thing to check is the clock skew.")
    assert result.commands == () and result.problems == () and result.body.startswith("#1 thing")
