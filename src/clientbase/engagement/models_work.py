"""Staff tasks (R7.4), triggers (R7.1), the holiday calendar, campaigns (R5.6) and churn reasons (R7.5)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskKind(models.TextChoices):
    CALL = "call", _("Call")
    CONGRATULATE = "congratulate", _("Congratulate")
    GIFT = "gift", _("Give a gift")
    MEETING = "meeting", _("Meeting")
    NEGOTIATION = "negotiation", _("Negotiation")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
    # A trigger's task for an occasion the survivor of a merge had its own task for (``engagement.merging``).
    MERGED = "merged", _("Duplicate after a merge")


class Task(models.Model):
    """Something a person on the staff must do for a customer, by a time."""

    kind = models.CharField(_("kind"), max_length=20, choices=TaskKind.choices)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="engagement_tasks")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="engagement_tasks")
    title = models.CharField(_("title"), max_length=200)
    gift = models.CharField(_("gift"), max_length=200, blank=True)
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(_("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    source = models.CharField(_("created by"), max_length=100, default="manual",
                              help_text=_("manual, or trigger:<id>"))
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_status_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class TriggerKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    HOLIDAY = "holiday", _("Holiday")
    NEXT_PURCHASE = "next_purchase", _("Predicted next purchase")
    PRODUCT_ARRIVAL = "product_arrival", _("A liked product arrived")
    CHURN_RISK = "churn_risk", _("Probability active below a threshold")
    NEGATIVE_REVIEW = "negative_review", _("Negative review")
    NO_CONTACT = "no_contact", _("No contact for N days")
    POINTS_EXPIRING = "points_expiring", _("Points expiring soon")


class Trigger(models.Model):
    """A rule that turns an occasion into a message and/or a task; ``config`` holds its parameters."""

    kind = models.CharField(_("kind"), max_length=30, choices=TriggerKind.choices)
    name = models.CharField(_("name"), max_length=100)
    enabled = models.BooleanField(_("on"), default=True)
    config = models.JSONField(default=dict, blank=True,
                              help_text=_("days_before, threshold, days, template, task_kind, …"))
    template_key = models.CharField(_("message template"), max_length=80, blank=True)
    task_kind = models.CharField(_("task for the owner"), max_length=20, choices=TaskKind.choices, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("trigger")
        verbose_name_plural = _("triggers")

    def __str__(self) -> str:
        return self.name


class TriggerFire(models.Model):
    """One occasion a trigger fired for a customer; the unique key makes evaluation idempotent."""

    # No index of its own: the unique (trigger, customer, occasion) index starts with it, and every
    # index costs time when a trigger first fires for a million customers.
    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="fires", db_index=False)
    customer_id = models.BigIntegerField()
    occasion = models.CharField(max_length=60)
    at = models.DateTimeField()
    # Random per evaluation: tells this run's new fires apart from earlier ones in set-based follow-ups.
    run_id = models.BigIntegerField(default=0, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trigger", "customer_id", "occasion"],
                                               name="trigger_fire_unique")]


class Holiday(models.Model):
    """A date of the business's calendar greeted by the holiday trigger."""

    month = models.PositiveSmallIntegerField()
    day = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    audience = models.CharField(max_length=10, blank=True, choices=[("female", _("Women")), ("male", _("Men"))],
                                help_text=_("Empty: everyone"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "day", "name"], name="holiday_unique")]
        ordering = ["month", "day"]

    def __str__(self) -> str:
        return f"{self.day:02d}.{self.month:02d} {self.name}"


class Campaign(models.Model):
    """A one-off send to an audience with a random hold-out (R5.6)."""

    name = models.CharField(max_length=200)
    template_key = models.CharField(max_length=80)
    holdout_percent = models.PositiveSmallIntegerField(default=10)
    seed = models.BigIntegerField(default=0)
    conversion_days = models.PositiveSmallIntegerField(default=14)
    started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class CampaignMember(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    holdout = models.BooleanField()
    message = models.ForeignKey("engagement.Message", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_member_unique")]


class ChurnReason(models.Model):
    """Why a customer left (R7.5), from the survey link or a manager's form."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="churn_reasons")
    reason = models.CharField(max_length=40)
    comment = models.TextField(blank=True)
    source = models.CharField(max_length=20)
    at = models.DateTimeField()
