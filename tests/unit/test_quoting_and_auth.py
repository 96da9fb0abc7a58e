"""Finding the new text of a reply, and believing Authentication-Results only from our server."""
from mailer.authresults import parse_auth_results, sender_verified
from mailer.quoting import new_text

MARKER = "-- Reply above this line --"


def test_text_above_an_attribution_line_is_the_new_text():
    text = "Works now, thanks!\n\nOn Wed, 18 Nov 2026 at 08:09, Bob <bob@x.example> wrote:\n> old text\n> more"
    assert new_text(text) == "Works now, thanks!"
    wrapped = "Fine.\n\nOn Wed, 18 Nov 2026 at 08:09, Bob Martinez\n<bob@x.example> wrote:\n> old"
    assert new_text(wrapped) == "Fine."


def test_outlook_blocks_our_marker_and_trailing_quotes_end_the_new_text():
    outlook = "Go ahead.\r\n\r\nFrom: Support <support@x.example>\r\nSent: Monday\r\nTo: me\r\n\r\nold"
    assert new_text(outlook.replace("\r\n", "\n")) == "Go ahead."
    assert new_text(f"#resolve\n\n{MARKER}\nTicket 5 details", marker=MARKER) == "#resolve"
    assert new_text("Yes.\n> quoted\n> lines") == "Yes."
    assert new_text("-----Original Message-----\nonly quote") == ""
    assert new_text("Nothing quoted here.\nSecond line.") == "Nothing quoted here.\nSecond line."


HEADER = ("mx1.northwind.example; dkim=pass header.d=acme.example header.s=s1; spf=fail "
          "smtp.mailfrom=bounce@mailer.example; dmarc=pass (p=reject) header.from=acme.example")


def test_an_authentication_results_header_is_parsed_into_methods_and_properties():
    parsed = parse_auth_results(HEADER)
    assert parsed.authserv_id == "mx1.northwind.example"
    assert [(r.method, r.result) for r in parsed.results] == [("dkim", "pass"), ("spf", "fail"), ("dmarc", "pass")]
    assert parsed.results[0].properties["header.d"] == "acme.example"


def test_only_our_servers_header_counts_and_only_for_an_aligned_domain():
    assert sender_verified([HEADER], "mx1.northwind.example", "acme.example")[0]
    forged = "mx1.attacker.example; dmarc=pass header.from=acme.example"
    ok, why = sender_verified([forged], "mx1.northwind.example", "acme.example")
    assert not ok and "no Authentication-Results from mx1.northwind.example" in why
    dkim_only = "mx1.northwind.example; dkim=pass header.d=other.example; spf=pass smtp.mailfrom=x@other.example"
    assert not sender_verified([dkim_only], "mx1.northwind.example", "acme.example")[0]
    subdomain = "mx1.northwind.example; dkim=pass header.d=acme.example"
    assert sender_verified([subdomain], "MX1.northwind.example", "mail.acme.example")[0]


def test_a_dmarc_pass_our_server_gave_another_from_domain_does_not_vouch_for_ours():
    # Two From headers: our server judged the other one (header.from says which); ours is unproven.
    headers = ["mx1.northwind.example; dmarc=pass header.from=evil.example"]
    assert sender_verified(headers, "mx1.northwind.example", "northwind.example")[0] is False
    headers = ["mx1.northwind.example; dmarc=pass header.from=northwind.example"]
    assert sender_verified(headers, "mx1.northwind.example", "northwind.example")[0] is True
