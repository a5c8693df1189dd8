"""Sixteen tills spending from one balance at once never overdraw it and lose no update (PostgreSQL)."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from clientbase.core.errors import DomainValidationError
from clientbase.loyalty import services
from clientbase.loyalty.audit import audit
from clientbase.loyalty.models import Account, EntryKind, LedgerEntry
from clientbase.loyalty.tests.builders import basket, make_member, make_program

CLIENTS = 16
TRIES = 8


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="SQLite serializes writers (IMMEDIATE transactions): "
                                                      "there is no concurrent writer to race")
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_overdraw() -> None:
    program = make_program(earn_percent=10, max_redeem_percent=100, lot_expiry_days=30)
    customer = make_member(program)
    for n in range(10):
        services.earn(program, customer.pk, basket(10_000), operation_id=f"p{n}")  # ten lots of 10 points
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def till(number: int) -> None:
        barrier.wait()
        try:
            for attempt in range(TRIES):
                try:
                    services.redeem(program, customer.pk, 3, operation_id=f"t{number}-{attempt}")
                    result = "ok"
                except DomainValidationError:
                    result = "refused"
                with lock:
                    outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=till, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    account = Account.objects.get(program=program, customer=customer)
    # 100 points, 3 at a time: exactly 33 spendings succeed, 1 point is left, every other try is refused.
    assert outcomes.count("ok") == 33
    assert outcomes.count("refused") == CLIENTS * TRIES - 33
    assert account.balance == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.REDEMPTION).count() == 33
    assert audit().clean
