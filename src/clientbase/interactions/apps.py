from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "clientbase.interactions"
    label = "interactions"
