"""The engagement demo stage on a small demo business: tasks, messages, held ones, a measured campaign."""

from pathlib import Path
from typing import Any

import pytest

from clientbase.demo.setup import PROFILE_STAGES, ensure_demo
from clientbase.engagement import campaigns
from clientbase.engagement.models import Campaign, Message, MessageDecision, Task


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_engagement_stage(tmp_path: Path) -> None:
    ensure_demo(customers=300, seed=7, progress=False, path=tmp_path / "demo.json",
                stages=(*PROFILE_STAGES, "catalogue_and_orders", "engagement"))
    assert Task.objects.filter(kind__in=["call", "meeting", "negotiation"]).exists()
    assert Message.objects.filter(source__startswith="trigger:").exists()
    assert MessageDecision.objects.exclude(action="queued").exists()
    result = campaigns.results(Campaign.objects.get())
    treated, revenue = result["treated"], result["incremental_revenue"]
    delivered = result["delivered"]
    assert treated is not None and delivered is not None and 0 < delivered <= treated
    # Sent through the real contact rules: nobody is "sent" an email without an email address.
    from clientbase.identity.models import Identifier

    emailed = Message.objects.filter(source__startswith="campaign:", status="sent", channel="email")
    assert emailed.exists()
    assert not emailed.exclude(customer_id__in=Identifier.objects.filter(kind="email").values("customer_id")).exists()
    assert revenue is not None and revenue > 0
