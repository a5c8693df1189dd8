"""Saved segments (R6), their materialised members, and the join/leave log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Segment(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    rule = models.JSONField(_("rule"))
    refresh_every_minutes = models.PositiveIntegerField(
        _("refresh every, minutes"), default=60, help_text=_("0: only when asked"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentMembership(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="segment_memberships")
    joined_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_unique")]
        indexes = [models.Index(fields=["customer"], name="segment_member_customer")]


class SegmentChange(models.Model):
    """A customer entered or left a segment: an event other domains (triggers) read."""

    class Kind(models.TextChoices):
        JOINED = "joined", _("Entered")
        LEFT = "left", _("Left")

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="changes")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="segment_changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "-at"], name="segment_change_customer_at")]
