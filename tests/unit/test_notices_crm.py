"""Notices worded the way HubSpot, Salesforce, Pipedrive and Dynamics 365 alerts word them."""
from datetime import date

import pytest

from ticketing.core.notice_fields import field_for, person
from ticketing.core.notices import read_notice

SALESFORCE = """Opportunity Closed Won

Account Name: Initech LLC
Customer Domain: initech.example
Opportunity Name: Initech - Enterprise Platform
Opportunity ID: 0068d00000AbCdE
Close Date: 11/17/2026
Amount: USD 184,000.00
Opportunity Owner: Sam Carter <sam@northwind.example>
Product: Enterprise (white-glove onboarding)
Primary Contact: Peter Gibbons <peter@initech.example>
Contacts:
- Peter Gibbons <peter@initech.example>, Project Lead
- Samir Nagheenanajar <samir@initech.example>, IT
- Michael Bolton <michael@initech.example>, Finance

Solutions Engineer: Priya Raman <priya@northwind.example>
Region: North America
Lead Source: Partner referral

View the opportunity: https://northwind.my.salesforce.example/0068d00000AbCdE
"""

HUBSPOT = """Deal won: Hooli expansion

Deal name: Hooli expansion
Deal stage: Closed won
Company name: Hooli
Amount: $96,000
Close date: Nov 18, 2026
Deal owner: Gavin Belson <gavin@northwind.example>
Plan: QuickStart Advanced
Champion: Jared Dunn <jared@hooli.example>
Stakeholders:
Jared Dunn <jared@hooli.example> (Project Lead)
Dinesh Chugtai <dinesh@hooli.example> (IT)
Target go-live: January 14, 2027
Technical Account Manager: Tom Becker <tom@northwind.example>
"""

PIPEDRIVE = """Deal won!

Deal title: Pied Piper onboarding
Organization: Pied Piper
Person: Richard Hendricks - CEO - richard@piedpiper.example
Value: 48 000 EUR
Won time: 2026-11-18 14:03:22
Owner: Monica Hall
Contacts:
  * Bertram Gilfoyle - IT - gilfoyle@piedpiper.example
  * Dinesh Chugtai - Developer - dinesh@piedpiper.example
Edition: Professional Services
Deal ID: 1187
"""

DYNAMICS = """Opportunity won: Contoso rollout

Topic: Contoso rollout
Potential Customer: Contoso Ltd
Status Reason: Won
Actual Close Date: Tue, 17 Nov 2026
Actual Revenue: $120,000.00
Owner: Dana Whitfield <dana@northwind.example>
Customer Success Manager: Priya Raman <priya@northwind.example>
Main Contact: Kim Lee <kim@contoso.example>
Launch Date: 2027-02-01
Sales Engineer: Tom Becker <tom@northwind.example>
"""

HTML_ONLY = """<!DOCTYPE html><html><body style="margin:0">
<table width="100%" cellpadding="0"><tr><td align="center">
  <table width="600" class="layout"><tr><td><img src="cid:logo" alt="CRM"><h1>Deal Won</h1>
    <p>Congratulations! The deal below moved to <b>Closed Won</b>.</p>
    <table class="record">
      <tr><th>Field</th><th>Value</th></tr>
      <tr><td><strong>Company Name</strong></td><td>Umbrella Corporation</td></tr>
      <tr><td><strong>Deal ID</strong></td><td>D-20441</td></tr>
      <tr><td><strong>Package</strong></td><td>QuickStart Advanced &amp; Advanced Services SOW</td></tr>
      <tr><td><strong>Closed On</strong></td><td>18-Nov-2026</td></tr>
      <tr><td><strong>Account Executive</strong></td><td>Sam Carter &lt;sam@northwind.example&gt;</td></tr>
      <tr><td><strong>Solutions Engineer</strong></td><td><a href="mailto:priya@northwind.example">priya@northwind.example</a></td></tr>
      <tr><td><strong>Contacts</strong></td><td><ul><li>Alice Abernathy &lt;alice@umbrella.example&gt;, Project Lead</li>
          <li>Carlos Oliveira &lt;carlos@umbrella.example&gt;, IT</li></ul></td></tr>
      <tr><td><strong>Renewal Term</strong></td><td>36 months</td></tr>
    </table>
  </td></tr></table>
</td></tr></table></body></html>"""


def test_a_salesforce_alert_with_a_contact_list_gives_contacts_and_the_engineer():
    notice = read_notice("Opportunity Closed Won: Initech", SALESFORCE, None, [])
    assert notice.account == "Initech LLC" and notice.domains == ("initech.example",)
    assert [(c.name, c.email, c.role) for c in notice.contacts] == [
        ("Peter Gibbons", "peter@initech.example", "Project Lead"),  # the primary contact, with the list's role
        ("Samir Nagheenanajar", "samir@initech.example", "IT"),
        ("Michael Bolton", "michael@initech.example", "Finance"),
    ]
    assert notice.engineer == "priya@northwind.example"
    assert notice.sales_rep.email == "sam@northwind.example"
    assert notice.tier == "Enterprise (white-glove onboarding)"
    assert (notice.opportunity_id, notice.deal_name, notice.amount) == (
        "0068d00000AbCdE", "Initech - Enterprise Platform", "USD 184,000.00")
    assert notice.close_date == date(2026, 11, 17)
    assert notice.other == (("Region", "North America"), ("Lead Source", "Partner referral"),
                            ("View the opportunity", "https://northwind.my.salesforce.example/0068d00000AbCdE"))
    assert notice.problems == ()


def test_a_hubspot_alert_reads_its_unbulleted_stakeholders_and_keeps_the_tam_as_a_note():
    notice = read_notice("Deal won: Hooli expansion", HUBSPOT, None, [])
    assert notice.account == "Hooli" and notice.tier == "QuickStart Advanced"
    assert [(c.email, c.role) for c in notice.contacts] == [
        ("jared@hooli.example", "Project Lead"), ("dinesh@hooli.example", "IT")]
    assert notice.close_date == date(2026, 11, 18) and notice.golive_date == date(2027, 1, 14)
    assert notice.sales_rep.name == "Gavin Belson"
    # no solutions engineer: the technical account manager leads the onboarding
    assert notice.engineer == "tom@northwind.example"
    assert notice.domains == ("hooli.example",)


def test_a_pipedrive_alert_reads_name_role_address_lines_and_keeps_an_owner_without_address():
    notice = read_notice("Deal won", PIPEDRIVE, None, [])
    assert notice.account == "Pied Piper" and notice.opportunity_id == "1187"
    assert [(c.name, c.email, c.role) for c in notice.contacts] == [
        ("Richard Hendricks", "richard@piedpiper.example", "CEO"),
        ("Bertram Gilfoyle", "gilfoyle@piedpiper.example", "IT"),
        ("Dinesh Chugtai", "dinesh@piedpiper.example", "Developer"),
    ]
    assert notice.close_date == date(2026, 11, 18)  # the time of day is dropped
    assert notice.tier == "Professional Services" and notice.amount == "48 000 EUR"
    assert notice.sales_rep is None and ("Sales rep", "Monica Hall") in notice.other


def test_a_dynamics_alert_prefers_the_engineer_to_the_success_manager():
    notice = read_notice("Opportunity won: Contoso rollout", DYNAMICS, None, [])
    assert notice.account == "Contoso Ltd" and notice.deal_name == "Contoso rollout"
    assert notice.close_date == date(2026, 11, 17) and notice.golive_date == date(2027, 2, 1)
    assert notice.engineer == "tom@northwind.example"
    assert ("Customer Success Manager", "Priya Raman <priya@northwind.example>") in notice.other
    assert [(c.email, c.role) for c in notice.contacts] == [("kim@contoso.example", "primary contact")]


def test_an_html_table_alert_is_read_when_the_text_part_is_useless():
    notice = read_notice("Deal Won", "To view this message, open it in a browser.", HTML_ONLY, [])
    assert notice.source == "html table" and notice.account == "Umbrella Corporation"
    assert notice.opportunity_id == "D-20441" and notice.close_date == date(2026, 11, 18)
    assert notice.tier == "QuickStart Advanced & Advanced Services SOW"
    assert notice.engineer == "priya@northwind.example" and notice.sales_rep.name == "Sam Carter"
    assert [(c.email, c.role) for c in notice.contacts] == [
        ("alice@umbrella.example", "Project Lead"), ("carlos@umbrella.example", "IT")]
    assert notice.other == (("Renewal Term", "36 months"),)  # and not the table's "Field | Value" heading


def test_unknown_keys_reach_the_json_of_the_engagement():
    notice = read_notice("Opportunity Closed Won: Initech", SALESFORCE, None, [])
    assert notice.as_json()["other"][:2] == [["Region", "North America"], ["Lead Source", "Partner referral"]]


@pytest.mark.parametrize("key, field", [
    ("Organization Name", "account"), ("Company", "account"), ("Opportunity Name", "deal_name"),
    ("Closed On", "close_date"), ("Deal Owner", "sales_rep"), ("Account Executive", "sales_rep"),
    ("Sales Engineer", "engineer"), ("Go-Live", "golive_date"), ("Target Go-Live Date", "golive_date"),
    ("Package", "tier"), ("Tier", "tier"), ("Edition", "tier"), ("Main Contact", "primary_contact"),
    ("Stakeholders", "contacts"), ("Est. Close Date", "close_date"), ("deal_owner", "sales_rep"),
])
def test_crm_wordings_name_the_same_field(key, field):
    assert field_for(key) == field


@pytest.mark.parametrize("line, expected", [
    ("Jane Doe <jane@acme.example>, Project Lead", ("Jane Doe", "jane@acme.example", "Project Lead")),
    ("Jane Doe <jane@acme.example> (Project Lead)", ("Jane Doe", "jane@acme.example", "Project Lead")),
    ("Jane Doe - Project Lead - jane@acme.example", ("Jane Doe", "jane@acme.example", "Project Lead")),
    ('"Doe, Jane" <jane@acme.example>; role=IT', ("Doe, Jane", "jane@acme.example", "IT")),
    ("jane@acme.example", ("", "jane@acme.example", "")),
])
def test_a_person_is_read_in_each_way_crms_list_them(line, expected):
    found = person(line)
    assert (found.name, found.email, found.role) == expected


def test_a_list_line_without_an_address_is_reported():
    notice = read_notice("Closed Won", "Account: Acme\nContacts:\n- Jane Doe, Project Lead\n", None, [])
    assert notice.contacts == () and notice.problems == ("contacts: no address in 'Jane Doe, Project Lead'",)
