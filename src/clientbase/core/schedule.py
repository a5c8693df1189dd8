"""Periodic jobs the worker runs: the database is the scheduler (no cron, no beat process).

A domain registers ``register("segments.refresh", every=timedelta(minutes=1), func)`` in its
``apps.py`` ``ready()``. ``run_due()`` (called by every ``clientbase worker`` pass) claims each job
whose interval has passed with one conditional UPDATE on its ``ScheduledJob`` row, so with several
workers running each due job runs once per interval, and a crashed run is simply retried at the
next interval (jobs are idempotent: expiry, refresh and scoring recompute from the data).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from clientbase.core.clock import now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    func: Callable[[], Any]


_jobs: dict[str, Job] = {}


def register(name: str, *, every: timedelta, func: Callable[[], Any]) -> None:
    _jobs[name] = Job(name, every, func)


def jobs() -> list[Job]:
    return sorted(_jobs.values(), key=lambda j: j.name)


def claim(job: Job, at: datetime) -> bool:
    """True if this caller won the right to run ``job`` now (its interval has passed)."""
    from clientbase.core.models import ScheduledJob

    try:
        with transaction.atomic():
            ScheduledJob.objects.get_or_create(name=job.name)
    except IntegrityError:
        pass  # another worker created it at the same moment
    due = Q(last_started_at__isnull=True) | Q(last_started_at__lte=at - job.every)
    return bool(ScheduledJob.objects.filter(due, name=job.name).update(last_started_at=at))


def run_due(*, at: datetime | None = None, only: set[str] | None = None) -> dict[str, str]:
    """Run every registered job that is due (or those named in ``only``); return name -> "ok" or the error."""
    from clientbase.core.models import ScheduledJob

    moment = at or now()
    results: dict[str, str] = {}
    for job in jobs():
        if only is not None and job.name not in only:
            continue
        if not claim(job, moment):
            continue
        try:
            job.func()
            results[job.name] = "ok"
            ScheduledJob.objects.filter(name=job.name).update(last_finished_at=now(), last_error="")
        except Exception as exc:  # a failing job must not stop the others or the send queue
            log.exception("scheduled job %s failed", job.name)
            results[job.name] = f"{type(exc).__name__}: {exc}"
            ScheduledJob.objects.filter(name=job.name).update(last_error=results[job.name][:500])
    return results
