from datetime import timedelta

from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "clientbase.segments"
    label = "segments"

    def ready(self) -> None:
        from clientbase.core import schedule
        from clientbase.segments.services import refresh_due

        # Each segment has its own interval; checking every minute is what makes those intervals exact.
        schedule.register("segments.refresh_due", every=timedelta(minutes=1), func=refresh_due)
