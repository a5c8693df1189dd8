"""Identifiers: every way a customer can be recognised, normalised, each owned by at most one customer."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentifierKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    CARD = "card", _("Loyalty card")
    EXTERNAL = "external", _("External id")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    VIBER = "viber", _("Viber")
    VK = "vk", _("VK")
    INSTAGRAM = "instagram", _("Instagram")
    FACEBOOK = "facebook", _("Facebook")


class Identifier(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(_("kind"), max_length=20, choices=IdentifierKind.choices)
    value = models.CharField(_("value"), max_length=254, help_text=_("Normalised form"))
    raw = models.CharField(_("as entered"), max_length=254, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    label = models.CharField(_("label"), max_length=50, blank=True)
    source = models.CharField(_("source"), max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("identifier")
        verbose_name_plural = _("identifiers")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identifier_kind_value_unique"),
        ]
        indexes = [models.Index(fields=["customer", "kind"], name="identifier_customer_kind")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
