"""Loyalty programs (R8): an append-only points ledger with lots, tiers and coupons.

Points are integers. The truth is ``LedgerEntry`` (+ ``LotConsumption``); ``Account`` and
``Lot.remaining`` are caches written in the same transaction as the entries and recomputed by
``clientbase loyalty audit``. Invariants (docs/loyalty.md):

- ``account.balance == sum(entry.points)``, ``account.pending == sum(entry.pending)``,
  ``account.owed == sum(entry.owed)`` over the customer's entries in the program;
- ``lot.remaining == lot.points - sum(consumption.points) - lot.expired`` and ``0 <= remaining <= points``;
  expiry is recorded on the lot (``expired``, ``expired_by``: the customer's one expiry entry of that run),
  not as a consumption row per lot (older expiries kept their consumption rows, ``expired`` 0);
- ``sum(remaining of active lots) == balance + owed`` and ``sum(remaining of pending lots) == pending``.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class TierBasis(models.TextChoices):
    SPEND = "spend", _("Spend over the window")
    VISITS = "visits", _("Visits (days with a purchase) over the window")


class Program(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("key"), max_length=50, unique=True)
    points_name = models.CharField(_("name of the points"), max_length=50, default="points")
    active = models.BooleanField(_("active"), default=True)
    # Earning: points = paid kopecks * earn_percent / 100 / point_value, per line, rounded down.
    point_value = models.PositiveIntegerField(_("kopecks per point"), default=100)
    earn_percent = models.DecimalField(_("earn, % of the paid amount"), max_digits=6, decimal_places=2, default=5)
    category_multipliers = models.JSONField(_("category multipliers, % by category"), default=dict, blank=True)
    product_multipliers = models.JSONField(_("product multipliers, % by SKU"), default=dict, blank=True)
    excluded_skus = models.JSONField(_("products that earn nothing"), default=list, blank=True)
    min_order_amount = models.BigIntegerField(_("minimum order for earning, kopecks"), default=0)
    # Spending
    max_redeem_percent = models.PositiveSmallIntegerField(_("at most % of an order paid with points"), default=30)
    min_balance_to_redeem = models.PositiveIntegerField(_("minimum balance to spend"), default=0)
    redeem_step = models.PositiveIntegerField(_("points are spent in multiples of"), default=1)
    allow_negative = models.BooleanField(
        _("a return may take the balance below zero"), default=False,
        help_text=_("Applies to accounts opened after the change (each account keeps its own flag)."))
    # Pending and expiry
    pending_days = models.PositiveSmallIntegerField(_("pending days (return window)"), default=0)
    lot_expiry_days = models.PositiveIntegerField(_("each earning expires after, days"), null=True, blank=True)
    inactivity_expiry_days = models.PositiveIntegerField(_("whole balance expires after days without a purchase"),
                                                         null=True, blank=True)
    warn_days = models.PositiveSmallIntegerField(_("warn customers days before expiry"), default=7)
    # Tiers
    tier_basis = models.CharField(_("tiers by"), max_length=10, choices=TierBasis.choices, default=TierBasis.SPEND)
    tier_window_days = models.PositiveIntegerField(_("tier window, days"), default=365)
    tier_review_days = models.PositiveIntegerField(_("tier reviewed every, days"), default=90)
    tier_grace_days = models.PositiveIntegerField(_("grace before a downgrade, days"), default=30)
    # Gifts
    welcome_bonus = models.PositiveIntegerField(_("welcome bonus, points"), default=0)
    retro_days = models.PositiveIntegerField(_("credit purchases made before registration, days back"), default=90)
    birthday_coupon_percent = models.PositiveSmallIntegerField(_("birthday coupon, % off"), default=0)
    birthday_coupon_days = models.PositiveSmallIntegerField(_("birthday coupon valid, days"), default=14)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("loyalty program")
        verbose_name_plural = _("loyalty programs")
        constraints = [
            models.CheckConstraint(condition=Q(max_redeem_percent__lte=100, redeem_step__gte=1, point_value__gte=1),
                                   name="loyalty_program_rules_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(_("name"), max_length=50)
    threshold = models.BigIntegerField(_("qualifies from (kopecks or visits)"), default=0)
    multiplier_percent = models.PositiveIntegerField(_("earning multiplier, %"), default=100)

    class Meta:
        ordering = ["program", "threshold"]
        constraints = [models.UniqueConstraint(fields=["program", "threshold"], name="loyalty_tier_threshold_unique")]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """A customer's membership in a program: the cached sums of their entries and their tier."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="accounts")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="loyalty_accounts")
    enrolled_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    balance = models.BigIntegerField(default=0)
    pending = models.BigIntegerField(default=0)
    owed = models.BigIntegerField(default=0)
    may_go_negative = models.BooleanField(default=False)
    last_purchase_at = models.DateTimeField(null=True, blank=True)
    tier = models.ForeignKey(Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    tier_review_at = models.DateTimeField(null=True, blank=True)
    tier_grace_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "customer"], name="loyalty_account_unique"),
            models.CheckConstraint(condition=Q(balance__gte=0) | Q(may_go_negative=True),
                                   name="loyalty_account_balance_not_negative"),
            models.CheckConstraint(condition=Q(pending__gte=0, owed__gte=0), name="loyalty_account_pending_owed"),
        ]
        indexes = [models.Index(fields=["program", "last_purchase_at"], name="loyalty_account_inactive")]


class EntryKind(models.TextChoices):
    ACCRUAL = "accrual", _("Earned")
    ACTIVATION = "activation", _("Pending points activated")
    REDEMPTION = "redemption", _("Spent")
    EXPIRY = "expiry", _("Expired")
    REVERSAL = "reversal", _("Reversed by a return")
    REFUND = "refund", _("Spent points given back")
    ADJUSTMENT = "adjustment", _("Manual adjustment")
    BONUS = "bonus", _("Bonus")
    SETTLEMENT = "settlement", _("Settlement")


class LedgerEntry(models.Model):
    """One append-only line. ``points`` moves the active balance, ``pending`` the pending one,
    ``owed`` the points a return could not take back (only where the account may go negative)."""

    # No single-column indexes on program or customer: (program, operation_id) and (customer, program,
    # created_at) below lead with them. A program_id index of its own tempted PostgreSQL, before its
    # statistics caught up, to find an operation id by scanning every entry of the program.
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="entries", db_index=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="loyalty_entries",
                                 db_index=False)
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    points = models.BigIntegerField(default=0)
    pending = models.BigIntegerField(default=0)
    owed = models.BigIntegerField(default=0)
    # Points a return could not take back from a balance that may not go negative (forgiven, reported).
    unrecovered = models.BigIntegerField(default=0)
    # The lot an accrual created, or the one lot an activation or a return acted on: such entries follow their lot.
    lot = models.ForeignKey("Lot", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    operation_id = models.CharField(max_length=120, null=True, blank=True)
    order_ref = models.CharField(max_length=120, blank=True, db_index=True)
    amount = models.BigIntegerField(_("qualifying amount, kopecks"), default=0)
    basket = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    # Set on the entries one expiry run wrote together, so its set-based statements can find them.
    batch = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "operation_id"], name="loyalty_entry_operation_unique"),
            models.CheckConstraint(condition=~Q(kind="adjustment") | ~Q(reason=""),
                                   name="loyalty_adjustment_has_reason"),
        ]
        indexes = [
            models.Index(fields=["customer", "program", "created_at"], name="loyalty_entry_customer"),
            models.Index(fields=["batch", "customer"], name="loyalty_entry_batch", condition=~Q(batch="")),
        ]


class Lot(models.Model):
    """Points earned together, spent and expired together: oldest expiry first."""

    # No index of its own: (program, expires_at) below serves the expiry job, customer the card.
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="lots", db_index=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="loyalty_lots")
    points = models.BigIntegerField()
    remaining = models.BigIntegerField()
    active = models.BooleanField(default=True)
    activates_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    # Points the expiry job took from this lot, and the entry that booked them (one per customer and run):
    # set-based UPDATEs on the lot itself instead of a consumption row per expired lot.
    expired = models.BigIntegerField(default=0)
    expired_by = models.ForeignKey("LedgerEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   db_index=False)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(remaining__gte=0) & Q(remaining__lte=F("points")),
                                   name="loyalty_lot_remaining_in_range"),
            models.CheckConstraint(condition=Q(expired__gte=0) & Q(expired__lte=F("points") - F("remaining")),
                                   name="loyalty_lot_expired_in_range"),
        ]
        indexes = [
            models.Index(fields=["customer", "program", "expires_at"], name="loyalty_lot_spend_order",
                         condition=Q(remaining__gt=0)),
            models.Index(fields=["program", "expires_at"], name="loyalty_lot_due", condition=Q(remaining__gt=0)),
        ]


class LotConsumption(models.Model):
    """Which lots an entry took points from (positive) or gave them back to (negative, ``restores``)."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="consumptions")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="consumptions")
    points = models.BigIntegerField()
    # Almost always empty: a partial unique index instead of one entry per row keeps expiry inserts cheap.
    restores = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="restored_by",
                                 db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["restores"], condition=Q(restores__isnull=False),
                                    name="loyalty_consumption_restored_once"),
        ]


class TierChange(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tier_changes")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    old_tier = models.ForeignKey(Tier, on_delete=models.SET_NULL, null=True, related_name="+")
    new_tier = models.ForeignKey(Tier, on_delete=models.SET_NULL, null=True, related_name="+")
    metric = models.BigIntegerField(default=0)
    reason = models.CharField(max_length=30)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]


class CouponKind(models.TextChoices):
    PERCENT = "percent", _("Percent off")
    AMOUNT = "amount", _("Amount off, kopecks")
    PRODUCT = "product", _("Free product")


class Coupon(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="coupons", null=True, blank=True)
    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(max_length=10, choices=CouponKind.choices)
    value = models.BigIntegerField(_("percent or kopecks"), default=0)
    product_sku = models.CharField(max_length=64, blank=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="coupons", help_text=_("Empty: anyone may use it"))
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: unlimited"))
    uses = models.PositiveIntegerField(default=0)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    # What issued it, so issuing twice (a birthday each year) gives one coupon.
    issue_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(max_uses__isnull=True) | Q(uses__lte=F("max_uses")),
                                   name="loyalty_coupon_uses_within_limit"),
            models.CheckConstraint(condition=~Q(kind="percent") | Q(value__gte=0, value__lte=100),
                                   name="loyalty_coupon_percent_range"),
        ]

    def __str__(self) -> str:
        return self.code


class CouponUse(models.Model):
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="used")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    operation_id = models.CharField(max_length=120, unique=True)
    order_ref = models.CharField(max_length=120, blank=True)
    at = models.DateTimeField()
