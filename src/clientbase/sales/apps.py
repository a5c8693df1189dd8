from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "clientbase.sales"
    label = "sales"

    def ready(self) -> None:
        from clientbase.identity.participants import Participant, register
        from clientbase.sales import handlers  # noqa: F401  (registers the event handlers)
        from clientbase.sales.figures import recompute_customers, sales_probe

        # Orders and carts move with their customer on merge; on unmerge the rows the merge moved go
        # back, and rows made later go wherever the event that created them goes.
        register(Participant("sales.Order", follows="event", after_change=recompute_customers, probe=sales_probe))
        register(Participant("sales.AbandonedCart", follows="event", after_change=recompute_customers,
                             probe=sales_probe))
