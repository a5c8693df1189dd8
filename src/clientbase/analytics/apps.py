from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "clientbase.analytics"
    label = "analytics"

    def ready(self) -> None:
        # The Django models live in scores.py because ``analytics.models`` is the numpy models package.
        from clientbase.analytics import scores  # noqa: F401
