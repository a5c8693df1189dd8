from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "clientbase.engagement"
    label = "engagement"
