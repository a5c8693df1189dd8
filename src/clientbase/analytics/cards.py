"""The card's "Outlook" section: lifetime value, probability active, next visit, RFM segment and why."""

from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientbase.analytics import rules
from clientbase.analytics.scores import CustomerScore, RFMSegment
from clientbase.analytics.services import local_today
from clientbase.identity.models import Merge
from clientbase.web.cards import register_card_section

if TYPE_CHECKING:
    from clientbase.access.actor import Actor
    from clientbase.customers.models import Customer


def outlook(customer: "Customer", actor: "Actor") -> dict[str, Any] | None:
    """None (section hidden) until the customer has bought and a run has scored them, and for a merged
    customer: its orders are the survivor's now, so its score describes no one."""
    if customer.merged_into_id is not None:
        return None
    score = CustomerScore.objects.filter(customer_id=customer.pk).first()
    if score is None:
        return None
    today = local_today()
    since_scored = (today - timezone.localtime(score.computed_at).date()).days
    next_visit = ""
    if score.probability_alive < rules.UNLIKELY_TO_RETURN:
        # The rhythm says "soon", but the model says this customer has most likely gone: a date would mislead.
        next_visit = str(_("unlikely to come back unprompted"))
    elif score.next_purchase_at is not None:
        days = (score.next_purchase_at - today).days
        next_visit = rules.in_about(days) if days >= 0 else str(_("overdue"))
    why = rules.why(visits=score.frequency + 1, days_since_last=score.age - score.recency + since_scored,
                    typical_gap=score.typical_gap, probability_alive=score.probability_alive)
    # Scores come from the scoring run; a merge since then brought orders the score has not seen.
    merged_since = Merge.objects.filter(survivor_id=customer.pk, at__gt=score.computed_at,
                                        unmerged_at__isnull=True).order_by("at").first()
    return {"score": score, "clv_roubles": round(score.clv / 100), "alive_percent": round(100 * score.probability_alive),
            "next_visit": next_visit, "segment_label": RFMSegment(score.segment).label, "why": why,
            "merged_since": merged_since}


register_card_section("analytics", outlook, title=_("Outlook"), template="analytics/card_outlook.html", order=350)
