from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "clientbase.analytics"
    label = "analytics"

    def ready(self) -> None:
        # The Django models live in scores.py because ``analytics.models`` is the numpy models package.
        import os
        from datetime import timedelta

        from clientbase.analytics import scores  # noqa: F401
        from clientbase.analytics.services import run_scoring
        from clientbase.core import schedule

        # `clientbase worker` scores everyone on this interval (core.schedule); a one-off run can still be
        # queued for django-tasks-db's worker with `clientbase analytics schedule`.
        every = timedelta(hours=float(os.environ.get("CLIENTBASE_ANALYTICS_EVERY_HOURS", "24")))
        schedule.register("analytics.score_customers", every=every, func=run_scoring)
