from django.contrib import admin

from clientbase.access.models import ApiToken, StaffProfile, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin[StaffProfile]):
    list_display = ["user", "role", "team"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user", "team"]
    autocomplete_fields = ["team"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Tokens are issued by ``clientbase createuser --token`` or the API; here they can be seen and revoked."""

    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]

    def has_add_permission(self, request: object) -> bool:  # type: ignore[override]
        return False
