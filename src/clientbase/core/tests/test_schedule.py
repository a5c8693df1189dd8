from datetime import UTC, datetime, timedelta

from clientbase.core import schedule
from clientbase.core.models import ScheduledJob


def test_a_due_job_runs_once_per_interval_whoever_asks() -> None:
    calls: list[int] = []
    schedule.register("test.job", every=timedelta(minutes=10), func=lambda: calls.append(1))
    failing: list[int] = []

    def broken() -> None:
        failing.append(1)
        raise RuntimeError("boom")

    schedule.register("test.broken", every=timedelta(minutes=10), func=broken)
    start = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    names = {"test.job", "test.broken"}
    try:
        first = schedule.run_due(at=start, only=names)
        assert first["test.job"] == "ok" and first["test.broken"] == "RuntimeError: boom"
        assert "test.job" not in schedule.run_due(at=start + timedelta(minutes=5), only=names)  # a second worker, too early
        assert schedule.run_due(at=start + timedelta(minutes=10), only=names)["test.job"] == "ok"
        assert calls == [1, 1] and failing == [1, 1]
        assert ScheduledJob.objects.get(name="test.broken").last_error == "RuntimeError: boom"
        assert ScheduledJob.objects.get(name="test.job").last_error == ""
    finally:
        schedule._jobs.pop("test.job")
        schedule._jobs.pop("test.broken")


def test_the_domains_register_their_periodic_jobs() -> None:
    assert {"segments.refresh_due", "loyalty.daily", "analytics.score_customers"} <= {j.name for j in schedule.jobs()}


def test_the_periodic_jobs_run_on_an_empty_business() -> None:
    names = {"segments.refresh_due", "loyalty.daily", "analytics.score_customers"}
    assert schedule.run_due(at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC), only=names) == dict.fromkeys(names, "ok")
