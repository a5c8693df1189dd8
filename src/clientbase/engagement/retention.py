"""Losing a customer (R7.5): the retention budget from predicted lifetime value, the churn survey link.

Budget rule: at most ``RETENTION_SHARE`` (10%) of the customer's predicted lifetime value (analytics'
CustomerScore.clv, kopecks) may be spent to keep them: a discount or gift worth more than a tenth of
what they are expected to bring is rarely repaid, and the share is easy to explain to a manager.
"""

from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from clientbase.customers.models import Customer
from clientbase.engagement.models import ChurnReason

RETENTION_SHARE = 0.10
SURVEY_SALT = "clientbase.engagement.churn-survey"


def budget(customer: Customer) -> tuple[int, str] | None:
    """(kopecks, basis text), or None when analytics has no score for this customer."""
    from clientbase.analytics.scores import CustomerScore

    score = CustomerScore.objects.filter(customer=customer).first()
    if score is None:
        return None
    basis = _("%(share)s%% of predicted lifetime value %(clv)s ₽, probability active %(alive)s") % {
        "share": int(RETENTION_SHARE * 100), "clv": f"{round(score.clv / 100):,}".replace(",", "\u00a0"),
        "alive": f"{score.probability_alive:.0%}"}
    return int(round(score.clv * RETENTION_SHARE)), basis


def survey_token(customer_id: int) -> str:
    return signing.dumps(customer_id, salt=SURVEY_SALT)


def survey_customer(token: str) -> int:
    """The customer a survey link belongs to; BadSignature for a forged link."""
    return int(signing.loads(token, salt=SURVEY_SALT))


def survey_url(customer_id: int) -> str:
    return f"{settings.CLIENTBASE_PUBLIC_URL}{reverse('engagement:survey', args=[survey_token(customer_id)])}"


def card_context(customer: Customer) -> dict[str, Any]:
    from clientbase.engagement.services import CHURN_REASONS

    found = budget(customer)
    reasons = [{"at": r.at, "label": CHURN_REASONS.get(r.reason, r.reason), "comment": r.comment,
                "source": r.source} for r in ChurnReason.objects.filter(customer=customer).order_by("-at")[:5]]
    return {"budget": found[0] if found else None, "budget_rub": f"{found[0] / 100:,.0f}" if found else "",
            "basis": found[1] if found else "", "survey_url": survey_url(customer.pk), "reasons": reasons,
            "choices": list(CHURN_REASONS.items())}
