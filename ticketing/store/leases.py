"""Leases: work that one worker of several does at a time, and jobs that run once per due time.

A lease is a row (schema 13) naming its holder (a worker's ``host:pid:start``) and when it runs
out; the holder renews it, and anyone may take it once it has run out. A job's row also keeps when
it last ran, so that of several workers whose timetables are not in step only the first to find it
due runs it. On PostgreSQL a job also holds a session advisory lock while it runs: a second worker
(a ``run --once`` beside the service, say) skips a job that is running, rather than run it beside
it. SQLite has one writer at a time; its transactions begin IMMEDIATE, which serialises the rows.
The planner's lock per engineer is here too (:meth:`LeasesMixin.lock_engineer`).
"""
from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from typing import Callable

import peewee as pw

#: The first key of PostgreSQL's two-key advisory locks whiteglove takes: a job's, an engineer's.
_JOB_LOCKS = 0x5768
_ENGINEER_LOCKS = 0x5769


def _key(name: str) -> int:
    """A stable 32-bit signed key for ``name`` (the same in every process, unlike ``hash``)."""
    value = zlib.crc32(name.encode("utf-8"))
    return value - 2**32 if value >= 2**31 else value


class LeasesMixin:
    db: pw.Database

    def hold_lease(self, name: str, holder: str, now: datetime, seconds: float,
                   is_dead: Callable[[str], bool] | None = None) -> str | None:
        """Take or renew the lease ``name`` for ``holder`` until ``now + seconds``.

        Returns None when ``holder`` has it now, else the worker that holds it. A lease that has
        run out, or whose holder ``is_dead`` says is gone, is taken.
        """
        m = self.m
        with self.transaction():
            m.Lease.insert(name=name, holder="", expires_at=None).on_conflict_ignore().execute()
            query = m.Lease.select().where(m.Lease.name == name)
            if isinstance(self.db, pw.PostgresqlDatabase):
                query = query.for_update()
            row = query.first()
            other = row.holder
            if other and other != holder and row.expires_at is not None and row.expires_at > now \
                    and not (is_dead is not None and is_dead(other)):
                return other
            m.Lease.update(holder=holder, expires_at=now + timedelta(seconds=seconds)).where(
                m.Lease.name == name).execute()
            return None

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease ``name`` back, if ``holder`` has it (a worker stopping cleanly)."""
        m = self.m
        m.Lease.update(holder="", expires_at=None).where((m.Lease.name == name) & (m.Lease.holder == holder)).execute()

    def lease_holder(self, name: str, now: datetime) -> str | None:
        """Who holds the lease ``name`` at ``now``; None when nobody does."""
        m = self.m
        row = m.Lease.get_or_none(m.Lease.name == name)
        if row is None or not row.holder or row.expires_at is None or row.expires_at <= now:
            return None
        return row.holder

    def claim_run(self, name: str, holder: str, now: datetime, since: datetime) -> bool:
        """Record that ``holder`` runs the job ``name`` at ``now``, unless another worker ran it after
        ``since``; return whether ``holder`` is to run it. One statement: of two workers claiming at
        once, one wins."""
        m = self.m
        m.Lease.insert(name=name, holder="", ran_at=None).on_conflict_ignore().execute()
        claimed = m.Lease.update(ran_at=now, holder=holder).where(
            (m.Lease.name == name)
            & (m.Lease.ran_at.is_null() | (m.Lease.ran_at <= since) | (m.Lease.holder == holder))).execute()
        return claimed > 0

    def try_job_lock(self, name: str) -> bool:
        """On PostgreSQL, take the session advisory lock of the job ``name`` if nobody holds it;
        return whether it was taken (always True on SQLite). Give it back with :meth:`job_unlock`."""
        if not isinstance(self.db, pw.PostgresqlDatabase):
            return True
        return bool(self.db.execute_sql("SELECT pg_try_advisory_lock(%s, %s)", (_JOB_LOCKS, _key(name))).fetchone()[0])

    def job_unlock(self, name: str) -> None:
        if isinstance(self.db, pw.PostgresqlDatabase):
            self.db.execute_sql("SELECT pg_advisory_unlock(%s, %s)", (_JOB_LOCKS, _key(name)))

    def lock_engineer(self, engineer: str) -> None:
        """Inside a transaction, serialise planning of ``engineer``'s meetings across workers until
        it ends: the second planner waits, then reads the first one's meetings as busy. (SQLite: one
        writer at a time already.)"""
        if isinstance(self.db, pw.PostgresqlDatabase) and engineer:
            self.db.execute_sql("SELECT pg_advisory_xact_lock(%s, %s)", (_ENGINEER_LOCKS, _key(engineer.lower())))
