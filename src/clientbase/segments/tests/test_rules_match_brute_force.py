"""Every condition type, compiled to SQL, selects exactly what a plain Python evaluation selects (R6.1)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientbase.segments import rules, services
from clientbase.segments.tests import world

LEAVES: list[dict] = [
    {"field": "city", "op": "eq", "value": "Москва"}, {"field": "city", "op": "ne", "value": "Москва"},
    {"field": "city", "op": "in", "value": ["Тверь", "Сочи"]}, {"field": "city", "op": "is_not_set"},
    {"field": "city", "op": "contains", "value": "ва"}, {"field": "city", "op": "starts_with", "value": "Ка"},
    {"field": "gender", "op": "is_set"}, {"field": "gender", "op": "not_in", "value": ["male"]},
    {"field": "kind", "op": "eq", "value": "company"},
    {"field": "birth_date", "op": "lt", "value": "1980-01-01"},
    {"field": "birth_date", "op": "between", "value": ["1970-01-01", "1999-12-31"]},
    {"field": "age", "op": "gte", "value": 30}, {"field": "age", "op": "between", "value": [20, 40]},
    {"field": "age", "op": "eq", "value": 36}, {"field": "age", "op": "lt", "value": 18},
    {"field": "created_at", "op": "within_last_days", "value": 100},
    {"field": "created_at", "op": "older_than_days", "value": 365},
    {"field": "preferred_channel", "op": "eq", "value": "email"},
    {"field": "custom.cups", "op": "gt", "value": 2}, {"field": "custom.cups", "op": "is_not_set"},
    {"field": "custom.cups", "op": "between", "value": [1, 7]},
    {"field": "custom.drink", "op": "in", "value": ["latte", "raf"]}, {"field": "custom.drink", "op": "ne", "value": "tea"},
    {"field": "custom.extras", "op": "has", "value": "oat"}, {"field": "custom.extras", "op": "has_not", "value": "syrup"},
    {"field": "custom.extras", "op": "is_set"},
    {"field": "custom.since", "op": "within_last_days", "value": 200},
    {"field": "custom.since", "op": "lt", "value": "2025-06-01"},
    {"field": "custom.photo_ok", "op": "eq", "value": True},
    {"field": "custom.nick", "op": "starts_with", "value": "Sam"}, {"field": "custom.nick", "op": "eq", "value": "кофеман"},
    {"tag": "vip"}, {"tag": "student"}, {"identifier": "email"}, {"identifier": "telegram"},
    {"consent": "email", "status": "granted"}, {"consent": "sms", "status": "unsubscribed"},
    {"birthday_within_days": 7}, {"birthday_within_days": 0},
    {"important_date": "anniversary", "within_days": 14},
    {"near_city": "Москва", "km": 200}, {"near_city": "Казань", "km": 1000},
    {"purchases": {"min_count": 1, "days": 30}}, {"purchases": {"min_count": 2, "days": 45, "category": "coffee"}},
    {"no_contact_days": 30},
    {"field": "figures.orders", "op": "gte", "value": 3}, {"field": "figures.orders", "op": "lt", "value": 1},
    {"field": "figures.total_spend", "op": "between", "value": [100000, 400000]},
    {"field": "figures.frequency", "op": "eq", "value": "regular"},
    {"field": "figures.last_purchase_at", "op": "older_than_days", "value": 90},
    {"field": "figures.last_purchase_at", "op": "is_not_set"},
    {"field": "score.probability_alive", "op": "lt", "value": 0.3},
    {"field": "score.segment", "op": "in", "value": ["at_risk", "lost"]},
    {"field": "score.clv", "op": "gte", "value": 1500},
    {"field": "score.next_purchase_at", "op": "within_next_days", "value": 14},
    {"field": "loyalty.balance", "op": "gt", "value": 100}, {"field": "loyalty.balance", "op": "eq", "value": 0},
    {"field": "loyalty.tier", "op": "eq", "value": "Gold"}, {"field": "loyalty.tier", "op": "is_not_set"},
]


@pytest.fixture
def people() -> list[world.Person]:
    world.build_world()
    return world.load_people()


def sql_ids(rule: dict) -> list[int]:
    return sorted(services.rule_queryset(services.parse_rule(rule), at=world.NOW).values_list("pk", flat=True))


def python_ids(rule: dict, people: list[world.Person]) -> list[int]:
    node = services.parse_rule(rule)
    return sorted(p.pk for p in people if world.evaluate(node, p))


def test_every_leaf_and_its_negation(people: list[world.Person]) -> None:
    nonempty = 0
    for leaf in LEAVES:
        expected = python_ids(leaf, people)
        assert sql_ids(leaf) == expected, leaf
        assert sql_ids({"not": leaf}) == python_ids({"not": leaf}, people), leaf
        nonempty += 0 < len(expected) < len(people)
    # The world is rich enough that most conditions split it (a test that always passes proves nothing).
    assert nonempty >= len(LEAVES) * 0.7


trees = st.recursive(
    st.sampled_from(LEAVES),
    lambda children: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, children)),
    max_leaves=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=trees)
def test_any_nested_rule(people: list[world.Person], rule: dict) -> None:
    assert sql_ids(rule) == python_ids(rule, people)


def test_segment_membership_condition_and_refresh_events(people: list[world.Person]) -> None:
    from clientbase.access.actor import SYSTEM
    from clientbase.segments.models import SegmentChange, SegmentMembership

    vip = services.save_segment({"name": "VIP", "rule": {"tag": "vip"}}, actor=SYSTEM)
    joined, left = services.refresh(vip, at=world.NOW)
    expected = python_ids({"tag": "vip"}, people)
    assert (joined, left) == (len(expected), 0)
    assert sorted(SegmentMembership.objects.filter(segment=vip).values_list("customer_id", flat=True)) == expected
    rule = {"all": [{"segment": vip.pk}, {"field": "city", "op": "eq", "value": "Москва"}]}
    assert sql_ids(rule) == python_ids({"all": [{"tag": "vip"}, {"field": "city", "op": "eq", "value": "Москва"}]},
                                       people)
    assert services.refresh(vip, at=world.NOW) == (0, 0)
    services.save_segment({"rule": {"all": [{"tag": "vip"}, {"identifier": "email"}]}}, actor=SYSTEM, segment=vip)
    still = python_ids({"all": [{"tag": "vip"}, {"identifier": "email"}]}, people)
    assert services.refresh(vip, at=world.NOW) == (0, len(expected) - len(still))
    assert SegmentChange.objects.filter(segment=vip, kind="joined").count() == len(expected)
    assert sorted(SegmentChange.objects.filter(segment=vip, kind="left").values_list("customer_id", flat=True)) == \
        sorted(set(expected) - set(still))
    assert vip.member_count == len(still)


@pytest.mark.parametrize(("rule", "path"), [
    ({}, "rule"),
    ({"all": []}, "rule.all"),
    ({"all": [{"field": "city", "op": "gt", "value": 3}]}, "rule.all.0.op"),
    ({"any": [{"tag": "vip"}, {"field": "shoe", "op": "eq", "value": 1}]}, "rule.any.1.field"),
    ({"not": {"field": "age", "op": "gte", "value": "thirty"}}, "rule.not.value"),
    ({"field": "custom.nope", "op": "eq", "value": 1}, "rule.field"),
    ({"purchases": {"min_count": 0, "days": 30}}, "rule.purchases.min_count"),
    ({"near_city": "Атлантида", "km": 5}, "rule.near_city"),
    ({"consent": "email", "status": "maybe"}, "rule.status"),
    ({"field": "score.segment", "op": "eq", "value": "heroes"}, "rule.value"),
    ({"field": "city", "op": "between", "value": ["a"]}, "rule.op"),
    ({"field": "figures.orders", "op": "between", "value": [5, 1]}, "rule.value"),
    ({"tag": "vip", "extra": 1}, "rule.extra"),
])
def test_bad_rules_name_the_json_path(rule: dict, path: str) -> None:
    from clientbase.core.errors import DomainValidationError

    with pytest.raises(DomainValidationError) as info:
        rules.parse(rule)
    assert info.value.errors[0].path == path
    assert info.value.errors[0].message
