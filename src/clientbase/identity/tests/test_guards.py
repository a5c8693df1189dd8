import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import reverse

from clientbase.access.tests.builders import make_user
from clientbase.core import fastsql
from clientbase.customers.models import Customer
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.models import Identifier, JunkPattern, Merge, ReviewCase
from clientbase.identity.selectors import identifier_owners, owners_found, owners_statement
from clientbase.identity.services import load_guards
from clientbase.interactions.tests.builders import ingest, make_event


@pytest.mark.parametrize(("kind", "junk"), [("phone", "0000000000"), ("phone", "1111111"), ("email", "null"),
                                            ("email", "anonymous"), ("phone", "-"), ("email", "test@test.com")])
def test_junk_values_never_link_anyone(kind: str, junk: str) -> None:
    report = ingest(make_event(identifiers={kind: junk, "instagram": "anna"}),
                    make_event(identifiers={kind: junk, "instagram": "boris"}))
    assert [r.status for r in report.results] == ["created", "created"]
    assert report.results[0].customer_id != report.results[1].customer_id
    assert not Identifier.objects.filter(kind=kind).exists()
    assert "ignored" in report.results[0].notes[0]


def test_junk_only_event_is_rejected_naming_identifiers() -> None:
    [result] = ingest(make_event(identifiers={"phone": "0000000000"})).results
    assert result.status == "rejected" and result.errors[0].path == "identifiers"


def test_admin_junk_pattern() -> None:
    JunkPattern.objects.create(kind="email", pattern=r"noreply@.*")
    report = ingest(make_event(identifiers={"email": "noreply@shop.ru", "vk": "anna"}),
                    make_event(identifiers={"email": "noreply@shop.ru", "vk": "boris"}))
    assert report.results[0].customer_id != report.results[1].customer_id


@override_settings(CLIENTBASE_IDENTIFIER_CAPS={"phone": 2})
def test_cap_per_kind_per_customer() -> None:
    report = ingest(make_event(identifiers={"email": "a@x.ru", "phone": ["+79161234567", "+79161234568",
                                                                         "+79161234569"]}))
    customer_id = report.results[0].customer_id or 0
    assert Identifier.objects.filter(customer_id=customer_id, kind="phone").count() == 2
    assert "cap" in report.results[0].notes[0]
    other = ingest(make_event(identifiers={"phone": "+79161234569"})).results[0]
    assert other.customer_id != customer_id


def test_two_verified_cards_go_to_review_not_merge() -> None:
    a = make_customer(phone="+79161234567", identifiers=[{"kind": "card", "value": "A001", "verified": True}])
    b = make_customer(phone="+79031112233", identifiers=[{"kind": "card", "value": "B002", "verified": True}])
    [result] = ingest(make_event(identifiers={"phone": "+79161234567", "card": "B002"})).results
    assert result.status == "created" and result.customer_id == a.pk
    case = ReviewCase.objects.get()
    assert (case.customer_a_id, case.customer_b_id, case.status) == (a.pk, b.pk, "open")
    assert result.review_id == case.pk
    assert not Merge.objects.exists()
    assert Customer.objects.filter(merged_into__isnull=True).count() == 2
    ingest(make_event(identifiers={"phone": "+79031112233", "card": "A001"}))
    assert ReviewCase.objects.count() == 1


def test_one_verified_card_merges() -> None:
    a = make_customer(phone="+79161234567", identifiers=[{"kind": "card", "value": "A001", "verified": True}])
    b = make_customer(phone="+79031112233", identifiers=[{"kind": "card", "value": "B002"}])
    ingest(make_event(identifiers={"phone": "+79161234567", "card": "B002"}))
    b.refresh_from_db()
    assert b.merged_into_id == a.pk


@pytest.mark.django_db(transaction=True)
def test_junk_patterns_are_kept_briefly_outside_a_transaction_and_an_admin_change_applies_at_once(
        client: Client) -> None:
    JunkPattern.objects.create(kind="email", pattern=r"noreply@.*")
    assert [p.pattern for _, p in load_guards().patterns] == ["noreply@.*"]
    # Written behind the admin's back (another process, say): this process still has the pattern it read ...
    JunkPattern.objects.create(kind="email", pattern=r"robot@.*")
    assert len(load_guards().patterns) == 1
    # ... but a transaction reads them afresh,
    with transaction.atomic():
        assert len(load_guards().patterns) == 2
    # and a change saved in the admin applies as soon as it is committed.
    client.force_login(make_user(role="admin"))
    response = client.post(reverse("admin:identity_junkpattern_add"), {"kind": "", "pattern": "x+", "note": ""})
    assert response.status_code == 302
    assert sorted(p.pattern for _, p in load_guards().patterns) == ["noreply@.*", "robot@.*", "x+"]
    assert ingest(make_event(identifiers={"email": "robot@shop.ru"})).results[0].status == "rejected"


def test_identifier_owners_across_kinds_and_the_holders_locked_in_the_same_statement() -> None:
    anna = make_customer(phone="+79161234567", identifiers=[{"kind": "email", "value": "anna@x.ru"}])
    boris = make_customer(phone="+79161234568")
    wanted = {("phone", "+79161234567"), ("email", "anna@x.ru"), ("phone", "+79161234568"), ("email", "no@x.ru")}
    expected = {("phone", "+79161234567"): anna.pk, ("email", "anna@x.ru"): anna.pk, ("phone", "+79161234568"): boris.pk}
    assert identifier_owners(wanted) == expected
    if connection.vendor == "postgresql":  # SQLite's IMMEDIATE transactions need no locks
        space = 0x636C6999
        assert owners_found(fastsql.rows(*owners_statement(wanted, lock_space=space))) == expected
        held = fastsql.rows("SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                            "AND classid = %s AND granted", [space])
        assert sorted(int(objid) for (objid,) in held) == sorted([anna.pk, boris.pk])
