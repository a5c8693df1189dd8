"""The triggers a new installation starts with (also seeded by migration 0002, which keeps its own copy
because migrations must not import app code). Only the negative-review alert is on by default."""

from typing import Any

# kind, name, config, template key, task kind, enabled
DEFAULT_TRIGGERS: list[tuple[str, str, dict[str, Any], str, str, bool]] = [
    ("birthday", "Birthday greeting with a coupon", {"days_before": 3, "coupon_percent": 15, "coupon_days": 14},
     "birthday", "congratulate", False),
    ("holiday", "Holiday greeting", {"days_before": 0}, "holiday", "", False),
    ("next_purchase", "Reminder before the predicted next purchase", {"days_before": 3}, "next_purchase", "", False),
    ("product_arrival", "A product they like has arrived", {}, "product_arrival", "", False),
    ("churn_risk", "Probability active below 30%", {"threshold": 0.3, "min_repeat_days": 1}, "", "call", False),
    ("negative_review", "Negative review: call the customer", {}, "", "call", True),
    ("no_contact", "No contact for 90 days", {"days": 90}, "", "call", False),
    ("points_expiring", "Points expire within 7 days", {"days": 7}, "points_expiring", "", False),
]

HOLIDAYS: list[tuple[int, int, str, str]] = [
    (1, 1, "Новый год", ""), (1, 7, "Рождество", ""), (2, 23, "День защитника Отечества", "male"),
    (3, 8, "Международный женский день", "female"), (5, 1, "Праздник весны и труда", ""),
    (5, 9, "День Победы", ""), (6, 12, "День России", ""), (9, 1, "День знаний", ""),
    (11, 4, "День народного единства", ""), (12, 31, "Новогодний вечер", ""),
]


def ensure_defaults() -> None:
    """Create the default triggers and holidays if the database has none (tests skip migrations)."""
    from clientbase.engagement.models import Holiday, Trigger

    for month, day, name, audience in HOLIDAYS:
        Holiday.objects.get_or_create(month=month, day=day, name=name, defaults={"audience": audience})
    if not Trigger.objects.exists():
        for kind, name, config, template_key, task_kind, enabled in DEFAULT_TRIGGERS:
            Trigger.objects.create(kind=kind, name=name, config=config, template_key=template_key,
                                   task_kind=task_kind, enabled=enabled)
