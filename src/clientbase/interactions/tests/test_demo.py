from datetime import date
from pathlib import Path
from typing import Any

from clientbase.customers.models import Customer
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
    assert counts["identity.ReviewCase"] == 1
    assert Event.objects.filter(type__in=["message", "call"]).exists()
    assert ReviewCase.objects.filter(status="open").count() == 1
    assert Merge.objects.filter(unmerged_at__isnull=True).count() == 2
    assert Merge.objects.filter(unmerged_at__isnull=False).count() == 1
    assert Customer.objects.filter(merged_into__isnull=True).count() == live
    typo = Identifier.objects.get(value="olga.smirnova@gmial.com")
    assert Customer.objects.get(pk=typo.customer_id).merged_into_id is None
    assert Identifier.objects.get(value="OLD7777").customer_id == Identifier.objects.get(value="NEW8888").customer_id
