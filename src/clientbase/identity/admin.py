from django.contrib import admin

from clientbase.identity.models import Identifier
from clientbase.web.admin_tools import ReadOnlyAdminMixin


@admin.register(Identifier)
class IdentifierAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Identifier]):
    """Identifiers change through identity.services (normalised, recorded in history)."""

    list_display = ["value", "kind", "customer", "verified", "source", "created_at"]
    list_filter = ["kind", "verified"]
    search_fields = ["value", "raw"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]
