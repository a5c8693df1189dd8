from django.contrib import admin

from clientbase.identity.models import Consent, Identifier, JunkPattern, Merge, ReviewCase
from clientbase.web.admin_tools import ReadOnlyAdminMixin


@admin.register(Identifier)
class IdentifierAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Identifier]):
    """Identifiers change through identity.services (normalised, recorded in history)."""

    list_display = ["value", "kind", "customer", "verified", "source", "created_at"]
    list_filter = ["kind", "verified"]
    search_fields = ["value", "raw"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(JunkPattern)
class JunkPatternAdmin(admin.ModelAdmin[JunkPattern]):
    """Admin-added placeholder values that must never link anyone (R2.2); a regex on the whole value."""

    list_display = ["pattern", "kind", "note"]
    list_filter = ["kind"]


@admin.register(Merge)
class MergeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Merge]):
    """Merges are undone from the card or the API (unmerge restores both sides), never edited here."""

    list_display = ["pk", "survivor", "absorbed", "at", "reason", "unmerged_at"]
    raw_id_fields = ["survivor", "absorbed"]


@admin.register(ReviewCase)
class ReviewCaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ReviewCase]):
    list_display = ["pk", "customer_a", "customer_b", "reason", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["customer_a", "customer_b"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Consent]):
    list_display = ["customer", "channel", "status", "at", "source"]
    list_filter = ["channel", "status"]
    raw_id_fields = ["customer"]
