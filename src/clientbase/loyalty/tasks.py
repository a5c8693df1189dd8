"""Scheduled loyalty jobs for the worker (django.tasks, database backend); the CLI runs the same functions."""

from django.tasks import task


@task()
def daily_loyalty_jobs() -> list[dict[str, int | str]]:
    """Activate pending points, expire due and inactive points (warning customers before), review tiers."""
    from clientbase.loyalty.expiry import expire_points
    from clientbase.loyalty.gifts import issue_birthday_coupons
    from clientbase.loyalty.models import Program
    from clientbase.loyalty.services import activate_pending
    from clientbase.loyalty.tiers import review_tiers

    results: list[dict[str, int | str]] = []
    for program in Program.objects.filter(active=True).order_by("pk"):
        activated = activate_pending(program)
        expired = expire_points(program)
        results.append({"program": program.slug, "activated": activated, "expired_lots": expired.lots,
                        "expired_points": expired.points, "warnings": expired.warned,
                        "tier_changes": review_tiers(program), "birthday_coupons": issue_birthday_coupons(program)})
    return results
