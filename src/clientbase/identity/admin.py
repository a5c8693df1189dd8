from django.contrib import admin

from clientbase.identity.models import Identifier


@admin.register(Identifier)
class IdentifierAdmin(admin.ModelAdmin[Identifier]):
    list_display = ["value", "kind", "customer", "verified", "source", "created_at"]
    list_filter = ["kind", "verified"]
    search_fields = ["value", "raw"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]
