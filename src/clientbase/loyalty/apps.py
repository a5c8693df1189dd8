from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "clientbase.loyalty"
    label = "loyalty"
