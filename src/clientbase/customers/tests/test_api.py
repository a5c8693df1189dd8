"""The customers API over HTTP: access (R9.1), scopes, lookup, search, paging, errors (R10.2)."""

import json
from typing import Any

import pytest
from django.test import Client

from clientbase.access.models import ApiToken, Team
from clientbase.access.services import revoke_token
from clientbase.access.tests.builders import make_token, make_user
from clientbase.customers.models import Customer, ProfileChange
from clientbase.customers.tests.builders import make_customer


def call(method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    client = Client()
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    response = getattr(client, method)(f"/api/v1{path}", **kwargs)
    return response.status_code, (response.json() if response.content else None)


def test_create_read_and_lookup_in_any_phone_format() -> None:
    token = make_token(role="support")
    status, body = call("post", "/customers", token, {
        "first_name": "Ольга", "last_name": "Смирнова", "birth_date": "1985-07-14",
        "identifiers": [{"kind": "phone", "value": "+7 916 123-45-67"}, {"kind": "email", "value": "Olga@Mail.RU"}],
        "contact_days": [1, 2, 3], "contact_from": "10:00", "contact_to": "14:00",
    })
    assert status == 201, body
    assert body["display_name"] == "Смирнова Ольга"
    assert body["contact_window"] == {"days": [1, 2, 3], "from_time": "10:00", "to_time": "14:00",
                                      "time_zone": "Europe/Moscow"}
    for spelling in ["8 (916) 123-45-67", "89161234567", "+79161234567", "916 123 45 67"]:
        status, found = call("get", f"/customers/lookup?phone={spelling}", token)
        assert (status, found["id"]) == (200, body["id"])
    status, found = call("get", "/customers/lookup?email=OLGA@mail.ru", token)
    assert found["id"] == body["id"]
    status, missing = call("get", "/customers/lookup?phone=+79160000001", token)
    assert status == 404
    status, bad = call("get", "/customers/lookup?phone=12", token)
    assert status == 422 and bad["errors"][0]["path"] == "phone"


def test_validation_errors_are_json_with_the_field_path() -> None:
    token = make_token()
    status, body = call("post", "/customers", token, {"birth_date": "yesterday", "colour": "red",
                                                      "identifiers": [{"kind": "phone", "value": "x"}]})
    assert status == 422
    assert body["errors"][0]["path"] == "colour"  # unknown fields are refused before anything else
    status, body = call("post", "/customers", token, {"birth_date": "yesterday",
                                                      "identifiers": [{"kind": "phone", "value": "x"}]})
    assert status == 422
    assert [e["path"] for e in body["errors"]] == ["birth_date"]
    status, body = call("post", "/customers", token, {"identifiers": [{"kind": "phone", "value": "x"}]})
    assert [e["path"] for e in body["errors"]] == ["identifiers.0.value"]
    assert Customer.objects.count() == 0


def test_a_manager_sees_and_edits_only_their_team() -> None:
    north = make_token(role="manager", team="North")
    south_team = Team.objects.create(name="South")
    theirs = make_customer(phone="+79161111111", team_id=south_team.pk)
    status, mine = call("post", "/customers", north, {"first_name": "Пётр",
                                                      "identifiers": [{"kind": "phone", "value": "89162222222"}]})
    assert status == 201 and mine["team_id"] == Team.objects.get(name="North").pk
    assert call("get", f"/customers/{theirs.pk}", north)[0] == 404
    assert call("patch", f"/customers/{theirs.pk}", north, {"city": "Тверь"})[0] == 404
    assert call("get", f"/customers/{theirs.pk}/history", north)[0] == 404
    status, body = call("get", "/customers/lookup?phone=89161111111", north)
    assert status == 404 and f"#{theirs.pk}" not in body["errors"][0]["message"]
    status, body = call("post", "/customers", north, {"identifiers": [{"kind": "phone", "value": "89161111111"}]})
    assert status == 422 and body["errors"][0]["message"] == "+79161111111 already belongs to another customer."
    assert call("get", "/customers/search?q=89161111111", north)[1] == []
    status, page = call("get", "/customers", north)
    assert [c["id"] for c in page["items"]] == [mine["id"]]
    assert call("patch", f"/customers/{mine['id']}", north, {"team_id": south_team.pk})[0] == 403
    assert Customer.objects.get(pk=theirs.pk).city == ""
    admin = make_token(role="admin")
    assert call("get", f"/customers/{theirs.pk}", admin)[0] == 200


def test_token_scopes_are_enforced_and_tokens_revocable() -> None:
    reader = make_token(role="admin", scopes=["customers:read"])
    customer = make_customer()
    assert call("get", f"/customers/{customer.pk}", reader)[0] == 200
    status, body = call("patch", f"/customers/{customer.pk}", reader, {"city": "Омск"})
    assert status == 403 and "customers:write" in body["errors"][0]["message"]
    assert call("post", "/custom-fields", reader, {"key": "x", "type": "text"})[0] == 403
    assert Customer.objects.get(pk=customer.pk).city == ""
    # A token never gets more than its user's role allows.
    support = make_token(role="support", scopes=["customers:read", "admin"])
    assert call("post", "/custom-fields", support, {"key": "x", "type": "text"})[0] == 403
    token = ApiToken.objects.get(digest__isnull=False, scopes=["customers:read"])
    assert token.last_used_at is not None
    revoke_token(token)
    assert call("get", f"/customers/{customer.pk}", reader)[0] == 401
    assert call("get", f"/customers/{customer.pk}", "cb_not-a-token")[0] == 401


def test_a_wrong_token_is_401_and_a_session_post_needs_its_csrf_token() -> None:
    """Django's CSRF check applies to requests made with the session cookie only (test clients skip it
    unless asked): a script's POST with a wrong bearer token learns that the token is wrong."""
    client = Client(enforce_csrf_checks=True)
    body = json.dumps({"first_name": "Ольга"})
    response = client.post("/api/v1/customers", body, content_type="application/json",
                           HTTP_AUTHORIZATION="Bearer cb_not-a-token")
    assert response.status_code == 401
    assert client.post("/api/v1/customers", body, content_type="application/json").status_code == 401
    user = make_user(role="support", username="olga-at-the-desk")
    client.force_login(user)
    response = client.post("/api/v1/customers", body, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.content.decode()
    client.get("/")  # a page sets the CSRF cookie its forms and htmx requests send back
    response = client.post("/api/v1/customers", body, content_type="application/json",
                           HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 201, response.content


def test_tokens_are_stored_hashed() -> None:
    plain = make_token()
    token = ApiToken.objects.get()
    assert plain not in (token.digest, token.prefix) and len(token.digest) == 64


def test_update_and_history_through_the_api() -> None:
    token = make_token(role="marketer")
    customer = make_customer()
    status, body = call("patch", f"/customers/{customer.pk}", token, {"city": "Пермь", "tags": ["кофеман"]})
    assert status == 200 and body["city"] == "Пермь" and body["tags"] == ["кофеман"]
    status, history = call("get", f"/customers/{customer.pk}/history?field=city", token)
    assert len(history) == 1
    assert history[0]["old_value"] == "" and history[0]["new_value"] == "Пермь"
    assert history[0]["channel"] == "api" and history[0]["token"].startswith("cb_")
    assert history[0]["user"].startswith("marketer")
    assert ProfileChange.objects.filter(customer=customer).count() == 5


def test_cursor_pagination_visits_every_customer_once() -> None:
    token = make_token()
    ids = {make_customer(phone=f"+7916000{i:04d}").pk for i in range(7)}
    seen: list[int] = []
    cursor = None
    while True:
        path = "/customers?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, page = call("get", path, token)
        assert status == 200
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids)
    assert call("get", "/customers?cursor=garbage!", token)[0] == 422


def test_search_by_name_tolerates_typos_and_finds_identifiers() -> None:
    token = make_token()
    target = make_customer(phone="+79163334455", first_name="Александр", last_name="Кузнецов")
    make_customer(phone="+79163334466", first_name="Мария", last_name="Иванова")
    for query in ["Кузнецов", "кузнецов александр", "Кузнесов", "Кузнецоф Алексндр", "+7 916 333-44-55"]:
        status, results = call("get", f"/customers/search?q={query}", token)
        assert status == 200
        assert results and results[0]["id"] == target.pk, query
    assert call("get", "/customers/search?q=Зеленский", token)[1] == []


def test_search_finds_a_messenger_or_social_handle_in_any_spelling() -> None:
    from urllib.parse import quote

    token = make_token()
    anna = make_customer(phone="+79163334455", first_name="Анна",
                         identifiers=[{"kind": "instagram", "value": "anna.coffee.lover"},
                                      {"kind": "telegram", "value": "@Zhanna_F"}])
    for query in ["anna.coffee.lover", "@anna.coffee.lover", "https://instagram.com/anna.coffee.lover/",
                  "@zhanna_f", "t.me/Zhanna_F"]:
        status, results = call("get", f"/customers/search?q={quote(query)}", token)
        assert status == 200 and [r["id"] for r in results] == [anna.pk], query


def test_search_by_part_of_a_phone_or_card_number() -> None:
    """The last digits of a phone, as a cashier asks for them, in any spelling: numbers ending with them
    first, then those holding them elsewhere; fewer than four digits are not a search."""
    from urllib.parse import quote

    token = make_token()
    ends = make_customer(phone="+79161234567", first_name="Ольга")
    inside = make_customer(phone="+79164567123", first_name="Пётр")
    card = make_customer(phone="+79035550000", first_name="Анна", identifiers=[{"kind": "card", "value": "CB-004567"}])
    whatsapp = make_customer(phone=None, first_name="Ким", identifiers=[{"kind": "whatsapp", "value": "+79267774567"}])
    make_customer(phone="+79035551111", first_name="Борис")
    for query in ["4567", "45-67", " 4 5 6 7 "]:
        status, results = call("get", f"/customers/search?q={quote(query)}", token)
        assert status == 200 and [r["id"] for r in results] == [ends.pk, card.pk, whatsapp.pk, inside.pk], query
    assert [r["id"] for r in call("get", "/customers/search?q=234567", token)[1]] == [ends.pk]
    assert [r["id"] for r in call("get", "/customers/search?q=4567&limit=2", token)[1]] == [ends.pk, card.pk]
    assert [r["id"] for r in call("get", f"/customers/search?q={quote('916 456')}", token)[1]] == [inside.pk]
    assert call("get", "/customers/search?q=567", token)[1] == []
    assert call("get", "/customers/search?q=0000000", token)[1] == []  # nobody's number holds it


def test_search_by_part_of_a_number_keeps_to_what_the_searcher_may_see() -> None:
    """Another team's customer and a merged tombstone are not found by their digits; the survivor is."""
    from clientbase.access.actor import SYSTEM
    from clientbase.identity.merges import merge_customers

    north = make_token(role="manager", team="North")
    north_team, south_team = Team.objects.get(name="North"), Team.objects.create(name="South")
    mine = make_customer(phone="+79161114567", team_id=north_team.pk)
    make_customer(phone="+79162224567", team_id=south_team.pk)
    survivor = make_customer(phone="+79163334567", team_id=north_team.pk)
    absorbed = make_customer(phone="+79165554567", team_id=north_team.pk)
    merge_customers(survivor, absorbed, actor=SYSTEM)
    assert [r["id"] for r in call("get", "/customers/search?q=4567", north)[1]] == [mine.pk, survivor.pk]
    assert [r["id"] for r in call("get", "/customers/search?q=5554567", north)[1]] == [survivor.pk]


def test_custom_fields_from_the_api() -> None:
    admin = make_token()
    status, field = call("post", "/custom-fields", admin, {"key": "shirt", "label": "Размер футболки",
                                                           "type": "choice", "choices": ["S", "M", "L"]})
    assert status == 201
    status, body = call("post", "/custom-fields", admin, {"key": "shirt", "type": "text"})
    assert status == 422 and body["errors"][0]["path"] == "key"
    customer = make_customer()
    status, body = call("patch", f"/customers/{customer.pk}", admin, {"custom": {"shirt": "XXL"}})
    assert status == 422 and body["errors"][0]["path"] == "custom.shirt"
    assert call("patch", f"/customers/{customer.pk}", admin, {"custom": {"shirt": "M"}})[0] == 200
    status, page = call("get", "/customers?custom_key=shirt&custom_value=M", admin)
    assert [c["id"] for c in page["items"]] == [customer.pk]
    assert call("get", "/customers?custom_key=nope&custom_value=M", admin)[0] == 422
    assert call("get", "/custom-fields", admin)[1][0]["choices"] == ["S", "M", "L"]


def test_the_openapi_description_is_served() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/customers/lookup" in paths and "/api/v1/customers/{customer_id}/history" in paths


@pytest.mark.parametrize("role", ["admin", "marketer", "support"])
def test_other_roles_see_every_team(role: str) -> None:
    south = Team.objects.create(name="South")
    customer = make_customer(team_id=south.pk)
    assert call("get", f"/customers/{customer.pk}", make_token(role=role))[0] == 200


def test_the_api_docs_page_uses_no_cdn() -> None:
    page = Client().get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in page and "cdn." not in page
