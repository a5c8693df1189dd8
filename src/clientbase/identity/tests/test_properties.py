"""Property tests (hypothesis): resolution, replay and unmerge invariants on the real database."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientbase.access.actor import SYSTEM
from clientbase.customers.models import Customer
from clientbase.identity.merges import merge_customers
from clientbase.identity.models import Identifier, Merge, ReviewCase
from clientbase.identity.unmerge import unmerge
from clientbase.interactions.models import Event
from clientbase.interactions.tests.builders import ingest

# Five values per kind: at most the default cap, so the cap guard never cuts a link here.
PHONES = [f"+7916123456{i}" for i in range(5)]
EMAILS = [f"p{i}@x.ru" for i in range(5)]
JUNK = ["0000000000", "null"]
settings.register_profile("db", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
PROFILE = settings.get_profile("db")

identifier_sets = st.lists(
    st.tuples(st.lists(st.sampled_from(PHONES + JUNK), max_size=2), st.lists(st.sampled_from(EMAILS), max_size=2))
    .filter(lambda t: any(p not in JUNK for p in t[0]) or t[1]),
    min_size=1, max_size=10)


def _event(i: int, phones: list[str], emails: list[str]) -> dict[str, Any]:
    identifiers: dict[str, Any] = {}
    if phones:
        identifiers["phone"] = phones
    if emails:
        identifiers["email"] = emails
    return {"id": f"p{i}", "source": "prop", "type": "visit", "channel": "web",
            "occurred_at": "2026-11-01T10:00:00+00:00", "identifiers": identifiers}


def _components(sets: list[tuple[list[str], list[str]]]) -> set[frozenset[str]]:
    """Connected components of the identifier graph, junk values removed (they link nobody)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for phones, emails in sets:
        keys = [f"phone:{p}" for p in phones if p not in JUNK] + [f"email:{e}" for e in emails]
        for key in keys[1:]:
            parent[find(key)] = find(keys[0])
        if keys:
            find(keys[0])
    groups: dict[str, set[str]] = {}
    for key in parent:
        groups.setdefault(find(key), set()).add(key)
    return {frozenset(g) for g in groups.values()}


def _customers_as_components() -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for customer_id, kind, value in Identifier.objects.values_list("customer_id", "kind", "value"):
        groups.setdefault(customer_id, set()).add(f"{kind}:{value}")
    return {frozenset(g) for g in groups.values()}


def _reset() -> None:
    Event.objects.all().delete()
    Identifier.objects.all().delete()
    ReviewCase.objects.all().delete()
    Merge.objects.all().delete()
    Customer.objects.update(merged_into=None)
    Customer.objects.all().delete()


@PROFILE
@given(sets=identifier_sets, split=st.integers(min_value=0, max_value=12))
def test_customers_are_the_connected_components(sets: list[tuple[list[str], list[str]]], split: int) -> None:
    _reset()
    events = [_event(i, p, e) for i, (p, e) in enumerate(sets)]
    # In two batches: one bulk walk and one that must see the first batch's customers in the database.
    ingest(*events[:split])
    ingest(*events[split:])
    assert _customers_as_components() == _components(sets)
    live = Customer.objects.filter(merged_into__isnull=True)
    assert live.count() == len(_components(sets))
    assert set(Event.objects.values_list("customer_id", flat=True)) <= set(live.values_list("pk", flat=True))


@PROFILE
@given(sets=identifier_sets)
def test_replaying_any_batch_changes_nothing(sets: list[tuple[list[str], list[str]]]) -> None:
    _reset()
    events = [_event(i, p, e) for i, (p, e) in enumerate(sets)]
    ingest(*events)
    state = (sorted(Event.objects.values_list("pk", "customer_id")),
             sorted(Identifier.objects.values_list("pk", "customer_id")), Customer.objects.count())
    report = ingest(*events)
    assert {r.status for r in report.results} == {"duplicate"}
    assert state == (sorted(Event.objects.values_list("pk", "customer_id")),
                     sorted(Identifier.objects.values_list("pk", "customer_id")), Customer.objects.count())


@settings(PROFILE, max_examples=12)
@given(first=identifier_sets, second=identifier_sets)
def test_merge_then_unmerge_restores(first: list[tuple[list[str], list[str]]],
                                     second: list[tuple[list[str], list[str]]]) -> None:
    _reset()
    a: int = ingest(*[_event(i, p, []) for i, (p, _) in enumerate(first) if any(x not in JUNK for x in p)]
               or [_event(0, [PHONES[0]], [])]).results[0].customer_id or 0
    b: int = ingest(*[_event(100 + i, [], e) for i, (_, e) in enumerate(second) if e]
               or [_event(100, [], [EMAILS[0]])]).results[0].customer_id or 0
    customers = Customer.objects.in_bulk([a, b])

    def state() -> Any:
        return (sorted(Identifier.objects.values_list("pk", "customer_id")),
                sorted(Event.objects.values_list("pk", "customer_id")),
                sorted(Customer.objects.values_list("pk", "merged_into_id", "first_name")))

    before = state()
    merge = merge_customers(customers[min(a, b)], customers[max(a, b)], actor=SYSTEM)
    unmerge(merge, actor=SYSTEM)
    assert state() == before
