"""What a deal sent again changes in its engagement."""
from datetime import date

from ticketing.core.deal_changes import DealSoFar, deal_changes
from ticketing.core.notices import Notice, NoticeContact

JANE = NoticeContact("jane@acme.example", "Jane Doe", "project lead")
MARCUS = NoticeContact("marcus@acme.example", "Marcus Lee", "IT")
KIM = NoticeContact("kim@acme.example", "Kim Park", "IT")
BEFORE = DealSoFar(engineer="priya@northwind.example", tier="Enterprise", golive_date=date(2027, 1, 14),
                   listed=frozenset({JANE.email, MARCUS.email}),
                   contacts=frozenset({JANE.email, MARCUS.email, "bob@acme.example"}))


def notice(**changes) -> Notice:
    values = dict(account="Acme", contacts=(JANE, MARCUS), tier="Enterprise", engineer="priya@northwind.example",
                  golive_date=date(2027, 1, 14), contract_id="SOW-1")
    values.update(changes)
    return Notice(**values)


def test_the_same_deal_unchanged_changes_nothing():
    assert not deal_changes(BEFORE, notice())
    assert not deal_changes(BEFORE, notice(tier="ENTERPRISE ", engineer="Priya@Northwind.example"))


def test_a_contact_replaced_is_one_added_and_one_removed():
    changes = deal_changes(BEFORE, notice(contacts=(JANE, KIM)))
    assert changes.added == (KIM,) and changes.removed == ("marcus@acme.example",)


def test_a_contact_the_notice_never_listed_is_never_removed():
    # bob came from the configuration, not from the CRM
    assert deal_changes(BEFORE, notice(contacts=(JANE,))).removed == ("marcus@acme.example",)


def test_what_a_notice_leaves_out_stays_as_it_is():
    changes = deal_changes(BEFORE, notice(contacts=(), tier=None, engineer=None, golive_date=None))
    assert not changes


def test_a_new_go_live_engineer_and_package_are_changes():
    changes = deal_changes(BEFORE, notice(golive_date=date(2027, 2, 1), engineer="tom@northwind.example",
                                          tier="Enterprise (white-glove onboarding)"))
    assert (changes.golive_date, changes.engineer, changes.package) == (
        date(2027, 2, 1), "tom@northwind.example", "Enterprise (white-glove onboarding)")
    assert changes.added == () and changes.removed == ()
