"""Reading a playbook's ``checkpoint_mail``: whether the customer gets a check-point by mail.

::

    checkpoint_mail = "weekly"   # optional: a mail on the customer's first business day of each week
                                 # (what is done, what is due next, the meetings ahead)

Left out, there is none. :mod:`ticketing.services.checkpoints` sends it.
"""
from __future__ import annotations

from ticketing.core.playbooks import CHECKPOINT_MAILS
from ticketing.files.playbook_fields import Key, Report

KEY = Key("str", False, '"weekly"')


def read_checkpoint(value: str | None, report: Report) -> str | None:
    """The playbook's check-point mail (``"weekly"``), or None; an unknown value is reported."""
    if value is None:
        return None
    if value not in CHECKPOINT_MAILS:
        report("checkpoint_mail", f"unknown check-point mail {value!r}",
               f"use {' or '.join(repr(v) for v in CHECKPOINT_MAILS)}, or leave it out for none")
        return None
    return value
