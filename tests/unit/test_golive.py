"""Go-live intents: the words customers use, the traps, and dates resolved against the received time."""
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from ticketing.core.golive import GoLiveIntent, detect_golive, mentions_golive

LA = ZoneInfo("America/Los_Angeles")
PARIS = ZoneInfo("Europe/Paris")
LONDON = ZoneInfo("Europe/London")
#: Wednesday 25 November 2026, 10:00 in Los Angeles.
RECEIVED = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def detect(text: str, subject: str = "Onboarding", received: datetime = RECEIVED, tz: ZoneInfo = LA):
    return detect_golive(subject, text, received, tz)


def at(year: int, month: int, day: int, hour: int = 18) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


# -- intents with a day ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, day, date_text", [
    ("We plan to go live on 14 January.", date(2027, 1, 14), "14 January"),
    ("We're planning to go-live January 14th", date(2027, 1, 14), "January 14th"),
    ("Cut-over is scheduled for 2027-01-14.", date(2027, 1, 14), "2027-01-14"),
    ("Cutover date: 01/14/2027", date(2027, 1, 14), "01/14/2027"),
    ("Go-live date: Jan 14", date(2027, 1, 14), "Jan 14"),
    ("Our target go-live date is Thursday 14 Jan.", date(2027, 1, 14), "Thursday 14 Jan"),
    ("We are aiming for a go-live on the 14th of January 2027.", date(2027, 1, 14), "the 14th of January 2027"),
    ("The go-live is set for Jan. 14, 2027, pending sign-off from legal.", date(2027, 1, 14), "Jan. 14, 2027"),
    ("We'll go into production on 14-Jan-2027.", date(2027, 1, 14), "14-Jan-2027"),
    ("We will move to production on January the 14th.", date(2027, 1, 14), "January the 14th"),
    ("We would like to go live on Jan 14 and start the training on Jan 20.", date(2027, 1, 14), "Jan 14"),
    ("On Jan 10 we do the dry run, then we go live on Jan 14.", date(2027, 1, 14), "Jan 14"),
    ("GO LIVE: 2027/01/14", date(2027, 1, 14), "2027/01/14"),
    ("we need SSO fixed before go-live on Jan 14", date(2027, 1, 14), "Jan 14"),
    ("We can't wait to go live on 14 January!", date(2027, 1, 14), "14 January"),
    ("We went live with the EU tenant last month and plan to go live in the US on Jan 14.", date(2027, 1, 14), "Jan 14"),
    ("Could we launch on Friday, January 15, 2027?", date(2027, 1, 15), "Friday, January 15, 2027"),
    ("we'd like to launch on the 3rd", date(2026, 12, 3), "the 3rd"),
    ("We intend to switch over production traffic on Monday.", date(2026, 11, 30), "Monday"),
    ("We are switching over on Monday", date(2026, 11, 30), "Monday"),
    ("launch next Tuesday", date(2026, 12, 1), "next Tuesday"),
    ("Launching in 2 weeks!", date(2026, 12, 9), "in 2 weeks"),
    ("Is go-live still on track for the 7th?", date(2026, 12, 7), "the 7th"),
    ("Go-Live: Monday, December 7th @ 8am EST", date(2026, 12, 7), "Monday, December 7th"),
    ("Our IT team will perform the cut-over between 6pm and 9pm on Saturday.", date(2026, 11, 28), "Saturday"),
    ("As discussed, the cutover weekend is 12-13 December.", date(2026, 12, 12), "12-13 December"),
    ("We won't be able to go live on Monday, we'll go live on Wednesday instead.", date(2026, 12, 2), "Wednesday"),
    ("We’re planning to go live on 14 January.", date(2027, 1, 14), "14 January"),
    ("İstanbul office: we plan to go live on 14 January.", date(2027, 1, 14), "14 January"),
])
def test_a_stated_plan_gives_the_intended_day(text, day, date_text):
    intent = detect(text)
    assert intent is not None, text
    assert (intent.golive_date, intent.date_text) == (day, date_text)
    assert intent.reasons[0].startswith("intent phrase '")


@pytest.mark.parametrize("text, day", [
    ("We go live tomorrow.", date(2026, 11, 26)),
    ("We want to go live today", date(2026, 11, 25)),
    ("We plan to go live the day after tomorrow.", date(2026, 11, 27)),
    ("We intend to go live in two weeks.", date(2026, 12, 9)),
    ("We plan to go live in 10 days", date(2026, 12, 5)),
    ("We plan to go live 3 weeks from now", date(2026, 12, 16)),
    ("We will go live in a week.", date(2026, 12, 2)),
    ("Go live this Friday", date(2026, 11, 27)),
    ("We are going live on Friday", date(2026, 11, 27)),
    ("We'll go live this Wednesday", date(2026, 11, 25)),  # 'this' includes today
    ("We'll go live on Wednesday", date(2026, 12, 2)),  # a bare weekday is the next one after today
    ("We'll go live next Wednesday", date(2026, 12, 2)),
    ("We'll go live next Monday", date(2026, 11, 30)),
    ("We'd like to go live Tuesday next week.", date(2026, 12, 1)),
    ("We'd like to go live next week on Thursday.", date(2026, 12, 3)),
    ("Target go-live: end of next week", date(2026, 12, 4)),
    ("We plan to go live by the end of the week", date(2026, 11, 27)),
    ("We plan to go live at the start of next week", date(2026, 11, 30)),
    ("We'd like to go live at the end of the month.", date(2026, 11, 30)),
    ("We'd like to go live at the end of next month.", date(2026, 12, 31)),
    ("We'd like to go live at the end of January.", date(2027, 1, 31)),
    ("We'd like to go live at the end of February 2028.", date(2028, 2, 29)),
    ("We plan to go live on Friday the 15th.", date(2027, 1, 15)),  # the next 15th that is a Friday
    ("We plan to go live on Tuesday 15th", date(2026, 12, 15)),
])
def test_relative_dates_resolve_against_the_received_local_date(text, day):
    intent = detect(text)
    assert intent is not None, text
    assert intent.golive_date == day
    assert any("resolved against 2026-11-25 (America/Los_Angeles)" in reason for reason in intent.reasons)


def test_the_reasons_name_the_intent_phrase_and_how_the_date_was_resolved():
    intent = detect("Hi Sam,\n\nWe plan to go live next Tuesday.\n\nThanks, Kim")
    assert intent == GoLiveIntent(
        golive_date=date(2026, 12, 1),
        phrase="We plan to go live next Tuesday.",
        date_text="next Tuesday",
        reasons=("intent phrase 'plan to go live'",
                 "date 'next Tuesday' resolved against 2026-11-25 (America/Los_Angeles) as 2026-12-01",
                 "'next <weekday>': that weekday of next week (Monday to Sunday)"),
    )
    with pytest.raises(FrozenInstanceError):
        intent.golive_date = None  # type: ignore[misc]


def test_next_weekday_means_that_day_of_next_week_even_when_it_is_tomorrow():
    monday = at(2026, 11, 23)
    assert detect("We go live next Tuesday", received=monday).golive_date == date(2026, 12, 1)
    assert detect("We go live this Tuesday", received=monday).golive_date == date(2026, 11, 24)
    assert detect("We go live on Tuesday", received=monday).golive_date == date(2026, 11, 24)


def test_a_weekday_that_contradicts_the_date_is_noted_and_the_date_kept():
    intent = detect("We plan to go live on Friday, Jan 14 2027.")
    assert intent.golive_date == date(2027, 1, 14)
    assert any("'Friday' does not match 2027-01-14 (Thursday)" in reason for reason in intent.reasons)


# -- intents without a single day -------------------------------------------------------------------

@pytest.mark.parametrize("text, date_text", [
    ("Our go live is planned for Q1", "Q1"),
    ("We're targeting go-live in H2 2027.", "H2 2027"),
    ("We are going live next week", "next week"),
    ("We plan to go live this month.", "this month"),
    ("We plan to go live mid-January.", "mid-January"),
    ("We plan to go live early next month", "early next month"),
    ("We plan to go live late February", "late February"),
    ("We plan to go live in January.", "in January"),
    ("The go-live is planned for March 2027", "for March 2027"),
    ("We plan to go live in a couple of weeks.", "in a couple of weeks"),
    ("We plan to go live in two months", "in two months"),
    ("We plan to cut over the week of Jan 11.", "Jan 11"),
    ("We will cut over over the weekend", "over the weekend"),
])
def test_an_intent_with_no_single_day_has_no_date_and_says_why(text, date_text):
    intent = detect(text)
    assert intent is not None, text
    assert intent.golive_date is None
    assert intent.date_text == date_text
    assert intent.reasons[-1].endswith("is not a day: no cut-over date")


@pytest.mark.parametrize("text", [
    "We plan to go live soon, can you help with the DNS records?",
    "We're going live!",
    "We are ready to launch as soon as SSO works.",
    "Go-live date: TBD",
])
def test_a_plan_without_a_date_is_an_intent_without_a_date(text):
    intent = detect(text)
    assert intent is not None, text
    assert (intent.golive_date, intent.date_text) == (None, None)
    assert intent.reasons[-1] == "no date given"


def test_an_impossible_date_gives_no_day_and_says_so():
    intent = detect("We want to go live on Feb 30.")
    assert intent.golive_date is None and intent.date_text == "Feb 30"
    assert "no day 30" in intent.reasons[-1]


# -- not intents -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Our live site is down.",
    "The go-live went fine, thanks!",
    "We went live yesterday and everything works.",
    "Since go-live last week we see errors in the sync.",
    "The launch was a success.",
    "Live chat is broken.",
    "Live demo tomorrow at 10?",
    "Is it possible to go live without SSO?",
    "When can we go live?",
    "Are we ready to go live?",
    "We don't plan to go live before the audit.",
    "We don’t plan to go live before the audit.",
    "We won't go live until the pen test is done, probably on Jan 14.",
    "We are not planning to launch on Monday.",
    "Not sure we can go live next Tuesday.",
    "There is no go-live date yet.",
    "The go-live is not scheduled before March 2.",
    "We postponed go-live indefinitely.",
    "The go-live on Jan 14 is on hold until further notice.",
    "Go-live cancelled.",
    "We need to postpone the go-live.",
    "We had planned to go live on Jan 14.",
    "The go-live was scheduled for Jan 14.",
    "Post-go-live support starts on Jan 20.",
    "The go-live call is on Monday.",
    "Go-live checklist for Jan 14 attached.",
    "The training before go-live is on Jan 10.",
    "Please launch the installer tomorrow and send us the log.",
    "I will launch the installer tomorrow.",
    "We launched on Monday and it went well.",
    "We switched over last night.",
    "The cable was cut over the weekend.",
    "We are cutting over 20% of the licences.",
    "The deliverables are attached; however, the overview is missing.",
])
def test_these_are_not_go_live_intents(text):
    assert detect(text) is None


def test_a_question_that_names_a_day_is_an_intent():
    intent = detect("Can we go live on Jan 14?")
    assert intent.golive_date == date(2027, 1, 14)
    assert "a question that names a day counts as an intent" in intent.reasons


def test_a_question_with_only_a_vague_time_is_not_an_intent():
    assert detect("Could we go live in Q1?") is None


# -- changed dates, several mentions, the subject ------------------------------------------------

@pytest.mark.parametrize("text", [
    "We're moving the go-live to Feb 2.",
    "We are moving the go-live from Jan 14 to Feb 2.",
    "Go-live moved to 2 February (was 14 January).",
    "The go-live has been pushed back to Feb 2nd.",
    "We had planned to go live on Jan 14 but now we're moving the go-live to Feb 2.",
    "Our go-live is planned for Jan 14. Update: we need to push the go-live to Feb 2.",
    "Go-live: Jan 14.\nCut-over has been rescheduled to Feb 2.",
])
def test_a_changed_date_is_an_intent_with_the_new_date(text):
    intent = detect(text)
    assert intent is not None, text
    assert intent.golive_date == date(2027, 2, 2)
    assert "the go-live is being moved: the new date is used" in intent.reasons


def test_a_day_wins_over_a_vague_time_and_the_first_dated_mention_wins():
    text = "Our go-live is planned for Q1. Concretely, we plan to go live on Jan 14. Cut-over is set for Jan 15."
    assert detect(text).golive_date == date(2027, 1, 14)


@pytest.mark.parametrize("subject, day", [
    ("go-live: 2027-01-14", date(2027, 1, 14)),
    ("Go-live 14/01", date(2027, 1, 14)),
    ("Go live 01/14", date(2027, 1, 14)),
    ("Re: [ACME] Cut-over on Jan 14", date(2027, 1, 14)),
])
def test_the_subject_alone_can_state_the_intent(subject, day):
    intent = detect("Hi, see the subject. Thanks, Kim", subject=subject)
    assert intent.golive_date == day
    assert intent.phrase == subject


def test_the_body_wins_over_a_stale_subject():
    intent = detect("We're moving the go-live to Feb 2.", subject="Re: Go-live 14/01")
    assert intent.golive_date == date(2027, 2, 2)


def test_a_body_that_says_it_already_happened_ignores_the_subject():
    assert detect("The go-live went fine, thanks!", subject="Re: Go-live on Jan 14") is None


def test_a_subject_naming_the_go_live_takes_the_date_from_the_body():
    intent = detect("Hi team,\n\nWe would like to schedule it for 14 January.\n\nKim", subject="Go-live")
    assert intent.golive_date == date(2027, 1, 14)
    assert intent.reasons[0] == "go-live named in the subject 'Go-live'"
    assert intent.phrase == "We would like to schedule it for 14 January."


def test_a_subject_that_merely_names_the_go_live_is_no_intent():
    assert detect("We plan to review it on Monday.", subject="Go-live checklist") is None
    assert detect("Can you check the SSO setup by Monday?", subject="Go-live") is None


# -- numeric dates -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, tz, day, rule", [
    ("Go-live date: 03/04/2027", LA, date(2027, 3, 4), "month/day, ambiguous"),
    ("Go-live date: 03/04/2027", PARIS, date(2027, 4, 3), "day/month, ambiguous"),
    ("Go-live date: 03/04/2027", ZoneInfo("US/Eastern"), date(2027, 3, 4), "month/day, ambiguous"),
    ("Go-live date: 14/01/2027", LA, date(2027, 1, 14), "day/month (14 > 12)"),
    ("Go-live date: 01/14/2027", PARIS, date(2027, 1, 14), "month/day (14 > 12)"),
    ("Go-live date: 14.01.2027", LA, date(2027, 1, 14), "dots: day.month"),
    ("Go-live date: 03.04.27", LA, date(2027, 4, 3), "dots: day.month"),
    ("Go-live date: 3/4", LONDON, date(2027, 4, 3), "day/month, ambiguous"),
])
def test_numeric_dates_follow_the_time_zone_unless_a_part_over_12_decides(text, tz, day, rule):
    intent = detect(text, tz=tz)
    assert intent.golive_date == day
    assert any(rule in reason for reason in intent.reasons)


# -- time: zones, years, leap days, DST, the wall clock ---------------------------------------------

def test_relative_dates_use_the_local_date_of_the_account_time_zone():
    late_evening_in_la = at(2026, 11, 26, hour=3)  # 19:00 on 25 November in Los Angeles
    assert detect("We go live tomorrow.", received=late_evening_in_la, tz=LA).golive_date == date(2026, 11, 26)
    assert detect("We go live tomorrow.", received=late_evening_in_la, tz=PARIS).golive_date == date(2026, 11, 27)
    intent = detect("We go live tomorrow.", received=late_evening_in_la, tz=LA)
    assert "resolved against 2026-11-25 (America/Los_Angeles) as 2026-11-26" in intent.reasons[1]


def test_a_date_without_a_year_is_the_next_one_and_a_very_recent_one_stays_in_its_year():
    assert detect("We plan to go live on January 14.", received=at(2026, 12, 20)).golive_date == date(2027, 1, 14)
    assert detect("We plan to go live on 14 January.", received=at(2027, 1, 14)).golive_date == date(2027, 1, 14)
    recent = detect("Go-live date: Dec 30", received=at(2027, 1, 3))
    assert recent.golive_date == date(2026, 12, 30)
    assert any("4 days before the message (within 14)" in reason for reason in recent.reasons)
    assert detect("Go-live date: Dec 30", received=at(2027, 1, 20)).golive_date == date(2027, 12, 30)
    assert detect("Go-live date: 12/30", received=at(2027, 1, 3)).golive_date == date(2026, 12, 30)


def test_the_3rd_said_after_the_3rd_is_next_month_and_wraps_the_year():
    assert detect("We'd like to launch on the 3rd", received=at(2026, 12, 5)).golive_date == date(2027, 1, 3)


@pytest.mark.parametrize("text, received, day", [
    ("We want to go live on Feb 29.", at(2027, 3, 10), date(2028, 2, 29)),
    ("We want to go live on Feb 29.", at(2028, 2, 20), date(2028, 2, 29)),
    ("We want to go live on 29 February 2028.", at(2027, 3, 10), date(2028, 2, 29)),
    ("We want to go live on Feb 29 2027.", at(2026, 11, 25), None),
    ("We want to go live tomorrow.", at(2028, 2, 28), date(2028, 2, 29)),
    ("We want to go live in a week.", at(2028, 2, 25), date(2028, 3, 3)),
    ("We want to go live at the end of the month.", at(2028, 2, 10), date(2028, 2, 29)),
])
def test_leap_days(text, received, day):
    assert detect(text, received=received).golive_date == day


@pytest.mark.parametrize("received, tz, today", [
    (datetime(2026, 11, 1, 8, 30, tzinfo=UTC), LA, date(2026, 11, 1)),  # 01:30 PDT, before fall-back
    (datetime(2026, 11, 1, 9, 30, tzinfo=UTC), LA, date(2026, 11, 1)),  # 01:30 PST, after it
    (datetime(2027, 3, 14, 10, 30, tzinfo=UTC), LA, date(2027, 3, 14)),  # just after spring-forward
    (datetime(2027, 3, 28, 0, 30, tzinfo=UTC), PARIS, date(2027, 3, 28)),
    (datetime(2027, 3, 27, 23, 30, tzinfo=UTC), LONDON, date(2027, 3, 27)),
])
def test_dst_changes_do_not_move_local_dates(received, tz, today):
    assert detect("We go live tomorrow.", received=received, tz=tz).golive_date == today + timedelta(days=1)
    assert detect("We go live in two weeks.", received=received, tz=tz).golive_date == today + timedelta(days=14)


def test_only_received_at_matters_never_the_wall_clock():
    texts = ["We go live tomorrow.", "We plan to go live on 14 January.", "launch next Tuesday",
             "We'd like to launch on the 3rd", "Go-live date: Dec 30"]
    expected = [detect(text) for text in texts]
    with freeze_time("2031-07-04 12:00:00"):
        assert [detect(text) for text in texts] == expected
    assert expected[0].golive_date == date(2026, 11, 26)


def test_a_naive_received_at_is_refused():
    with pytest.raises(ValueError, match="aware"):
        detect_golive("", "We go live tomorrow.", datetime(2026, 11, 25, 18, 0), LA)


# -- text shape and the pre-filter ------------------------------------------------------------------

def test_wrapped_lines_and_labels_over_two_lines_are_read_as_one_sentence():
    text = ("Hello Sam,\n\nThanks for the session yesterday. After reviewing the runbook with our\n"
            "infrastructure team we plan to go live on Thursday, 14 January, in the\n"
            "evening.\n\nCut-over date:\n14/01/2027\n\nBest,\nKim")
    intent = detect(text)
    assert intent.golive_date == date(2027, 1, 14)
    assert intent.phrase == ("After reviewing the runbook with our infrastructure team we plan to go live on "
                             "Thursday, 14 January, in the evening.")
    label = detect("Hi,\n\nCut-over date:\n14/01/2027\n\nKim")
    assert (label.golive_date, label.phrase) == (date(2027, 1, 14), "Cut-over date: 14/01/2027")


def test_the_phrase_is_trimmed_to_300_characters_around_the_intent():
    long_sentence = "Given " + "the many dependencies on the identity provider and the network team " * 6 + \
        "we plan to go live on 14 January " + "and then extend the rollout to the other regions " * 4 + "."
    intent = detect(long_sentence)
    assert len(intent.phrase) <= 300
    assert "we plan to go live on 14 January" in intent.phrase


@pytest.mark.parametrize("subject, text, expected", [
    ("", "We plan to go live on Monday", True),
    ("Go-Live", "", True),
    ("", "we are GOING LIVE", True),
    ("", "golive next week", True),
    ("", "the cut-over window", True),
    ("", "cutover", True),
    ("", "switching over to SSO", True),
    ("", "the launch plan", True),
    ("", "we move to production soon", True),
    ("", "we went live", True),  # broad on purpose: the full analysis decides
    ("", "Our live site is down and delivery is slow; however, the overview is fine.", False),
    ("Live chat broken", "Live demo tomorrow. Lives matter. Go to the portal.", False),
    ("", "", False),
])
def test_the_prefilter_is_cheap_and_broad(subject, text, expected):
    assert mentions_golive(subject, text) is expected


def test_a_long_message_without_go_live_words_is_no_intent():
    text = ("Could you confirm whether the SCIM endpoint needs the token rotated every 90 days, "
            "and whether group sync runs hourly? We plan to review it on Monday.\n\n") * 20
    assert not mentions_golive("SSO question", text)
    assert detect(text, subject="SSO question") is None
