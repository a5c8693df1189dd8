"""Identifiers: every way a customer can be recognised, normalised, each owned by at most one customer."""

from django.conf import settings
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
    # No index of its own: identifier_customer_kind starts with customer (see docs/identity.md, Ingest).
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="identifiers",
                                 db_index=False)
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


class JunkPattern(models.Model):
    """An admin-added value that must never link anyone (R2.2), on top of the built-in list.

    ``pattern`` is a regular expression matched against the whole normalised value; ``kind``
    empty means every kind.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=IdentifierKind.choices, blank=True)
    pattern = models.CharField(_("pattern"), max_length=200)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("junk identifier pattern")
        verbose_name_plural = _("junk identifier patterns")

    def __str__(self) -> str:
        return f"{self.kind or '*'}:{self.pattern}"


class Merge(models.Model):
    """One merge of ``absorbed`` into ``survivor`` with exactly what moved and what was overwritten.

    ``moved``: {"identity.Identifier": [ids], "interactions.Event": [ids], "<app.Model>": [ids], ...}
    ``overwritten``: {field: {"survivor": old survivor value, "absorbed": absorbed value}} for fields
    the merge changed on the survivor (JSON form). ``created_consents``: ids of consent rows the merge
    added to enforce the stricter choice. Watermarks tell rows created after the merge apart.
    """

    # No index of their own: merge_survivor_at and merge_absorbed_at start with them.
    survivor = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="merges_won",
                                 db_index=False)
    absorbed = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="merges_lost",
                                 db_index=False)
    at = models.DateTimeField()
    # Indexed only where set (merge_actor_user, merge_unmerged_by): an ingest's merges have no user.
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+", db_index=False)
    reason = models.CharField(max_length=200, blank=True)
    moved = models.JSONField(default=dict)
    overwritten = models.JSONField(default=dict)
    created_consents = models.JSONField(default=list)
    identifier_watermark = models.BigIntegerField(default=0)
    event_watermark = models.BigIntegerField(default=0)
    unmerged_at = models.DateTimeField(null=True, blank=True)
    unmerged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    related_name="+", db_index=False)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        indexes = [models.Index(fields=["survivor", "-at"], name="merge_survivor_at"),
                   models.Index(fields=["absorbed", "-at"], name="merge_absorbed_at"),
                   models.Index(fields=["actor_user"], name="merge_actor_user",
                                condition=models.Q(actor_user__isnull=False)),
                   models.Index(fields=["unmerged_by"], name="merge_unmerged_by",
                                condition=models.Q(unmerged_by__isnull=False))]


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MERGED = "merged", _("Merged")
    KEPT_APART = "kept_apart", _("Kept apart")


class ReviewCase(models.Model):
    """Two customers an event would have merged, but a guard refused (R2.2): a person decides."""

    customer_a = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    customer_b = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict, help_text=_("The event and identifiers that linked them"))
    status = models.CharField(max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    related_name="+")
    merge = models.ForeignKey(Merge, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("review case")
        verbose_name_plural = _("review cases")
        constraints = [
            models.UniqueConstraint(fields=["customer_a", "customer_b"], condition=models.Q(status="open"),
                                    name="review_case_open_pair_unique"),
        ]


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    DENIED = "denied", _("Denied")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


# Stricter choices rank higher: on merge the highest rank per channel wins.
CONSENT_STRICTNESS = {ConsentStatus.GRANTED: 0, ConsentStatus.DENIED: 1, ConsentStatus.UNSUBSCRIBED: 2}


class Consent(models.Model):
    """One consent decision per customer per channel; append-only, the latest row is current."""

    # No index of its own: consent_customer_channel_at starts with customer.
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="consents",
                                 db_index=False)
    channel = models.CharField(_("channel"), max_length=20)
    status = models.CharField(_("status"), max_length=20, choices=ConsentStatus.choices)
    at = models.DateTimeField()
    source = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [models.Index(fields=["customer", "channel", "-at"], name="consent_customer_channel_at")]
