"""Triggers (R7.1): set-based evaluation over all customers, idempotent per (trigger, customer, occasion)."""

from datetime import datetime, timedelta


def run_due_triggers(*, interval: timedelta, at: datetime) -> int:
    """Evaluate every enabled trigger not evaluated within ``interval``; returns how many occasions fired."""
    return 0
