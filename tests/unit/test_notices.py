"""Reading contract-closed notices in each shape a CRM can produce."""
import json
from datetime import date
from pathlib import Path

from mailer.message import parse_message
from ticketing.core.notices import looks_like_notice, read_notice

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = sorted((ROOT / "examples/inbox/new").iterdir())[0]

KEY_VALUE = """An opportunity has been marked Closed Won.

Account: Globex Corporation
Domains: globex.example; https://www.globex-corp.example/
Opportunity ID: 0065g00000XyZ12
Close Date: 18 November 2026
Tier: QuickStart Advanced
Account Executive: Sam Carter <sam.carter@northwind.example>
Onboarding Engineer: priya.raman@northwind.example
Contact: Bob Martínez <bob.martinez@globex.example> (IT)
Contact: "Alice Wong" <alice.wong@globex.example>; role=exec
Contact: nobody at all
"""


def test_the_shipped_example_notice_is_read_in_full():
    msg = parse_message(EXAMPLE.read_bytes())
    notice = read_notice(msg.subject, msg.text, msg.html, [])
    assert notice.account == "Acme Corporation"
    assert notice.domains == ("acme.example", "acme-corp.example")
    assert (notice.opportunity_id, notice.contract_id, notice.reference) == ("OPP-2026-0412", "SOW-7781", "SOW-7781")
    assert notice.close_date == date(2026, 11, 16) and notice.tier == "Enterprise"
    assert notice.engineer == "priya.raman@northwind.example"
    assert notice.sales_rep.email == "dana.whitfield@northwind.example"
    assert [(c.email, c.role) for c in notice.contacts] == [
        ("jane.doe@acme.example", "project lead"), ("marcus.lee@acme.example", "IT"), ("helen.ortiz@acme.example", "exec"),
    ]
    assert notice.problems == ()


def test_key_value_lines_accept_aliases_and_report_what_they_cannot_read():
    notice = read_notice("Deal won", KEY_VALUE, None, [])
    assert notice.account == "Globex Corporation" and notice.source == "text"
    assert notice.domains == ("globex.example", "globex-corp.example")
    assert notice.close_date == date(2026, 11, 18)
    assert notice.tier == "QuickStart Advanced"
    assert notice.sales_rep.name == "Sam Carter" and notice.engineer == "priya.raman@northwind.example"
    assert [(c.name, c.email, c.role) for c in notice.contacts] == [
        ("Bob Martínez", "bob.martinez@globex.example", "IT"), ("Alice Wong", "alice.wong@globex.example", "exec"),
    ]
    assert notice.problems == ("contacts: no address in 'nobody at all'",)


def test_an_html_table_is_read_row_by_row():
    html = """<html><body><p>Closed Won!</p><table>
      <tr><th>Account Name</th><td>Initech</td></tr>
      <tr><th>Package:</th><td>Enterprise</td></tr>
      <tr><th>Contract</th><td>SOW-1</td></tr>
      <tr><th>Contacts</th><td>Peter Gibbons &lt;peter@initech.example&gt; (exec)<br>samir@initech.example</td></tr>
    </table></body></html>"""
    notice = read_notice("Closed Won: Initech", "Closed Won!", html, [])
    assert (notice.account, notice.tier, notice.contract_id, notice.source) == ("Initech", "Enterprise", "SOW-1", "html table")
    assert [c.email for c in notice.contacts] == ["peter@initech.example", "samir@initech.example"]
    assert notice.domains == ("initech.example",)  # from the contacts when none is given


def test_a_csv_attachment_lists_one_contact_per_row():
    csv = ("account,domain,tier,opportunity_id,close_date,contact_name,contact_email,contact_role\r\n"
           "Umbrella Corp,umbrella.example,Enterprise,OPP-9,2026-11-20,Alice Abernathy,alice@umbrella.example,exec\r\n"
           "Umbrella Corp,umbrella.example,Enterprise,OPP-9,2026-11-20,Carlos Oliveira,carlos@umbrella.example,IT\r\n")
    notice = read_notice("Closed Won", "See attached.", None, [("deal.csv", "text/csv", csv)])
    assert notice.source == "csv attachment" and notice.account == "Umbrella Corp"
    assert [(c.name, c.role) for c in notice.contacts] == [("Alice Abernathy", "exec"), ("Carlos Oliveira", "IT")]
    assert notice.close_date == date(2026, 11, 20) and notice.opportunity_id == "OPP-9"


def test_a_json_attachment_is_read_with_nested_people():
    data = {"account": "Hooli", "domains": ["hooli.example"], "tier": "QuickStart Express", "contract_id": "C-77",
            "close_date": "2026-11-21T10:00:00Z", "sales_rep": {"name": "Gavin", "email": "gavin@northwind.example"},
            "contacts": [{"name": "Jared", "email": "jared@hooli.example", "role": "project manager"}]}
    notice = read_notice("Closed-won", "", None, [("notice.json", "application/json", json.dumps(data))])
    assert notice.source == "json attachment" and notice.close_date == date(2026, 11, 21)
    assert notice.sales_rep.email == "gavin@northwind.example"
    assert notice.contacts[0].role == "project manager"


def test_mail_that_only_mentions_contracts_is_no_notice():
    assert not looks_like_notice("Question about our contract", "When does the contract renew?")
    assert read_notice("Re: pricing", "Account: Acme\nTier: Enterprise", None, []) is None
    assert read_notice("Closed Won", "Congratulations team!", None, []) is None  # names no account
