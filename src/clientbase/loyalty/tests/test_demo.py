from pathlib import Path
from typing import Any

import pytest

from clientbase.demo.setup import ensure_demo
from clientbase.loyalty.audit import audit
from clientbase.loyalty.models import Account, Coupon, EntryKind, LedgerEntry, Program, TierChange


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_demo_stage_builds_zerna_with_a_clean_ledger(tmp_path: Path) -> None:
    ensure_demo(customers=200, seed=5, progress=False, path=tmp_path / "demo.json",
                stages=["staff", "people", "catalogue_and_orders", "loyalty"])
    program = Program.objects.get(slug="zerna")
    assert program.name == "Зёрна" and program.tiers.count() == 3
    assert Account.objects.filter(program=program).count() > 50
    for kind in (EntryKind.ACCRUAL, EntryKind.REDEMPTION, EntryKind.EXPIRY):
        assert LedgerEntry.objects.filter(kind=kind).exists(), kind
    assert TierChange.objects.exists() and Coupon.objects.filter(code="ZERNA10").exists()
    report = audit()
    assert report.clean, report.drift
