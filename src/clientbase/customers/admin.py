"""Admin for staff: profiles and history are view-only (the web pages and API write them with history)."""

from django.contrib import admin
from django.http import HttpRequest

from clientbase.customers.models import (
    ContactPerson,
    Customer,
    CustomFieldDefinition,
    ImportantDate,
    ProfileChange,
    Tag,
)
from clientbase.web.admin_tools import ReadOnlyAdminMixin


class ImportantDateInline(ReadOnlyAdminMixin, admin.TabularInline[ImportantDate, Customer]):
    model = ImportantDate
    extra = 0


class ContactPersonInline(ReadOnlyAdminMixin, admin.TabularInline[ContactPerson, Customer]):
    model = ContactPerson
    fk_name = "company"
    raw_id_fields = ["person"]
    extra = 0


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Customer]):
    list_display = ["id", "display_name", "kind", "city", "team", "owner", "merged_into", "updated_at"]
    list_filter = ["kind", "team", "gender", "family_status", "preferred_channel", "tags"]
    # search_key is the normalised name (matched by substring); identifiers find people by phone or email.
    search_fields = ["search_key", "legal_name", "registration_number", "identifiers__value"]
    list_select_related = ["team", "owner"]
    raw_id_fields = ["owner", "merged_into"]
    filter_horizontal = ["tags"]
    inlines = [ImportantDateInline, ContactPersonInline]
    show_full_result_count = False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    search_fields = ["name"]


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(admin.ModelAdmin[CustomFieldDefinition]):
    """New fields are defined on /customers/fields/ (validated by the service); here label, order and
    "required" may be changed, never the key or type that stored values depend on."""

    list_display = ["key", "label", "type", "required", "applies_to", "position"]
    list_filter = ["type", "required", "applies_to"]
    search_fields = ["key", "label"]
    readonly_fields = ["key", "type", "choices", "applies_to"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ProfileChange)
class ProfileChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ProfileChange]):
    """History is append-only (R1.5)."""

    list_display = ["at", "customer", "field", "actor_user", "channel", "source"]
    list_filter = ["channel"]
    search_fields = ["field", "source"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer", "actor_user"]
