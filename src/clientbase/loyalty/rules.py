"""Pure loyalty decisions: what a basket earns, how much of it points may pay, which lots pay.

No ORM here: the services feed plain values in and write what comes out.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal


@dataclass(frozen=True)
class BasketLine:
    """One line as paid: ``amount`` is what the customer paid for the line, in kopecks, before points."""

    sku: str
    amount: int
    quantity: int = 1
    category: str = ""
    reward: bool = False


@dataclass(frozen=True)
class Basket:
    lines: Sequence[BasketLine]
    paid_with_points: int = 0   # kopecks of the basket paid with points

    @property
    def amount(self) -> int:
        return sum(line.amount for line in self.lines)


@dataclass(frozen=True)
class EarningRules:
    earn_percent: Decimal
    point_value: int = 100
    category_multipliers: dict[str, int] = field(default_factory=dict)
    product_multipliers: dict[str, int] = field(default_factory=dict)
    excluded_skus: frozenset[str] = frozenset()
    min_order_amount: int = 0
    tier_multiplier: int = 100


@dataclass(frozen=True)
class Earning:
    """Points per line (by line index) and the amount that qualified for earning."""

    points: int
    amount: int
    lines: list[dict[str, int | str]]


def _points_share(basket: Basket) -> list[int]:
    """Split the paid-with-points kopecks across lines in proportion to their amounts (largest remainder)."""
    total = basket.amount
    paid = min(basket.paid_with_points, total)
    if paid <= 0 or total <= 0:
        return [0] * len(basket.lines)
    shares = [line.amount * paid // total for line in basket.lines]
    remainders = sorted(range(len(shares)), key=lambda i: -(basket.lines[i].amount * paid % total))
    for i in remainders[: paid - sum(shares)]:
        shares[i] += 1
    return shares


def earning(basket: Basket, rules: EarningRules) -> Earning:
    """Points a basket earns: reward lines, excluded products and the points-paid part earn nothing."""
    lines: list[dict[str, int | str]] = []
    if basket.amount < rules.min_order_amount:
        return Earning(0, 0, [{"sku": line.sku, "quantity": line.quantity, "points": 0} for line in basket.lines])
    total_points = 0
    total_amount = 0
    for line, share in zip(basket.lines, _points_share(basket), strict=True):
        base = max(line.amount - share, 0)
        if line.reward or line.sku in rules.excluded_skus:
            base = 0
        multiplier = rules.product_multipliers.get(line.sku, rules.category_multipliers.get(line.category, 100))
        raw = (Decimal(base) * rules.earn_percent / 100 * multiplier / 100 * rules.tier_multiplier / 100
               / rules.point_value)
        points = int(raw.to_integral_value(rounding=ROUND_FLOOR))
        lines.append({"sku": line.sku, "quantity": line.quantity, "points": points, "amount": base})
        total_points += points
        total_amount += base
    return Earning(total_points, total_amount, lines)


def redeemable(*, balance: int, basket_amount: int, max_percent: int, point_value: int, min_balance: int,
               step: int) -> int:
    """Most points this balance may pay for a basket: the percent cap, the minimum balance and the step."""
    if balance <= 0 or balance < min_balance:
        return 0
    cap = basket_amount * max_percent // 100 // point_value
    points = min(balance, cap)
    return points - points % step


def share_of(total: int, part: int, whole: int) -> int:
    """``total * part / whole`` rounded down; used cumulatively so the parts of a whole add up exactly."""
    if whole <= 0:
        return 0
    return total * min(part, whole) // whole


@dataclass(frozen=True)
class LotView:
    lot_id: int
    remaining: int


def take_from_lots(lots: Sequence[LotView], points: int) -> tuple[list[tuple[int, int]], int]:
    """Take ``points`` from lots in the given (oldest-expiry-first) order: ((lot id, points) pairs, shortfall)."""
    taken: list[tuple[int, int]] = []
    left = points
    for lot in lots:
        if left <= 0:
            break
        part = min(lot.remaining, left)
        if part > 0:
            taken.append((lot.lot_id, part))
            left -= part
    return taken, max(left, 0)


@dataclass(frozen=True)
class TierView:
    tier_id: int
    threshold: int


def qualified_tier(tiers: Sequence[TierView], metric: int) -> int | None:
    """The highest tier whose threshold the metric reaches (tiers in any order)."""
    best: TierView | None = None
    for tier in tiers:
        if metric >= tier.threshold and (best is None or tier.threshold > best.threshold):
            best = tier
    return best.tier_id if best else None
