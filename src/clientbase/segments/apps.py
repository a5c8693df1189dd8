from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "clientbase.segments"
    label = "segments"
