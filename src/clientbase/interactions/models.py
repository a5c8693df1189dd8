"""Events (R2.1, R3.2): everything a channel tells us about a customer, idempotent by (source, id)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventChannel(models.TextChoices):
    POS = "pos", _("Point of sale")
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    VIBER = "viber", _("Viber")
    VK = "vk", _("VK")
    INSTAGRAM = "instagram", _("Instagram")
    FACEBOOK = "facebook", _("Facebook")
    SITE_CHAT = "site_chat", _("Site chat")
    API = "api", _("API")


class Event(models.Model):
    source = models.CharField(_("source"), max_length=60)
    external_id = models.CharField(_("id at the source"), max_length=120)
    type = models.CharField(_("type"), max_length=40)
    channel = models.CharField(_("channel"), max_length=20, choices=EventChannel.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"))
    # No index of its own: event_customer_occurred starts with customer (see docs/identity.md, Ingest).
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="events",
                                 db_index=False)
    # "kind:value" of every usable identifier the event carried: unmerge sends the event where they go.
    identifiers = models.JSONField(default=list)
    traits = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="event_source_id_unique"),
        ]
        indexes = [models.Index(fields=["customer", "-occurred_at"], name="event_customer_occurred")]

    def __str__(self) -> str:
        return f"{self.source}/{self.external_id} {self.type}"


class ChannelSecret(models.Model):
    """A webhook endpoint: its kind (telegram or generic JSON), its shared secret and field mapping."""

    key = models.SlugField(_("key"), max_length=50, unique=True, help_text=_("Appears in the webhook URL"))
    kind = models.CharField(_("kind"), max_length=20, choices=[("telegram", "Telegram"), ("generic", "JSON")])
    channel = models.CharField(_("channel"), max_length=20, choices=EventChannel.choices)
    secret = models.CharField(_("secret"), max_length=200)
    mapping = models.JSONField(_("field mapping"), default=dict, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("channel webhook")
        verbose_name_plural = _("channel webhooks")

    def __str__(self) -> str:
        return f"{self.key} ({self.kind})"
