"""The shared kernel's only table: when each periodic job last ran (see core/schedule.py)."""

from django.db import models


class ScheduledJob(models.Model):
    name = models.CharField(max_length=100, unique=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name
