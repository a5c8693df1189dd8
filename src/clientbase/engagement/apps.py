from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "clientbase.engagement"
    label = "engagement"

    def ready(self) -> None:
        from clientbase.engagement import handlers  # noqa: F401  (registers the review handler)
        from clientbase.identity.participants import Participant, register

        # Messages and tasks follow their customer on merge; unmerge sends back what the merge moved.
        register(Participant("engagement.Message"))
        register(Participant("engagement.Task"))
        register(Participant("engagement.ChurnReason"))
