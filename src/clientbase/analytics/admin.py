from django.contrib import admin

from clientbase.analytics.scores import CustomerScore, ModelRun


@admin.register(ModelRun)
class ModelRunAdmin(admin.ModelAdmin[ModelRun]):
    list_display = ("version", "status", "started_at", "customers", "transactions")
    list_filter = ("status",)
    readonly_fields = [f.name for f in ModelRun._meta.fields]


@admin.register(CustomerScore)
class CustomerScoreAdmin(admin.ModelAdmin[CustomerScore]):
    list_display = ("customer", "segment", "clv", "probability_alive", "next_purchase_at", "model_version")
    list_filter = ("segment", "frequency_class")
    raw_id_fields = ("customer",)
    readonly_fields = [f.name for f in CustomerScore._meta.fields]
