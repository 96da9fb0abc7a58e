"""A representative context for each template pair: the names and shapes of the values the code
hands it, with one item in every list so that each loop runs. ``whiteglove config check`` renders an
operator's overrides with these before any customer gets one; ``tests/unit/test_templates.py``
keeps them complete for the shipped templates.
"""
from __future__ import annotations

SUPPORT = {"name": "Northwind Support", "address": "support@northwind.example"}
TICKET = {
    "id": 42, "tag": "[WG-42]", "subject": "SSO login loops", "priority": "P2", "status": "open",
    "kind_label": "support request", "review": False, "golive_date": "2026-12-01", "golive_text": "go live on 1 December",
    "sla": "first response due Wed 18 Nov 2026, 18:00 UTC (enterprise)",
}
ATTACHMENT = {"filename": "trace.har", "content_type": "application/json", "size": 48213}
TEXT = "Since this morning every login ends back on the sign-in page.\n\nJane"
MEETING = {"when": "Tue 1 Dec 10:00", "account": "Globex", "title": "Kick-off: Globex", "engineer": "Priya Raman",
           "cells": ("Globex", "Tue 1 Dec 10:00", "Kick-off: Globex", "Priya Raman")}
ENGAGEMENT = {"account": "Globex", "engineer": "Priya Raman", "playbook": "enterprise", "golive": "Tue 1 Dec (in 8 days)",
              "over": "day 32 of 30 (2 over)", "golive_cells": ("Globex", "Tue 1 Dec (in 8 days)", "Priya Raman", "enterprise"),
              "over_cells": ("Globex", "day 32 of 30 (2 over)", "Priya Raman", "enterprise")}
LATE = {"id": 42, "subject": "SSO login loops", "customer": "Globex", "engineer": "Priya Raman", "priority": "P1",
        "clock": "First response", "late": "1 h 30 min", "at": "Wed 18 Nov 09:00", "due": "Wed 18 Nov 09:00",
        "why": "9 h 30 min on us-pacific business hours, target 8 h"}

SAMPLES: dict[str, dict] = {
    "acknowledgement": {"support": SUPPORT, "ticket": TICKET, "customer_name": "Jane Doe", "engineer": "Priya Raman",
                        "oncall": True},
    "too_large": {"support": SUPPORT, "customer_name": "Jane Doe", "subject": "Logs from every node",
                  "size": 41_943_040, "limit": 26_214_400},
    "notification": {
        "support": SUPPORT, "marker": "-- Reply above this line --", "internal": False, "headline": "New ticket [WG-42]",
        "ticket": TICKET, "customer": "Jane Doe <jane@globex.example>", "text": TEXT, "attachments": [ATTACHMENT],
        "account": "Globex", "assignment": "Priya Raman (account engineer)", "reasons": ["a new question"],
        "refers_to": "[WG-41]", "left_out": ["node-21.log", "node-22.log"],
        "plan": {"planned": ["Kick-off: Globex: Tue 1 Dec 2026, 16:00-16:30 CET (10:00-10:30 EST for the customer)"],
                 "unplaced": ["Pre-launch review: Globex: waiting for the go-live date"], "zone": "Berlin time (CET)",
                 "warnings": ["Pre-launch review: Globex: the go-live is too close for its window"]},
    },
    "update": {
        "support": SUPPORT, "marker": "-- Reply above this line --", "headline": "Jane Doe wrote on [WG-42]",
        "ticket": TICKET, "customer": "Jane Doe <jane@globex.example>", "text": TEXT, "attachments": [ATTACHMENT],
        "golive": "2026-12-01", "left_out": [],
    },
    "relay": {"support": SUPPORT, "ticket": TICKET, "text": TEXT, "html": None, "engineer": "Priya Raman"},
    "commands": {
        "support": SUPPORT, "ticket": TICKET, "headline": "Commands on [WG-42]", "results": ["resolved"],
        "problems": ["#priority P9: no such priority"], "help": ["#resolve: resolve the ticket"], "relayed": True,
    },
    "bounce": {
        "support": SUPPORT, "headline": "Mail to jane@globex.example could not be delivered",
        "recipients": ["jane@globex.example"], "reason": "550 5.1.1 no such user", "permanent": True, "tickets": [TICKET],
    },
    "loop_alert": {
        "support": SUPPORT, "marker": "-- Reply above this line --", "headline": "Mail loop on [WG-42]: answers stopped for the hour", "ticket": TICKET,
        "limit": "thread", "count": 10, "correspondent": None, "purpose": "relay", "recipients": ["jane@globex.example"],
        "subject": "Re: SSO login loops [WG-42]", "excerpt": "Thanks, we have your message.",
        "until": "Wed 18 Nov 2026, 17:00 UTC",
    },
    "unverified": {
        "support": SUPPORT, "headline": "A message from your address was not acted on", "sender": "priya@northwind.example",
        "subject": "Re: [WG-42] SSO login loops", "why": "no Authentication-Results from mx.northwind.example",
        "notice": False, "commands": ["#resolve"], "domain": "northwind.example", "review": TICKET, "refers_to": TICKET,
    },
    "connection": {
        "support": SUPPORT, "headline": "The support mailbox has failed for 30 min", "component": "mailbox",
        "what": "support mailbox", "error": "LOGIN failed", "failing_since": "Wed 18 Nov 2026, 08:00 PST",
        "since": "Wed 18 Nov 2026, 08:30 PST", "duration": "30 min", "recovered": False,
    },
    "invite": {
        "support": SUPPORT, "title": "Kick-off: Globex", "when": "Tue 1 Dec 2026, 10:00-10:30 EST",
        "attendees": ["Priya Raman", "Jane Doe"], "description": "We agree the plan.", "engineer_name": "Priya Raman",
        "updated": False, "cancelled": False, "reason": None,
        "next_step": "It will be planned again once the go-live date is set, and you will get a new invitation.",
    },
    "welcome": {
        "support": SUPPORT, "account": "Globex", "customer_name": "Jane Doe", "engineer_name": "Priya Raman",
        "engineer_email": "priya@northwind.example", "sales_rep_name": "Dana Whitfield",
        "playbook_title": "Three-phase enterprise onboarding",
        "meetings": [{"title": "Kick-off: Globex", "start_local": "Tue 1 Dec 2026, 10:00-10:30 EST",
                      "attendees": ["Priya Raman", "Jane Doe"]}],
        "unplanned": ["Hand-off: Globex resources and workflow"], "golive_waiting": ["Go-live debrief: Globex"],
        "tasks": [{"name": "Your application live on the staging environment", "owner": "Marcus Lee", "due": "Fri 18 Dec 2026"},
                  {"name": "Production CDN configured, mirroring staging", "owner": "us",
                   "due": "once your go-live date is known"}],
        "greeting": "Jane Doe, Marcus Lee and Helen Park", "customer_zone": "New York time (EST)",
        "project_lead": {"name": "Jane Doe", "email": "jane@globex.example", "role": "project lead"},
        "our_project_manager": {"name": "Sam Carter", "email": "sam@northwind.example"},
        "support_hours": ["Monday to Friday, 08:00-17:00 Los Angeles time (PST); 11:00-20:00 New York time (EST) for you"],
        "sla": ["urgent (P1): an answer within 2 hours and a resolution within 8 hours, round the clock"],
        "escalation": {"name": "Dana Whitfield", "email": "dana@northwind.example"},
    },
    "planning": {
        "support": SUPPORT, "headline": "Onboarding of Globex planned", "engagement_id": 7, "account": "Globex",
        "playbook_title": "Three-phase enterprise onboarding", "changes": ["Kick-off: Tue 1 Dec 10:00"],
        "warnings": ["no go-live date yet"], "unplaced": ["Hand-off: no free time in its window"], "ask_golive": True,
        "ask": "Reply #live to record the go-live on 2027-03-04, or #live DATE for another day.",
    },
    "calendar_answer": {
        "support": SUPPORT, "headline": "Jane Doe proposed a new time", "title": "Kick-off: Globex",
        "when": "Tue 1 Dec 2026, 10:00-10:30 EST", "attendee": "Jane Doe <jane@globex.example>", "answer": "COUNTER",
        "proposed": "Wed 2 Dec 2026, 10:00-10:30 EST", "comment": "Tuesday is a holiday here", "engagement_id": 7,
        "account": "Globex",
    },
    "sla": {
        "support": SUPPORT, "headline": "[WG-42] first response: 80% of the target used",
        "ticket": {"id": 42, "tag": "[WG-42]", "subject": "SSO login loops", "priority": "P1", "status": "open",
                   "assignee": "priya@northwind.example", "requester": "jane@globex.example"},
        "clock": "First response", "kind": "warn", "target": "2 h", "target_clock": "24x7", "used": "1 h 36 min",
        "remaining": "24 min", "overrun": None, "due": "2026-11-18 18:00 UTC", "explanation": ["1 h 36 min on 24x7"],
    },
    "task_reminder": {
        "support": SUPPORT, "internal": False, "marker": "-- Reply above this line --", "greeting": "Marcus Lee",
        "account": "Globex", "engineer_name": "Priya Raman", "reminded": [[3, "2026-12-18"]],
        "tasks": [{"key": "staging-live", "name": "Your application live on the staging environment",
                   "owner": "Marcus Lee", "due": "Fri 18 Dec 2026", "blocked": "waiting for the VPN"}],
    },
    "task_overdue": {
        "support": SUPPORT, "marker": "-- Reply above this line --", "account": "Globex", "engagement_id": 7,
        "reminded": [[3, "2026-12-18"]],
        "tasks": [{"key": "staging-live", "name": "Your application live on the staging environment",
                   "owner": "customer:it: Marcus Lee", "due": "Fri 18 Dec 2026", "late": "2 business days",
                   "blocked": "waiting for the VPN"}],
    },
    "task_done": {
        "support": SUPPORT, "marker": "-- Reply above this line --", "account": "Globex", "engagement_id": 7,
        "customer": "Marcus Lee <marcus@globex.example>", "text": "Done, it is live.",
        "tasks": [{"key": "staging-live", "name": "Your application live on the staging environment", "due": "Fri 18 Dec 2026"}],
    },
    "checkpoint": {
        "support": SUPPORT, "greeting": "Jane Doe and Marcus Lee", "account": "Globex", "engineer_name": "Priya Raman",
        "done_count": 1, "task_count": 4, "customer_zone": "New York time (EST)",
        "done_this_week": [{"name": "Access to your Jira and Confluence", "owner": "Marcus Lee", "due": "Tue 1 Dec 2026"}],
        "next_up": [{"name": "Your application live on the staging environment", "owner": "Marcus Lee",
                     "due": "Fri 18 Dec 2026", "late": False, "blocked": "waiting for the VPN"}],
        "meetings": [{"title": "Weekly check point: Globex", "when": "Tue 8 Dec 2026, 10:00-10:30 EST"}],
    },
    "weekly": {  # the weekly summary's own context (ticketing.core.report_mail), without "support"
        "label": "2026-W47", "period": "16–22 November 2026", "timezone": "America/Los_Angeles", "zone": "Los Angeles time (PST)",
        "manager_name": "Dana Whitfield", "manager_email": "dana@northwind.example", "team": "Priya Raman and Tom Becker",
        "lead": "1 target missed this week and no open ticket past its target.",
        "glance": [{"label": "Tickets opened", "value": "4", "big": "4", "detail": "tickets", "before": "3",
                    "change": "+1", "tone": "neutral"}],
        "breaches": [LATE], "overdue": [LATE],
        "chart": [{"name": "Priya Raman", "bars": [
            {"label": "First response", "width": 75, "value": "75% (3 of 4)", "colour": "#0969da"},
            {"label": "Resolution", "width": None, "value": "n/a", "colour": "#8250df"}]}],
        "priorities": [{"priority": "P1", "first_response": "75% (3 of 4)", "resolution": "n/a"}],
        "times": [{"clock": "First response", "count": 4, "median": "40 min", "p90": "2 h 10 min"}],
        "meetings_held": [MEETING], "meetings_next": [MEETING], "golives": [ENGAGEMENT], "overruns": [ENGAGEMENT],
        "portfolio": {
            "summary": "1 engagement: 1 at risk", "golive_days": 30,
            "rows": [{"account": "Acme", "health": "at risk", "colour": "#bc4c00", "why": "1 task overdue (customer:it)",
                      "closed": "", "engineer": "Priya Raman", "playbook": "enterprise-onboarding"}],
            "golives": [{"when": "Thu 3 Dec (in 10 days)", "account": "Acme", "engineer": "Priya Raman",
                         "health": "at risk", "colour": "#bc4c00"}],
            "owners": [{"owner": "Marcus Lee (Acme)", "count": 1, "tasks": [
                {"account": "Acme", "name": "Staging live", "due": "Thu 19 Nov", "late": "4 days overdue"}]}],
        },
        "generated": "Mon 23 Nov 11:00",
    },
    "survey": {"support": SUPPORT, "account": "Globex", "greeting": "Jane Doe and Marcus Lee",
               "question": "How likely are you to recommend us to a colleague? Reply with a number from 0 to 10.",
               "engineer_name": "Priya Raman"},
    "survey_answer": {"support": SUPPORT, "marker": "-- Reply above this line --",
                      "headline": "Jane Doe <jane@globex.example> answered the survey: 9/10", "ticket": TICKET,
                      "account": "Globex", "customer": "Jane Doe <jane@globex.example>", "score": 9,
                      "comment": "great team"},
    "engagement_summary": {
        "support": SUPPORT, "account": "Globex", "engagement_id": 7, "playbook_title": "White-glove enterprise onboarding",
        "engineer_name": "Priya Raman", "verdict": "late",
        "reasons": ["went live 2027-01-18, 4 days after the planned 2027-01-14"],
        "dates": [("Started", "Tue 17 Nov 2026"), ("Planned end", "Tue 16 Feb 2027"), ("Closed", "Fri 12 Feb 2027"),
                  ("Length", "60 business days of 60 planned (within plan)"), ("Go-live planned", "Thu 14 Jan 2027"),
                  ("Went live", "Mon 18 Jan 2027 (4 days late)")],
        "meetings": {"held": 1, "total": 3, "cancelled": 1,
                     "held_lines": ["Kickoff: Globex: Thu 19 Nov 2026, 10:00 PST"], "not_held": ["Daily check-in #5: Globex"],
                     "cancelled_lines": ["Executive briefing: Globex: cancelled by Priya Raman"]},
        "tasks": {"on_time": "83% (5/6)", "target": "80%", "overdue": 0, "blocked": 0,
                  "late": ["UAT sign-off: due Fri 4 Dec 2026, done Tue 8 Dec 2026"],
                  "open": ["Usage report (open, due Fri 12 Feb 2027)"]},
        "tickets": [{"tag": "[WG-42]", "subject": "SSO login loops", "priority": "P2", "status": "resolved",
                     "first_response": "met", "resolution": "breached"}],
        "sla_breaches": 1, "survey": [{"who": "jane@globex.example", "score": 9, "comment": "great team"}],
        "survey_count": 1, "average": "9.0",
    },
    "customer_summary": {
        "support": SUPPORT, "account": "Globex", "engineer_name": "Priya Raman", "greeting": "Jane Doe and Marcus Lee",
        "meetings": ["Kick-off: Globex: Thu 19 Nov 2026, 13:00 EST"], "tasks": ["Project summary delivered"],
        "golive": "Mon 18 Jan 2027",
        "support_hours": ["Monday to Friday, 08:00-17:00 Los Angeles time (PST); 11:00-20:00 New York time (EST) for you"],
    },
}
