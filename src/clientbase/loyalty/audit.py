"""``clientbase loyalty audit``: every cached figure recomputed from the entries; any difference is drift.

Checks (each a GROUP BY over the whole table, not a loop over customers):
- accounts: balance, pending and owed equal the sums of the customer's entries in the program;
- lots: remaining equals points minus the lot's consumptions minus what expired on the lot;
- lots against accounts: active lots hold balance + owed, pending lots hold pending;
- balances below zero only on accounts that may go negative;
- expiry entries: the lots pointing at one hold no more expired points than it booked (a merge repair
  may have reopened some of them, never more).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from clientbase.loyalty.models import Account, LedgerEntry, Lot


@dataclass
class AuditReport:
    accounts: int = 0
    lots: int = 0
    drift: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.drift


def _entry_sums() -> dict[tuple[int, int], tuple[int, int, int]]:
    rows = (LedgerEntry.objects.values("program_id", "customer_id")
            .annotate(b=Sum("points"), p=Sum("pending"), o=Sum("owed")).order_by())
    return {(r["program_id"], r["customer_id"]): (r["b"] or 0, r["p"] or 0, r["o"] or 0) for r in rows}


def _lot_sums() -> dict[tuple[int, int], list[int]]:
    rows = (Lot.objects.values("program_id", "customer_id", "active").annotate(r=Sum("remaining")).order_by())
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        sums[(r["program_id"], r["customer_id"])][0 if r["active"] else 1] += r["r"] or 0
    return sums


def audit(limit: int = 50) -> AuditReport:
    report = AuditReport()
    entries = _entry_sums()
    lots = _lot_sums()
    accounts = Account.objects.values_list("program_id", "customer_id", "balance", "pending", "owed",
                                           "may_go_negative")
    for program_id, customer_id, balance, pending, owed, negative_ok in accounts.iterator(chunk_size=5000):
        report.accounts += 1
        key = (program_id, customer_id)
        expected = entries.pop(key, (0, 0, 0))
        if (balance, pending, owed) != expected:
            report.drift.append(f"account {key}: cached {(balance, pending, owed)}, entries say {expected}")
        active, waiting = lots.pop(key, [0, 0])
        if active != expected[0] + expected[2] or waiting != expected[1]:
            report.drift.append(f"account {key}: lots hold {active} active + {waiting} pending, "
                                f"entries say {expected[0]} + owed {expected[2]}, pending {expected[1]}")
        if balance < 0 and not negative_ok:
            report.drift.append(f"account {key}: balance {balance} below zero")
    for key, sums in entries.items():
        if any(sums):
            report.drift.append(f"entries of {key} have no account: {sums}")
    for key, held in lots.items():
        if any(held):
            report.drift.append(f"lots of {key} have no account: {held}")
    report.lots = Lot.objects.count()
    wrong = (Lot.objects.annotate(used=Coalesce(Sum("consumptions__points"), 0))
             .filter(~Q(remaining=F("points") - F("used") - F("expired")))
             .values_list("pk", "points", "remaining", "used", "expired"))
    for pk, points, remaining, used, expired in wrong[:limit]:
        report.drift.append(f"lot {pk}: {points} points, {used} consumed, {expired} expired, but {remaining} remaining")
    _check_expiry_entries(report, limit)
    return report


def _check_expiry_entries(report: AuditReport, limit: int) -> None:
    booked = (Lot.objects.filter(expired_by__isnull=False).values("expired_by_id", "expired_by__points")
              .annotate(held=Sum("expired")).filter(held__gt=-F("expired_by__points")).order_by())
    for row in booked[:limit]:
        report.drift.append(f"expiry entry {row['expired_by_id']}: booked {-row['expired_by__points']} points, "
                            f"its lots say {row['held']} expired")
