from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "clientbase.loyalty"
    label = "loyalty"
    verbose_name = "Loyalty"

    def ready(self) -> None:
        # Handlers register on import; loyalty comes after sales in INSTALLED_APPS, so on a purchase
        # the sales handler has stored the order before ours reads it.
        from clientbase.loyalty import adapters  # noqa: F401
        from clientbase.loyalty.merging import register_participants

        register_participants()

        from datetime import timedelta

        from clientbase.core import schedule
        from clientbase.loyalty.tasks import daily_loyalty_jobs

        # Run by `clientbase worker` (core.schedule): activation, expiry with warnings, tier reviews, birthdays.
        schedule.register("loyalty.daily", every=timedelta(hours=24), func=daily_loyalty_jobs.call)
