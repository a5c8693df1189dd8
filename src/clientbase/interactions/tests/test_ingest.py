import pytest

from clientbase.customers.models import Customer, ProfileChange
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.models import Identifier, Merge
from clientbase.interactions.models import Event
from clientbase.interactions.tests.builders import ingest, make_event


def test_unknown_identifiers_create_a_customer_with_traits_and_history() -> None:
    report = ingest(make_event(identifiers={"phone": "8 (916) 123-45-67", "email": "Ivan@Mail.ru"},
                               traits={"first_name": "Иван", "birth_date": "1990-05-01"}, channel="pos"))
    [result] = report.results
    assert result.status == "created"
    customer = Customer.objects.get(pk=report.results[0].customer_id or 0)
    assert customer.first_name == "Иван" and str(customer.birth_date) == "1990-05-01"
    assert sorted(customer.identifiers.values_list("kind", "value")) == [
        ("email", "ivan@mail.ru"), ("phone", "+79161234567")]
    # The event that creates a customer writes one "created" row with every first value and its channel.
    [created] = ProfileChange.objects.filter(customer=customer)
    assert (created.field, created.old_value, created.source) == ("created", None, "pos")
    assert created.new_value == {"first_name": "Иван", "birth_date": "1990-05-01",
                                 "identifiers.phone": ["+79161234567"], "identifiers.email": ["ivan@mail.ru"]}
    assert Event.objects.get().identifiers == ["phone:+79161234567", "email:ivan@mail.ru"]


def test_known_identifier_attaches_and_traits_only_fill_empty_fields() -> None:
    customer = make_customer(phone="+79161234567", first_name="Иван", last_name="")
    [result] = ingest(make_event(traits={"first_name": "Ваня", "last_name": "Петров"})).results
    assert result.customer_id == customer.pk
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name) == ("Иван", "Петров")
    assert Customer.objects.count() == 1


def test_replay_is_duplicate_and_changes_nothing() -> None:
    event = make_event(id="x1")
    first = ingest(event).results[0]
    again = ingest(event, make_event(id="x1")).results
    assert [r.status for r in again] == ["duplicate", "duplicate"]
    assert again[0].customer_id == first.customer_id
    assert Event.objects.count() == 1


def test_rejected_event_does_not_block_others_and_stores_nothing() -> None:
    report = ingest(make_event(identifiers={"phone": "12"}), make_event(identifiers={"email": "a@b.ru"}),
                    make_event(traits={"birth_date": "not a date"}, identifiers={"email": "c@d.ru"}))
    assert [r.status for r in report.results] == ["rejected", "created", "rejected"]
    assert report.results[0].errors[0].path == "identifiers.phone"
    assert report.results[2].errors[0].path == "traits.birth_date"
    assert Event.objects.count() == 1 and Customer.objects.count() == 1


def test_a_channel_that_is_no_text_and_an_impossible_date_are_rejected_like_any_bad_field() -> None:
    # Both once escaped as TypeError / ValueError and failed the whole request.
    report = ingest(make_event(channel=["web"]), make_event(occurred_at="2026-13-45T10:00:00+03:00"),
                    make_event(channel={"web": 1}, identifiers={"email": "x@y.ru"}),
                    make_event(identifiers={"email": "a@b.ru"}))
    assert [r.status for r in report.results] == ["rejected", "rejected", "rejected", "created"]
    assert [[e.path for e in r.errors] for r in report.results[:3]] == [["channel"], ["occurred_at"], ["channel"]]
    assert Event.objects.count() == 1 and Customer.objects.count() == 1


def test_text_no_database_can_store_rejects_its_event_only() -> None:
    # JSON's "\\ud800" decodes to an unpaired surrogate, which neither driver can encode.
    bad = "x\ud800"
    report = ingest(make_event(id=bad), make_event(identifiers={"external": f"crm:{bad}"}),
                    make_event(identifiers={"email": "a@b.ru"}, data={"text": bad}),
                    make_event(identifiers={"email": "c@d.ru"}, traits={"first_name": bad}),
                    make_event(identifiers={"email": "g@h.ru"}, consent={bad: "granted"}),
                    make_event(identifiers={"email": "e@f.ru"}))
    assert [r.status for r in report.results] == ["rejected"] * 5 + ["created"]
    assert [[e.path for e in r.errors] for r in report.results[:5]] == [
        ["id"], ["identifiers.external"], ["data.text"], ["traits.first_name"], ["consent"]]
    assert Event.objects.count() == 1 and Customer.objects.count() == 1


def test_event_linking_two_customers_merges_them() -> None:
    older = make_customer(phone="+79161234567")
    newer = make_customer(phone=None, identifiers=[{"kind": "email", "value": "a@b.ru"}])
    [result] = ingest(make_event(identifiers={"phone": "+79161234567", "email": "a@b.ru"})).results
    assert result.customer_id == older.pk
    assert result.merges[0]["absorbed"] == newer.pk
    newer.refresh_from_db()
    assert newer.merged_into_id == older.pk
    assert Identifier.objects.filter(customer=older).count() == 2
    assert Merge.objects.count() == 1


def test_batch_resolves_like_one_by_one() -> None:
    events = [make_event(identifiers={"instagram": "@ivan"}), make_event(identifiers={"email": "i@x.ru"}),
              make_event(identifiers={"instagram": "ivan", "phone": "+79161234567"}),
              make_event(identifiers={"phone": "+79161234567", "email": "i@x.ru"})]
    report = ingest(*events)
    assert len({r.customer_id for r in report.results}) == 1
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1


def test_later_events_of_the_batch_write_per_field_history_as_one_by_one() -> None:
    def history(customer_id: int | None) -> list[tuple[str, object, str]]:
        assert customer_id is not None
        rows = ProfileChange.objects.filter(customer_id=customer_id).order_by("id")
        return [(r.field, r.new_value, r.source) for r in rows]

    def events(phone: str) -> list[dict[str, object]]:
        return [make_event(identifiers={"phone": phone}, traits={"first_name": "Иван"}, channel="pos"),
                make_event(identifiers={"phone": phone, "email": f"{phone[-4:]}@x.ru"},
                           traits={"first_name": "Ваня", "city": "Тула"}, channel="telegram")]

    in_batch = ingest(*events("+79161234567")).results[0].customer_id
    one, two = events("+79167654321")
    one_by_one = ingest(one).results[0].customer_id
    ingest(two)
    assert history(in_batch) == [
        ("created", {"first_name": "Иван", "identifiers.phone": ["+79161234567"]}, "pos"),
        ("city", "Тула", "telegram"), ("identifiers.email", "4567@x.ru", "telegram")]
    assert history(one_by_one) == [
        ("created", {"first_name": "Иван", "identifiers.phone": ["+79167654321"]}, "pos"),
        ("city", "Тула", "telegram"), ("identifiers.email", "4321@x.ru", "telegram")]


@pytest.mark.django_db(transaction=True)
def test_a_lone_resent_event_outside_a_transaction_is_a_duplicate_that_stores_nothing() -> None:
    # A single-event request skips the lookup of (source, id): the unique constraint stops the resend,
    # and the retry reports it. Nothing of the rolled-back attempt may remain (here: a new customer).
    first = ingest(make_event(id="r1", identifiers={"phone": "+79161234567"})).results[0]
    customers, changes = Customer.objects.count(), ProfileChange.objects.count()
    [again] = ingest(make_event(id="r1", identifiers={"email": "someone.new@x.ru"},
                                traits={"first_name": "Пётр"})).results
    assert (again.status, again.customer_id) == ("duplicate", first.customer_id)
    assert Event.objects.count() == 1
    assert (Customer.objects.count(), ProfileChange.objects.count()) == (customers, changes)
    assert not Identifier.objects.filter(kind="email").exists()


def test_a_message_or_call_with_a_direction_or_duration_the_timeline_cannot_show_is_rejected() -> None:
    report = ingest(
        make_event(id="ok", type="message", channel="viber", data={"direction": "outbound", "text": "Ждём вас",
                                                                    "thread": 9}),
        make_event(id="side", type="message", channel="viber", data={"direction": "sideways", "text": "?"}),
        make_event(id="num", type="message", channel="viber", data={"text": 42}),
        make_event(id="long", type="call", channel="phone", data={"direction": "inbound", "duration_seconds": -5}),
        make_event(id="other", type="visit", channel="web", data={"direction": "sideways"}))  # not a dialog
    assert [(r.status, [e.path for e in r.errors]) for r in report.results] == [
        ("created", []), ("rejected", ["data.direction"]), ("rejected", ["data.text"]),
        ("rejected", ["data.duration_seconds"]), ("created", [])]
    assert set(Event.objects.values_list("external_id", flat=True)) == {"ok", "other"}


def test_a_replaced_card_stops_identifying_the_customer() -> None:
    ivan = make_customer(phone="+79161234567", identifiers=[{"kind": "card", "value": "OLD7777", "verified": True}])
    make_customer(phone="+79031112233", identifiers=[{"kind": "card", "value": "OTHER1"}])
    report = ingest(make_event(id="new", type="card_replaced", channel="pos",
                               identifiers={"phone": "+79161234567", "card": "NEW8888"}, data={"replaces": "old7777"}),
                    make_event(id="theft", type="card_replaced", channel="pos",
                               identifiers={"phone": "+79161234567"}, data={"replaces": "OTHER1"}))
    assert [(r.status, r.customer_id) for r in report.results[:1]] == [("created", ivan.pk)]
    assert report.results[1].status == "rejected" and report.results[1].errors[0].path == "data.replaces"
    assert set(ivan.identifiers.filter(kind="card").values_list("value", flat=True)) == {"NEW8888"}
    removal = ProfileChange.objects.get(customer=ivan, field="identifiers.card", source="event:test/new")
    assert removal.old_value == "OLD7777" and removal.new_value is None
    found = ingest(make_event(id="found", identifiers={"card": "OLD7777"}))  # the lost card turns up
    assert found.results[0].customer_id not in (ivan.pk, None)


def test_consent_for_an_unknown_channel_is_rejected_with_every_bad_channel_named() -> None:
    report = ingest(make_event(id="bad", consent={"email": "maybe", "pigeon": "granted"}),
                    make_event(id="ok", consent={"email": "unsubscribed", "telegram": "granted"}))
    assert report.results[0].status == "rejected"
    assert sorted(e.path for e in report.results[0].errors) == ["consent.email", "consent.pigeon"]
    assert report.results[1].status == "created"
