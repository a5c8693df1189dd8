"""One pass of the worker: other domains' periodic jobs (``core.schedule``) and the triggers that are
due, then one batch of the send queue."""

from datetime import timedelta

from clientbase.core.clock import now
from clientbase.engagement import outbox

# Triggers are daily by nature and idempotent per occasion; evaluating them hourly is plenty.
TRIGGER_INTERVAL = timedelta(hours=1)


def run_worker(name: str, *, batch: int = 50, triggers: bool = True) -> dict[str, int]:
    summary: dict[str, int] = {}
    if triggers:
        from clientbase.core import schedule
        from clientbase.engagement.triggers import run_due_triggers

        # Jobs run first (loyalty's expiry warnings, analytics' scores) so triggers see fresh data.
        summary["jobs"] = len(schedule.run_due(at=now()))
        summary["fired"] = run_due_triggers(interval=TRIGGER_INTERVAL, at=now())
    counts = outbox.run_once(name, limit=batch)
    summary.update(counts)
    summary["claimed"] = sum(counts.values())
    return summary
