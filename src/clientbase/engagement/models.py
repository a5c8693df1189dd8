"""Engagement (R7): the outbox of messages, why each was held or skipped, templates, contact settings.

Staff tasks, triggers and campaigns live in ``models_work.py`` (imported at the bottom) to keep
each module small.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    TRANSACTIONAL = "transactional", _("Transactional")
    MARKETING = "marketing", _("Marketing")
    # To a member of staff about this customer (a negative review): fixed channel and address.
    ALERT = "alert", _("Alert to staff")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    HELD = "held", _("Held for the contact window")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    REFUSED = "refused", _("Refused (no consent or no address)")
    SKIPPED = "skipped", _("Skipped (frequency cap)")


# Statuses a worker may still pick up; the rest are final.
OPEN_STATUSES = (MessageStatus.QUEUED, MessageStatus.HELD)


class Message(models.Model):
    """One message to one customer: the outbox row the worker claims, sends and settles.

    ``channel`` is empty until the worker chooses one (preferred channel, then the customer's fallback
    order); a caller may fix it. ``idempotency_key`` is unique: enqueueing the same occasion twice
    returns the first row, and the provider receives it (Message-ID / Idempotency-Key) so a re-send after
    a worker crash is recognisable as the same message.
    """

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    template_key = models.CharField(_("template"), max_length=80, blank=True)
    context = models.JSONField(_("extra fields"), default=dict, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    address = models.CharField(_("address"), max_length=254, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=MessageKind.choices, default=MessageKind.MARKETING)
    status = models.CharField(_("status"), max_length=20, choices=MessageStatus.choices,
                              default=MessageStatus.QUEUED)
    due_at = models.DateTimeField(_("due at"))
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    attempts = models.PositiveIntegerField(default=0)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    source = models.CharField(_("source"), max_length=100, blank=True,
                              help_text=_("trigger:<id>, campaign:<id>, manual, api"))
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            # The worker's claim query: open rows by the time they may next be tried.
            models.Index(fields=["status", "next_attempt_at"], name="message_status_next"),
            # Frequency caps count a customer's recent sends per channel.
            models.Index(fields=["customer", "channel", "sent_at"], name="message_customer_sent"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.channel or '?'} → {self.customer_id} [{self.status}]"


class MessageDecision(models.Model):
    """Why the worker did what it did with a message, in words a manager understands; append-only."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="decisions")
    at = models.DateTimeField()
    action = models.CharField(max_length=20)
    reason = models.CharField(max_length=400)

    class Meta:
        ordering = ["at", "pk"]


class MessageTemplate(models.Model):
    """A marketer-edited text per channel and language, rendered in a Jinja2 sandbox."""

    key = models.SlugField(_("key"), max_length=80)
    channel = models.CharField(_("channel"), max_length=20)
    language = models.CharField(_("language"), max_length=10, default="ru")
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [models.UniqueConstraint(fields=["key", "channel", "language"],
                                               name="message_template_key_channel_language")]

    def __str__(self) -> str:
        return f"{self.key} [{self.channel}/{self.language}]"


class ChannelConfig(models.Model):
    """How one channel reaches its provider; ``config`` keys are the channel plugin's own."""

    kind = models.CharField(_("channel"), max_length=20, unique=True)
    enabled = models.BooleanField(default=True)
    config = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("channel settings")
        verbose_name_plural = _("channel settings")

    def __str__(self) -> str:
        return self.kind


class ContactSettings(models.Model):
    """The business's contact rules (one row, pk=1): caps, consent mode, the worker's timing."""

    cap_per_channel_day = models.PositiveIntegerField(_("marketing per channel per day"), default=1)
    cap_per_channel_week = models.PositiveIntegerField(_("marketing per channel per week"), default=3)
    cap_all_channels_week = models.PositiveIntegerField(_("marketing over all channels per week"), default=4)
    require_opt_in = models.BooleanField(
        _("marketing needs an explicit consent"), default=False,
        help_text=_("Off: a customer without a consent row may receive marketing until they unsubscribe."))
    lease_seconds = models.PositiveIntegerField(default=300)
    max_attempts = models.PositiveIntegerField(default=6)
    retry_base_seconds = models.PositiveIntegerField(default=60)

    class Meta:
        verbose_name = _("contact rules")
        verbose_name_plural = _("contact rules")

    @classmethod
    def current(cls) -> "ContactSettings":
        return cls.objects.get_or_create(pk=1)[0]


from clientbase.engagement.models_work import (  # noqa: E402,F401  (one app, two modules)
    Campaign,
    CampaignMember,
    ChurnReason,
    Holiday,
    Task,
    TaskKind,
    TaskStatus,
    Trigger,
    TriggerFire,
    TriggerKind,
)
