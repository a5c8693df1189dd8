from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "clientbase.access"
    label = "access"
