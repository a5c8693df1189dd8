"""Background jobs: the nightly scoring run, executed by the django-tasks-db worker.

Run a worker with ``clientbase manage db_worker`` (django-tasks-db's command; ``--batch`` drains the queue and
exits, handy from cron). ``clientbase analytics schedule`` enqueues the first run; each run enqueues the next one
``CLIENTBASE_ANALYTICS_EVERY_HOURS`` (default 24) later, unless one is already waiting.
"""

import datetime as dt
import os
from typing import Any

from django.tasks import task

from clientbase.core.clock import now

TASK_PATH = "clientbase.analytics.tasks.score_customers"


def next_run_at() -> dt.datetime:
    return now() + dt.timedelta(hours=float(os.environ.get("CLIENTBASE_ANALYTICS_EVERY_HOURS", "24")))


def schedule_next(run_after: dt.datetime | None = None) -> bool:
    """Enqueue a scoring run unless one is already waiting; returns whether one was enqueued."""
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").exists():
        return False
    task_ = score_customers.using(run_after=run_after) if run_after else score_customers
    task_.enqueue(reschedule=True)
    return True


@task()
def score_customers(reschedule: bool = False) -> dict[str, Any]:
    """Fit the models and store everyone's scores; with ``reschedule`` the next run is queued afterwards."""
    from clientbase.analytics.services import run_scoring

    run = run_scoring()
    if reschedule:
        schedule_next(next_run_at())
    return {"version": run.version, "customers": run.customers, "status": run.status}
