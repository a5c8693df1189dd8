from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "clientbase.identity"
    label = "identity"

    def ready(self) -> None:
        from clientbase.identity import handlers  # noqa: F401  (registers the card_replaced handler)
        from clientbase.identity.participants import Participant, register

        # The profile's own per-customer rows move with a merge like any other domain's.
        register(Participant("customers.ImportantDate"))
