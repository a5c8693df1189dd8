from django.contrib import admin

from clientbase.interactions.models import ChannelSecret, Event
from clientbase.web.admin_tools import ReadOnlyAdminMixin


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Event]):
    """Events arrive through ingest (idempotent, resolved); the admin only shows them."""

    list_display = ["source", "external_id", "type", "channel", "occurred_at", "customer"]
    list_filter = ["type", "channel"]
    search_fields = ["external_id", "source"]
    raw_id_fields = ["customer"]


@admin.register(ChannelSecret)
class ChannelSecretAdmin(admin.ModelAdmin[ChannelSecret]):
    """Webhook endpoints: /api/v1/webhooks/telegram/<key> or /api/v1/webhooks/json/<key> (docs/identity.md)."""

    list_display = ["key", "kind", "channel", "active"]
    list_filter = ["kind", "active"]
