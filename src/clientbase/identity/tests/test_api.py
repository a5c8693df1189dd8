from clientbase.access.tests.builders import make_token
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.models import ReviewCase
from clientbase.interactions.tests.builders import ingest, make_event
from clientbase.interactions.tests.test_api import call


def test_manual_merge_tombstone_and_unmerge_for_admins() -> None:
    a, b = make_customer(phone="+79161234567"), make_customer(phone="+79031112233")
    marketer = make_token(role="marketer")
    status, body = call("post", f"/customers/{a.pk}/merge", marketer, {"absorbed_id": b.pk})
    assert status == 201 and body["moved"]["identity.Identifier"]
    status, tomb = call("get", f"/customers/{b.pk}", marketer)
    assert status == 200 and tomb["merged_into"] == a.pk
    status, history = call("get", f"/customers/{b.pk}/merges", marketer)
    assert [m["id"] for m in history] == [body["id"]]
    status, _ = call("post", f"/merges/{body['id']}/unmerge", marketer)
    assert status == 403
    status, undone = call("post", f"/merges/{body['id']}/unmerge", make_token(role="admin"))
    assert status == 200 and undone["unmerged_at"]
    b.refresh_from_db()
    assert b.merged_into_id is None


def test_review_queue_list_and_resolve() -> None:
    make_customer(phone="+79161234567", identifiers=[{"kind": "card", "value": "A001", "verified": True}])
    b = make_customer(phone="+79031112233", identifiers=[{"kind": "card", "value": "B002", "verified": True}])
    ingest(make_event(identifiers={"phone": "+79161234567", "card": "B002"}))
    token = make_token(role="marketer")
    status, cases = call("get", "/identity/reviews", token)
    assert status == 200 and len(cases) == 1
    status, body = call("post", f"/identity/reviews/{cases[0]['id']}/resolve", token, {"action": "merge"})
    assert status == 200 and body["status"] == "merged" and body["merge_id"]
    b.refresh_from_db()
    assert b.merged_into_id is not None
    assert ReviewCase.objects.get().status == "merged"


def test_review_queue_shows_a_team_only_cases_between_its_own_customers() -> None:
    from django.utils import timezone

    from clientbase.access.actor import Actor
    from clientbase.access.models import Team
    from clientbase.identity.selectors import review_queue

    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    a = make_customer(phone="+79161234567", team_id=north.pk)
    b = make_customer(phone="+79031112233", team_id=north.pk)
    c = make_customer(phone="+79035556677", team_id=south.pk)
    ours = ReviewCase.objects.create(customer_a=a, customer_b=b, reason="cards", created_at=timezone.now())
    ReviewCase.objects.create(customer_a=a, customer_b=c, reason="cards", created_at=timezone.now())
    manager = Actor(user=None, role="manager", team_id=north.pk)
    assert [case.pk for case in review_queue(manager)] == [ours.pk]
    assert review_queue(Actor(user=None, role="manager", team_id=None)).count() == 0
    assert review_queue(Actor(user=None, role="admin")).count() == 2


def test_a_merged_customer_refuses_changes_and_names_its_survivor() -> None:
    """A tombstone changes only by unmerge: an identifier added to it would file later events under a
    profile no one sees. Every write entry point answers 409 with the survivor at the end of the chain."""
    from clientbase.access.actor import SYSTEM
    from clientbase.identity.merges import merge_customers

    first, middle, last = (make_customer(phone=p) for p in ("+79161234567", "+79031112233", "+79035556677"))
    merge_customers(middle, last, actor=SYSTEM)
    merge_customers(first, middle, actor=SYSTEM)
    token = make_token(role="admin")
    for method, path, body in [
        ("patch", f"/customers/{last.pk}", {"city": "Тверь"}),
        ("post", f"/customers/{last.pk}/identifiers", {"kind": "email", "value": "tomb@example.com"}),
        ("post", "/engagement/tasks", {"customer_id": last.pk, "kind": "call", "title": "Позвонить",
                                       "due_at": "2026-12-08T10:00:00+03:00"}),
        ("post", "/orders", {"customer_id": last.pk, "lines": [{"sku": "латте", "quantity": 1, "price": 25000}]}),
    ]:
        status, answer = call(method, path, token, body)
        assert status == 409, (path, status, answer)
        assert answer["merged_into"] == first.pk
        assert answer["errors"][0]["path"] == "customer_id" and f"#{first.pk}" in answer["errors"][0]["message"]
    last.refresh_from_db()
    assert last.city == "" and not last.identifiers.exists()
    status, tomb = call("get", f"/customers/{last.pk}", token)  # reading it still works, and says where it went
    assert status == 200 and tomb["merged_into"] == middle.pk
    status, _ = call("patch", f"/customers/{first.pk}", token, {"city": "Тверь"})
    assert status == 200


def test_the_current_consent_per_channel_is_shown_on_the_card_and_in_the_api() -> None:
    from django.test import Client

    from clientbase.access.tests.builders import make_user
    from clientbase.identity.consents import set_consent

    customer = make_customer(phone="+79161234567")
    set_consent(customer, "email", "granted", source="form")
    set_consent(customer, "email", "unsubscribed", source="link")
    set_consent(customer, "sms", "denied")
    status, body = call("get", f"/customers/{customer.pk}/consents", make_token(role="marketer"))
    assert status == 200
    assert [(c["channel"], c["status"], c["source"]) for c in body] == [("email", "unsubscribed", "link"),
                                                                      ("sms", "denied", "")]
    client = Client()
    client.force_login(make_user(role="marketer"))  # type: ignore[arg-type]
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    section = html[html.index('id="section-consents"'):]
    assert "Unsubscribed" in section and "Denied" in section and "Email" in section and "link" in section
    nobody = make_customer(phone="+79031112233")
    html = client.get(f"/customers/{nobody.pk}/").content.decode()
    assert "No choice recorded on any channel." in html
