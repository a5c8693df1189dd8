import datetime as dt

import pytest
from django_tasks_db.models import DBTaskResult

from clientbase.analytics.scores import CustomerScore
from clientbase.analytics.tasks import TASK_PATH, schedule_next, score_customers
from clientbase.analytics.tests.builders import make_business


def test_schedule_queues_one_run_only() -> None:
    assert schedule_next() is True
    assert schedule_next() is False
    assert DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").count() == 1


def test_the_task_scores_and_queues_the_next_run_a_day_later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIENTBASE_ANALYTICS_PARETO", "0")
    make_business(customers=6)
    result = score_customers.call(reschedule=True)
    assert result["customers"] == 6 == CustomerScore.objects.count()
    queued = DBTaskResult.objects.get(task_path=TASK_PATH, status="READY")
    assert queued.run_after > queued.enqueued_at + dt.timedelta(hours=23)
