from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from clientbase.identity.models import Consent, Identifier, JunkPattern, Merge, ReviewCase
from clientbase.identity.services import forget_patterns
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

    # Ingest keeps the patterns for a moment (identity.services.load_guards); a change made here applies
    # in this process as soon as it is committed.
    def save_model(self, request: HttpRequest, obj: JunkPattern, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(forget_patterns)

    def delete_model(self, request: HttpRequest, obj: JunkPattern) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(forget_patterns)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[JunkPattern]) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(forget_patterns)


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
