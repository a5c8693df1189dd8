from typing import Any

import pytest

from clientbase.access.actor import SYSTEM
from clientbase.core.errors import DomainValidationError
from clientbase.customers.models import Customer, ProfileChange
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.consents import current_consents, set_consent
from clientbase.identity.merges import merge_customers
from clientbase.identity.models import Identifier, Merge
from clientbase.identity.unmerge import unmerge
from clientbase.interactions.models import Event
from clientbase.interactions.tests.builders import ingest, make_event


def snapshot(*customers: Customer) -> dict[int, Any]:
    result = {}
    for customer in customers:
        customer.refresh_from_db()
        result[customer.pk] = {
            "fields": (customer.first_name, customer.last_name, customer.city, customer.birth_date,
                       customer.merged_into_id, customer.custom),
            "identifiers": sorted(Identifier.objects.filter(customer=customer).values_list("kind", "value")),
            "events": sorted(Event.objects.filter(customer=customer).values_list("pk", flat=True)),
            "consents": current_consents(customer.pk),
            "tags": sorted(customer.tags.values_list("name", flat=True)),
            "dates": sorted(customer.important_dates.values_list("kind", "date")),
        }
    return result


def test_merge_moves_everything_and_keeps_losing_values_in_history() -> None:
    older = make_customer(phone="+79161234567", first_name="Иван", city="", tags=["vip"])
    newer = make_customer(phone="+79031112233", first_name="Ваня", city="Тверь", tags=["new"],
                          important_dates=[{"kind": "anniversary", "date": "2010-06-01"}])
    ingest(make_event(identifiers={"phone": "+79031112233"}, id="n1"))
    set_consent(older, "email", "granted")
    set_consent(newer, "email", "unsubscribed")
    merge = merge_customers(older, newer, actor=SYSTEM, reason="manual")
    older.refresh_from_db()
    newer.refresh_from_db()
    assert newer.merged_into_id == older.pk
    assert (older.first_name, older.city) == ("Иван", "Тверь")
    assert Identifier.objects.filter(customer=older).count() == 2
    assert Event.objects.get(external_id="n1").customer_id == older.pk
    assert current_consents(older.pk) == {"email": "unsubscribed"}
    assert sorted(older.tags.values_list("name", flat=True)) == ["new", "vip"]
    assert older.important_dates.count() == 1
    lost = ProfileChange.objects.get(customer=older, field="first_name", source=f"merge:{merge.pk}")
    assert (lost.old_value, lost.new_value) == ("Ваня", "Иван")


@pytest.mark.parametrize("unsubscribed_on", ["survivor", "absorbed"])
def test_the_stricter_consent_wins_even_when_the_other_is_newer(unsubscribed_on: str) -> None:
    """The person unsubscribed under one profile and later granted under the other: the merged customer
    stays unsubscribed (the latest row would say granted), and an unmerge gives each side its own back."""
    older = make_customer(phone="+79161234567")
    newer = make_customer(phone="+79031112233")
    strict, lax = (older, newer) if unsubscribed_on == "survivor" else (newer, older)
    set_consent(strict, "email", "unsubscribed")
    set_consent(lax, "email", "granted")
    merge = merge_customers(older, newer, actor=SYSTEM)
    assert current_consents(older.pk) == {"email": "unsubscribed"}
    unmerge(merge, actor=SYSTEM)
    assert current_consents(strict.pk) == {"email": "unsubscribed"}
    assert current_consents(lax.pk) == {"email": "granted"}


def test_an_ingest_merge_keeps_the_stricter_consent_of_the_absorbed_customer() -> None:
    older = make_customer(phone="+79161234567")
    newer = make_customer(phone="+79031112233")
    set_consent(newer, "sms", "unsubscribed")
    set_consent(older, "sms", "granted")
    report = ingest(make_event(identifiers={"phone": "+79161234567"}, id="k1"),
                    make_event(identifiers={"phone": "+79161234567", "email": "x@x.ru"}, id="k2"),
                    make_event(identifiers={"email": "x@x.ru", "phone": "+79031112233"}, id="k3"))
    assert report.results[2].merges == [{"merge_id": Merge.objects.get().pk, "survivor": older.pk,
                                         "absorbed": newer.pk}]
    assert current_consents(older.pk) == {"sms": "unsubscribed"}


def test_unmerge_restores_both_exactly() -> None:
    older = make_customer(phone="+79161234567", first_name="Иван", city="", tags=["vip"])
    newer = make_customer(phone="+79031112233", first_name="Ваня", city="Тверь",
                          important_dates=[{"kind": "anniversary", "date": "2010-06-01"}])
    ingest(make_event(identifiers={"phone": "+79031112233"}))
    set_consent(older, "email", "granted")
    set_consent(newer, "email", "unsubscribed")
    before = snapshot(older, newer)
    merge = merge_customers(older, newer, actor=SYSTEM)
    unmerge(merge, actor=SYSTEM)
    assert snapshot(older, newer) == before


def test_events_after_merge_follow_the_identifiers_they_came_with() -> None:
    older = make_customer(phone="+79161234567")
    newer = make_customer(phone="+79031112233")
    merge = merge_customers(older, newer, actor=SYSTEM)
    report = ingest(make_event(identifiers={"phone": "+79031112233", "email": "new@x.ru"}, id="a"),
                    make_event(identifiers={"phone": "+79161234567"}, id="b"),
                    make_event(identifiers={"email": "new@x.ru"}, id="c"))
    assert {r.customer_id for r in report.results} == {older.pk}
    unmerge(merge, actor=SYSTEM)
    assert Event.objects.get(external_id="a").customer_id == newer.pk
    assert Event.objects.get(external_id="b").customer_id == older.pk
    assert Event.objects.get(external_id="c").customer_id == newer.pk
    assert Identifier.objects.get(value="new@x.ru").customer_id == newer.pk


def test_unmerge_twice_is_refused() -> None:
    merge = merge_customers(make_customer(phone="+79161234567"), make_customer(phone="+79031112233"),
                            actor=SYSTEM)
    unmerge(merge, actor=SYSTEM)
    with pytest.raises(DomainValidationError, match="already undone"):
        unmerge(merge, actor=SYSTEM)


def test_chain_of_merges_in_one_batch_unmerges_step_by_step() -> None:
    a = make_customer(phone="+79161234567")
    b = make_customer(phone="+79031112233")
    c = make_customer(phone="+79051112233")
    before = snapshot(a, b, c)
    report = ingest(make_event(identifiers={"phone": ["+79031112233", "+79051112233"]}, id="bc"),
                    make_event(identifiers={"phone": ["+79161234567", "+79051112233"]}, id="ac"))
    assert [m["absorbed"] for r in report.results for m in r.merges] == [c.pk, b.pk]
    assert Identifier.objects.filter(customer=a).count() == 3
    first, second = Merge.objects.order_by("pk")
    assert sorted(second.moved["identity.Identifier"]) == sorted(
        Identifier.objects.filter(value__in=["+79031112233", "+79051112233"]).values_list("pk", flat=True))
    unmerge(second, actor=SYSTEM)
    unmerge(first, actor=SYSTEM)
    after = snapshot(a, b, c)
    for pk in before:
        assert after[pk]["identifiers"] == before[pk]["identifiers"]
        assert after[pk]["fields"] == before[pk]["fields"]


def test_participants_after_change_runs_only_where_its_probe_finds_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    from clientbase.identity import merges
    from clientbase.identity.participants import Participant

    table = Customer._meta.db_table
    called: dict[str, list[int]] = {}

    def probe_finding(ids: list[int]) -> tuple[str, list[Any]]:
        return f"SELECT id FROM {table} WHERE id = %s", [ids[0]]

    def probe_missing(ids: list[int]) -> tuple[str, list[Any]]:
        return f"SELECT id FROM {table} WHERE id = %s", [-1]

    def finding(ids: list[int]) -> None:
        called["finding"] = ids

    def missing(ids: list[int]) -> None:
        called["missing"] = ids

    def unprobed(ids: list[int]) -> None:
        called["unprobed"] = ids

    monkeypatch.setattr(merges, "participants", lambda: [
        Participant("customers.ImportantDate", after_change=finding, probe=probe_missing),
        Participant("identity.Identifier", after_change=finding, probe=probe_finding),  # one of two finds
        Participant("identity.Consent", after_change=missing, probe=probe_missing),
        Participant("interactions.Event", after_change=unprobed)])
    first, second = make_customer(phone="+79161234567"), make_customer(phone="+79031112233")
    merges.notify_participants([second.pk, first.pk])
    assert called == {"finding": [second.pk, first.pk], "unprobed": [second.pk, first.pk]}


def test_the_stricter_consent_is_current_even_after_a_row_dated_ahead_of_the_clock() -> None:
    import datetime

    from clientbase.core.clock import now
    from clientbase.identity.models import Consent

    older = make_customer(phone="+79161234567")
    newer = make_customer(phone="+79031112233")
    set_consent(newer, "email", "unsubscribed")
    Consent.objects.create(customer=older, channel="email", status="granted", source="event:pos/1",
                           at=now() + datetime.timedelta(hours=3))  # an event's own time, ahead of ours
    merge_customers(older, newer, actor=SYSTEM)
    assert current_consents(older.pk) == {"email": "unsubscribed"}


def test_a_participant_without_a_probe_keeps_its_shared_callback_called(monkeypatch: pytest.MonkeyPatch) -> None:
    from clientbase.identity import merges
    from clientbase.identity.participants import Participant

    called: list[list[int]] = []

    def never(ids: list[int]) -> tuple[str, list[Any]]:
        return f"SELECT id FROM {Customer._meta.db_table} WHERE id = %s", [-1]

    monkeypatch.setattr(merges, "participants", lambda: [
        Participant("identity.Identifier", after_change=called.append, probe=never),
        Participant("identity.Consent", after_change=called.append)])
    customer = make_customer(phone="+79161234567")
    merges.notify_participants([customer.pk])
    assert called == [[customer.pk]]


def test_an_undone_merge_stays_undone_when_an_event_links_the_pair_again() -> None:
    """Unmerging says they are two people: an event carrying both their identifiers attaches to one of
    them and says why it merged nothing, in bulk and alone; a person can still merge them by hand."""
    from clientbase.identity.models import ReviewCase, ReviewStatus

    older = make_customer(phone="+79161234567")
    newer = make_customer(phone=None, identifiers=[{"kind": "email", "value": "anna@example.com"}])
    merge = merge_customers(older, newer, actor=SYSTEM)
    unmerge(merge, actor=SYSTEM)
    case = ReviewCase.objects.get()
    assert (case.customer_a_id, case.customer_b_id, case.status) == (older.pk, newer.pk, ReviewStatus.KEPT_APART)
    report = ingest(make_event(identifiers={"phone": "+79161234567", "email": "anna@example.com"}, id="bulk"),
                    make_event(identifiers={"phone": "8 916 123-45-67"}, id="other"))
    alone = ingest(make_event(identifiers={"email": "anna@example.com", "phone": "+79161234567"}, id="alone"))
    for result in (report.results[0], alone.results[0]):
        assert result.status == "created" and not result.merges
        assert f"Customers #{older.pk} and #{newer.pk} not merged" in " ".join(result.notes)
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0
    assert Merge.objects.filter(unmerged_at__isnull=True).count() == 0
    again = merge_customers(older, newer, actor=SYSTEM)  # by hand: a person decides
    assert again.absorbed_id == newer.pk


def test_a_pair_kept_apart_stays_apart_after_one_of_them_is_merged_into_someone_else() -> None:
    """Anna and Boris were merged by mistake and the merge undone. Boris's profile is later merged into a
    third one (his card): an event carrying Anna's phone and Boris's card links Anna to the survivor, which
    now holds Boris. It merges nothing and says why; so does the same chain within one batch."""
    card = make_customer(phone=None, identifiers=[{"kind": "card", "value": "0001234"}])  # the oldest: survives
    anna = make_customer(phone="+79161234567")
    boris = make_customer(phone=None, identifiers=[{"kind": "email", "value": "boris@example.com"}])
    unmerge(merge_customers(anna, boris, actor=SYSTEM), actor=SYSTEM)
    first = ingest(make_event(identifiers={"email": "boris@example.com", "card": "0001234"}, id="link"))
    assert first.results[0].merges == [{"merge_id": first.results[0].merges[0]["merge_id"], "survivor": card.pk,
                                        "absorbed": boris.pk}]
    report = ingest(make_event(identifiers={"phone": "+79161234567", "card": "0001234"}, id="again"))
    assert not report.results[0].merges
    assert f"Customers #{card.pk} and #{anna.pk} not merged" in " ".join(report.results[0].notes)
    assert Customer.objects.get(pk=anna.pk).merged_into_id is None


def test_a_pair_kept_apart_stays_apart_when_the_chain_forms_within_one_batch() -> None:
    card = make_customer(phone=None, identifiers=[{"kind": "card", "value": "0001234"}])
    anna = make_customer(phone="+79161234567")
    boris = make_customer(phone=None, identifiers=[{"kind": "email", "value": "boris@example.com"}])
    unmerge(merge_customers(anna, boris, actor=SYSTEM), actor=SYSTEM)
    report = ingest(make_event(identifiers={"email": "boris@example.com", "card": "0001234"}, id="link"),
                    make_event(identifiers={"phone": "+79161234567", "card": "0001234"}, id="again"),
                    make_event(identifiers={"phone": "+79161234567"}, id="pad"))
    assert [len(r.merges) for r in report.results] == [1, 0, 0]
    assert "not merged" in " ".join(report.results[1].notes)
    assert Customer.objects.get(pk=anna.pk).merged_into_id is None
    assert Customer.objects.get(pk=boris.pk).merged_into_id == card.pk
