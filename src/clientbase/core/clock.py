"""One place that says what time it is, so tests and the demo generator can move it."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """Current time, aware, in UTC."""
    return timezone.now()
