"""Property: for any interleaving of operations the ledger sums to the balance and the audit is clean."""

import contextlib
import os
from datetime import timedelta
from typing import Any

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientbase.access.actor import SYSTEM
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.customers.models import Customer
from clientbase.identity.merges import merge_customers
from clientbase.identity.unmerge import unmerge
from clientbase.loyalty import services
from clientbase.loyalty.audit import audit
from clientbase.loyalty.expiry import expire_points
from clientbase.loyalty.models import Account, LotConsumption
from clientbase.loyalty.tests.builders import basket, make_member, make_program

who = st.integers(0, 2)
operations = st.one_of(
    st.tuples(st.just("purchase"), who, st.integers(1, 300_000), st.integers(1, 3)),
    st.tuples(st.just("return"), st.integers(0, 20), st.one_of(st.none(), st.integers(1, 3))),
    st.tuples(st.just("redeem"), who, st.integers(1, 400)),
    st.tuples(st.just("time"), st.integers(1, 40)),
    st.tuples(st.just("adjust"), who, st.integers(-100, 100)),
    st.tuples(st.just("merge"), who, who),
    st.tuples(st.just("unmerge")),
)


def _current(customer: Customer) -> Customer:
    customer.refresh_from_db()
    while customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def _check() -> None:
    report = audit()
    assert report.clean, report.drift
    for balance, negative_ok in Account.objects.values_list("balance", "may_go_negative"):
        assert balance >= 0 or negative_ok
    restored = LotConsumption.objects.filter(restores__isnull=False).values_list("restores_id", flat=True)
    assert len(restored) == len(set(restored))


def _apply(op: tuple[Any, ...], program: Any, people: list[Customer], state: dict[str, Any]) -> None:
    kind = op[0]
    at = state["at"]
    if kind == "purchase":
        owner = _current(people[op[1]])
        ref = f"o{len(state['orders'])}"
        state["orders"].append(ref)
        services.earn(program, owner.pk, basket(op[2], quantity=op[3]), operation_id=f"purchase:{ref}",
                      order_ref=ref, at=at)
    elif kind == "return" and state["orders"]:
        ref = state["orders"][op[1] % len(state["orders"])]
        state["returns"] += 1
        services.reverse_return(program, order_ref=ref, operation_id=f"return:{state['returns']}",
                                returned=None if op[2] is None else {"sku-1": op[2]}, at=at)
    elif kind == "redeem":
        with contextlib.suppress(DomainValidationError):
            services.redeem(program, _current(people[op[1]]).pk, op[2], operation_id=f"r{state['n']}", at=at)
    elif kind == "time":
        state["at"] = at + timedelta(days=op[1])
        services.activate_pending(program, at=state["at"])
        expire_points(program, at=state["at"])
    elif kind == "adjust" and op[2]:
        with contextlib.suppress(DomainValidationError):
            services.adjust(program, _current(people[op[1]]).pk, op[2], reason="test", staff_id=None, at=at)
    elif kind == "merge":
        a, b = _current(people[op[1]]), _current(people[op[2]])
        if a.pk != b.pk:
            state["merges"].append(merge_customers(a, b, actor=SYSTEM))
    elif kind == "unmerge" and state["merges"]:
        unmerge(state["merges"].pop(), actor=SYSTEM)


# Modest by default (the suite stays fast); LOYALTY_EXAMPLES=500 for a long run.
@settings(max_examples=int(os.environ.get("LOYALTY_EXAMPLES", 10)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operations, max_size=16), negative=st.booleans(), pending=st.sampled_from([0, 5]))
def test_any_interleaving_keeps_the_ledger_exact(ops: list[tuple[Any, ...]], negative: bool, pending: int) -> None:
    with transaction.atomic():
        program = make_program(earn_percent=10, max_redeem_percent=100, allow_negative=negative,
                               pending_days=pending, lot_expiry_days=60, inactivity_expiry_days=90)
        start = now() - timedelta(days=400)
        people = [make_member(program, at=start) for _ in range(3)]
        state: dict[str, Any] = {"at": start, "orders": [], "returns": 0, "merges": [], "n": 0}
        for op in ops:
            state["n"] += 1
            _apply(op, program, people, state)
            _check()
        while state["merges"]:
            unmerge(state["merges"].pop(), actor=SYSTEM)
            _check()
        transaction.set_rollback(True)
