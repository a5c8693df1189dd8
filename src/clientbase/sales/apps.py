from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "clientbase.sales"
    label = "sales"

    def ready(self) -> None:
        from clientbase.identity.participants import Participant, register
        from clientbase.sales import handlers  # noqa: F401  (registers the event handlers)
        from clientbase.sales.figures import recompute_customers

        # Orders and carts move with their customer on merge; unmerge sends back the rows the merge
        # moved and leaves later ones with the survivor (follows="event" once interactions.Event exists).
        register(Participant("sales.Order", after_change=recompute_customers))
        register(Participant("sales.AbandonedCart", after_change=recompute_customers))
