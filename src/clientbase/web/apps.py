from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "clientbase.web"
    label = "web"

    def ready(self) -> None:
        from clientbase.web.cards import autodiscover

        autodiscover()
