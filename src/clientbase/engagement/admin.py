from typing import Any

from django import forms
from django.contrib import admin

from clientbase.core.errors import DomainValidationError
from clientbase.engagement import templating
from clientbase.engagement.models import (
    Campaign,
    ChannelConfig,
    ContactSettings,
    Holiday,
    Message,
    MessageDecision,
    MessageTemplate,
    Task,
    Trigger,
)


class DecisionInline(admin.TabularInline):
    model = MessageDecision
    extra = 0
    readonly_fields = ("at", "action", "reason")
    can_delete = False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("pk", "customer_id", "channel", "kind", "status", "due_at", "sent_at", "attempts", "source")
    list_filter = ("status", "kind", "channel")
    raw_id_fields = ("customer",)
    inlines = [DecisionInline]


class MessageTemplateForm(forms.ModelForm):
    """The same check as the API: every field must exist, nothing may reach Python internals."""

    class Meta:
        model = MessageTemplate
        fields = ["key", "channel", "language", "subject", "body"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("subject", "body"):
            try:
                templating.validate(str(data.get(name) or ""), path=name)
            except DomainValidationError as exc:
                self.add_error(name, "; ".join(e.message for e in exc.errors))
        return data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ("key", "channel", "language", "updated_at")
    list_filter = ("channel", "language")


@admin.register(Trigger)
class TriggerAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "enabled", "template_key", "task_kind", "last_run_at")
    list_editable = ("enabled",)


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "customer_id", "assignee", "due_at", "status", "source")
    list_filter = ("status", "kind")
    raw_id_fields = ("customer",)


admin.site.register(ChannelConfig)
admin.site.register(ContactSettings)
admin.site.register(Holiday)
admin.site.register(Campaign)
