"""Reading the 0-10 score of a survey answer: the customer's own number, never a date, a time, a
phone number, quoted text or a choice between two numbers."""
from __future__ import annotations

import pytest

from ticketing.core.survey_reply import read_score

QUOTED = ("\n\nOn Thu, 18 Feb 2027 at 10:05, Northwind Support <support@northwind.example> wrote:\n"
          "> How likely are you to recommend us to a colleague? Reply with a number from 0 to 10.\n"
          "> Priya Raman reads every answer.\n")
OUTLOOK = ("\n\n________________________________\nFrom: Northwind Support <support@northwind.example>\n"
           "Sent: Thursday, February 18, 2027 10:05 AM\nTo: Jane Doe <jane@acme.example>\n"
           "Subject: One question about your onboarding\n\nHow likely are you to recommend us to a colleague? "
           "Reply with a number from 0 to 10.\n")
SIGNATURE = "\n\nBest regards,\nJane Doe\nProject lead, Acme Corporation\n+1 (212) 555-0100 | 350 5th Ave, Suite 10\n"


@pytest.mark.parametrize("text, score, comment", [
    ("9", 9, ""),
    ("9/10", 9, ""),
    ("9 out of 10", 9, ""),
    ("I'd give you an 8.", 8, "I'd give you an 8."),
    ("Score: 10 - great team", 10, "great team"),
    ("10/10 would recommend!", 10, "would recommend!"),
    ("0 - nothing worked", 0, "nothing worked"),
    ("Rating: 7, slow start but a good finish", 7, "slow start but a good finish"),
    ("8" + QUOTED, 8, ""),
    ("9 - the admin training was excellent." + OUTLOOK, 9, "the admin training was excellent."),
    ("Hi Priya,\n\n9, thanks for everything." + SIGNATURE, 9, "Hi Priya,\n\nthanks for everything."),
    ("We went live on 10 May and it took 3 weeks longer than planned, but I would rate you 8", 8,
     "We went live on 10 May and it took 3 weeks longer than planned, but I would rate you 8"),
    ("A solid 9 from me.\nThe training (4 h) was long though." + QUOTED, 9,
     "A solid 9 from me.\nThe training (4 h) was long though."),
    ("> 3\nTen out of ten? No: 6" + QUOTED, 6, "Ten out of ten? No: 6"),
])
def test_a_score_is_read_with_the_rest_kept_as_the_comment(text, score, comment):
    found = read_score(text)
    assert found is not None and (found.score, found.comment) == (score, comment)


@pytest.mark.parametrize("text", [
    "I'd say 7 or 8",  # two answers: we do not choose for the customer
    "7-8",
    "11",
    "12/10",
    "Can we meet on 9/10/2027 at 10:30 instead?",
    "Call me at 3pm tomorrow",
    "Please call +44 20 7946 0958",
    "Our go-live moved to 14 January",
    "95% happy",
    "9.5",
    "Thanks for the survey!" + SIGNATURE,  # numbers only in the signature
    "Thanks, will answer after our internal review." + QUOTED,  # the scale only in the quoted question
    "Great job\n--\nJane\nSuite 5, 10 Downing Street",
    "",
])
def test_no_score_is_read_from_dates_times_phone_numbers_quotes_or_two_numbers(text):
    assert read_score(text) is None
