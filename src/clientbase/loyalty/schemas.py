"""API shapes of the loyalty endpoints. Amounts are kopecks, points are integers."""

import datetime as dt

from ninja import Schema


class ProgramOut(Schema):
    slug: str
    name: str
    points_name: str
    point_value: int
    max_redeem_percent: int
    pending_days: int
    lot_expiry_days: int | None
    inactivity_expiry_days: int | None


class AccountOut(Schema):
    program: str
    registered_at: dt.datetime | None
    balance: int
    pending: int
    owed: int
    tier: str | None
    tier_review_at: dt.datetime | None
    last_purchase_at: dt.datetime | None


class LotOut(Schema):
    id: int
    points: int
    remaining: int
    active: bool
    activates_at: dt.datetime | None
    expires_at: dt.datetime | None
    created_at: dt.datetime


class EntryOut(Schema):
    id: int
    kind: str
    points: int
    pending: int
    owed: int
    unrecovered: int
    operation_id: str | None
    order_ref: str
    reason: str
    created_at: dt.datetime


class ProgramIn(Schema):
    program: str | None = None


class QuoteIn(Schema):
    program: str | None = None
    amount: int


class QuoteOut(Schema):
    balance: int
    points: int
    amount: int


class RedeemIn(Schema):
    program: str | None = None
    points: int
    operation_id: str
    order_id: str = ""
    amount: int | None = None


class LineIn(Schema):
    sku: str
    amount: int
    quantity: int = 1
    category: str = ""
    reward: bool = False


class EarnIn(Schema):
    program: str | None = None
    operation_id: str
    order_id: str = ""
    lines: list[LineIn]
    paid_with_points: int = 0


class AdjustIn(Schema):
    program: str | None = None
    points: int
    reason: str
    operation_id: str | None = None


class CouponIn(Schema):
    kind: str
    value: int = 0
    code: str | None = None
    program: str | None = None
    customer_id: int | None = None
    max_uses: int | None = 1
    product_sku: str = ""
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None


class CouponOut(Schema):
    code: str
    kind: str
    value: int
    product_sku: str
    customer_id: int | None
    max_uses: int | None
    uses: int
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None


class CouponUseIn(Schema):
    customer_id: int
    operation_id: str
    order_id: str = ""


class EnrollOut(Schema):
    welcome_bonus: int
    credited_orders: int
