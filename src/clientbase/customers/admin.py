"""Admin for staff. Edits here bypass the services (no history rows): prefer the web pages for profiles."""

from django.contrib import admin

from clientbase.customers.models import (
    ContactPerson,
    Customer,
    CustomFieldDefinition,
    ImportantDate,
    ProfileChange,
    Tag,
)


class ImportantDateInline(admin.TabularInline[ImportantDate, Customer]):
    model = ImportantDate
    extra = 0


class ContactPersonInline(admin.TabularInline[ContactPerson, Customer]):
    model = ContactPerson
    fk_name = "company"
    raw_id_fields = ["person"]
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin[Customer]):
    list_display = ["id", "display_name", "kind", "city", "team", "owner", "merged_into", "updated_at"]
    list_filter = ["kind", "team", "gender", "family_status", "preferred_channel", "tags"]
    # search_key is the indexed, normalised name; identifiers find people by phone or email.
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
    list_display = ["key", "label", "type", "required", "applies_to", "position"]
    list_filter = ["type", "required", "applies_to"]
    search_fields = ["key", "label"]


@admin.register(ProfileChange)
class ProfileChangeAdmin(admin.ModelAdmin[ProfileChange]):
    """History is append-only (R1.5): visible here, never editable."""

    list_display = ["at", "customer", "field", "actor_user", "channel", "source"]
    list_filter = ["channel"]
    search_fields = ["field", "source"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer", "actor_user"]

    def has_add_permission(self, request: object) -> bool:  # type: ignore[override]
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:  # type: ignore[override]
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:  # type: ignore[override]
        return False
