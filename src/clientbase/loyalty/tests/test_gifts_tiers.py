from datetime import date, timedelta

from clientbase.core.clock import now
from clientbase.loyalty import services
from clientbase.loyalty.gifts import issue_birthday_coupons
from clientbase.loyalty.models import Account, Coupon, TierChange
from clientbase.loyalty.tests.builders import basket, make_member, make_program, make_tier
from clientbase.loyalty.tiers import review_tiers


def test_upgrade_at_once_multiplier_applies_downgrade_only_after_review_and_grace() -> None:
    program = make_program(earn_percent=10, tier_window_days=30, tier_review_days=30, tier_grace_days=10)
    bronze = make_tier(program, name="Bronze", threshold=0)
    gold = make_tier(program, name="Gold", threshold=1_000_000, multiplier_percent=200)
    t0 = now() - timedelta(days=100)
    customer = make_member(program, at=t0)
    services.earn(program, customer.pk, basket(100_000), operation_id="p1", at=t0)
    account = Account.objects.get(customer=customer)
    assert account.tier == bronze
    services.earn(program, customer.pk, basket(900_000), operation_id="p2", at=t0 + timedelta(days=1))
    account.refresh_from_db()
    assert account.tier == gold
    # Gold earns double from now on.
    entry = services.earn(program, customer.pk, basket(100_000), operation_id="p3", at=t0 + timedelta(days=2))
    assert entry is not None and entry.points == 200
    # The window has passed: at the review date a grace period starts, the downgrade comes after it.
    review = t0 + timedelta(days=31)
    assert review_tiers(program, at=review) == 0
    account.refresh_from_db()
    assert account.tier == gold and account.tier_grace_until == review + timedelta(days=10)
    assert review_tiers(program, at=review + timedelta(days=10)) == 1
    account.refresh_from_db()
    assert account.tier == bronze
    assert list(TierChange.objects.filter(account=account).order_by("at").values_list("reason", flat=True)) == [
        "upgrade", "upgrade", "downgrade"]


def test_birthday_coupon_is_issued_once_a_year_to_members() -> None:
    program = make_program(birthday_coupon_percent=20, birthday_coupon_days=14)
    member = make_member(program, birth_date=date(1990, 3, 14))
    make_member(program, birth_date=date(1990, 3, 15))
    assert issue_birthday_coupons(program, on=date(2026, 3, 14)) == 1
    assert issue_birthday_coupons(program, on=date(2026, 3, 14)) == 0
    coupon = Coupon.objects.get()
    assert (coupon.customer_id, coupon.value, coupon.max_uses) == (member.pk, 20, 1)
    assert coupon.valid_until is not None and coupon.valid_from is not None
    assert coupon.valid_until - coupon.valid_from == timedelta(days=14)


def test_leap_day_birthdays_get_their_coupon_on_28_february() -> None:
    program = make_program(birthday_coupon_percent=10)
    make_member(program, birth_date=date(1992, 2, 29))
    assert issue_birthday_coupons(program, on=date(2027, 2, 28)) == 1
