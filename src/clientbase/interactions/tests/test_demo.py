from datetime import date
from pathlib import Path
from typing import Any

from clientbase.customers.models import Customer, ProfileChange
from clientbase.demo.setup import PROFILE_STAGES, ensure_demo
from clientbase.demo.stages import DemoContext
from clientbase.identity.models import Identifier, Merge, ReviewCase
from clientbase.interactions import demo
from clientbase.interactions.models import Event


def test_channel_events_stage_shows_merges_a_review_and_an_unmerge(tmp_path: Path, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    ensure_demo(customers=120, seed=3, progress=False, path=tmp_path / "demo.json", stages=PROFILE_STAGES)
    live = Customer.objects.filter(merged_into__isnull=True).count()
    counts = demo.run(DemoContext(seed=3, customers=120, anchor=date(2026, 11, 1), password="x", progress=False))
    assert counts["identity.ReviewCase"] == ReviewCase.objects.count() == 2
    assert Event.objects.filter(type__in=["message", "call"]).exists()
    assert ReviewCase.objects.filter(status="open").count() == 1  # the family sharing a phone
    assert ReviewCase.objects.filter(status="kept_apart").count() == 1  # the namesakes, by their unmerge
    assert Merge.objects.filter(unmerged_at__isnull=True).count() == 2
    assert Merge.objects.filter(unmerged_at__isnull=False).count() == 1
    assert Customer.objects.filter(merged_into__isnull=True).count() == live
    typo = Identifier.objects.get(value="olga.smirnova@gmial.com")
    assert Customer.objects.get(pk=typo.customer_id).merged_into_id is None
    # The replaced card is off the profile (its history keeps it); the new one is where the old one was.
    ivan = Identifier.objects.get(value="NEW8888").customer_id
    assert not Identifier.objects.filter(value="OLD7777").exists()
    assert ProfileChange.objects.filter(customer_id=ivan, field="identifiers.card", old_value="OLD7777").exists()
