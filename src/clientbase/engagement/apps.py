from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "clientbase.engagement"
    label = "engagement"

    def ready(self) -> None:
        from clientbase.engagement import handlers  # noqa: F401  (registers the review handler)
        from clientbase.engagement.merging import settle_duplicate_tasks, trigger_task_probe
        from clientbase.identity.participants import Participant, register

        # Messages and tasks follow their customer on merge; unmerge sends back what the merge moved. A
        # trigger's task that the survivor already has for the same occasion is closed, and opened again
        # by the unmerge (engagement.merging).
        register(Participant("engagement.Message"))
        register(Participant("engagement.Task", after_change=settle_duplicate_tasks, probe=trigger_task_probe))
        register(Participant("engagement.ChurnReason"))
