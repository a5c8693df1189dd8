"""Scheduled refresh: run by the worker (django.tasks, database backend)."""

from django.tasks import task


@task()
def refresh_due_segments() -> list[tuple[str, int, int]]:
    """Refresh the segments whose ``refresh_every_minutes`` has passed since their last refresh."""
    from clientbase.segments.services import refresh_due

    return refresh_due()
