"""Program settings pages for admins (/admin/loyalty/): programs with their tiers, coupons.

The ledger itself is read-only here: points move only through loyalty.services (adjustments via
the API or the card), so every change is an entry with a reason and a staff member.
"""

from django.contrib import admin

from clientbase.loyalty.models import Account, Coupon, LedgerEntry, Lot, Program, Tier
from clientbase.web.admin_tools import ReadOnlyAdminMixin


class TierInline(admin.TabularInline[Tier, Program]):
    model = Tier
    extra = 1


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin[Program]):
    list_display = ["name", "slug", "points_name", "earn_percent", "max_redeem_percent", "pending_days",
                    "lot_expiry_days", "inactivity_expiry_days", "active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TierInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "points_name", "active"]}),
        ("Earning", {"fields": ["point_value", "earn_percent", "category_multipliers", "product_multipliers",
                                "excluded_skus", "min_order_amount"]}),
        ("Spending", {"fields": ["max_redeem_percent", "min_balance_to_redeem", "redeem_step", "allow_negative"]}),
        ("Pending and expiry", {"fields": ["pending_days", "lot_expiry_days", "inactivity_expiry_days",
                                           "warn_days"]}),
        ("Tiers", {"fields": ["tier_basis", "tier_window_days", "tier_review_days", "tier_grace_days"]}),
        ("Gifts", {"fields": ["welcome_bonus", "retro_days", "birthday_coupon_percent", "birthday_coupon_days"]}),
    ]


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin[Coupon]):
    list_display = ["code", "kind", "value", "product_sku", "customer", "uses", "max_uses", "valid_until"]
    list_filter = ["kind", "program"]
    search_fields = ["code"]
    raw_id_fields = ["customer"]
    readonly_fields = ["uses", "issue_key"]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Account]):
    list_display = ["customer", "program", "balance", "pending", "owed", "tier", "last_purchase_at"]
    list_filter = ["program", "tier"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer", "program", "tier"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[LedgerEntry]):
    list_display = ["created_at", "customer", "program", "kind", "points", "pending", "order_ref", "reason"]
    list_filter = ["kind", "program"]
    search_fields = ["order_ref", "operation_id"]
    raw_id_fields = ["customer", "lot"]
    list_select_related = ["customer", "program"]


@admin.register(Lot)
class LotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Lot]):
    list_display = ["pk", "customer", "program", "points", "remaining", "active", "expires_at"]
    list_filter = ["program", "active"]
    raw_id_fields = ["customer"]
