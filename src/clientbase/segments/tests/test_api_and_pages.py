"""Segments over HTTP: CRUD, live count, members within the team, refresh, export permission, pages."""

import json
from typing import Any

from django.test import Client

from clientbase.access.models import Team
from clientbase.access.tests.builders import make_token, make_user
from clientbase.customers.tests.builders import make_customer
from clientbase.segments.models import Segment, SegmentChange


def call(method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    response = getattr(Client(), method)(f"/api/v1{path}", **kwargs)
    is_json = response.get("Content-Type", "").startswith("application/json")
    return response.status_code, (response.json() if is_json and response.content else response)


def test_crud_count_members_refresh_and_export() -> None:
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    a = make_customer(phone="+79160000001", city="Казань", team_id=north.pk)
    b = make_customer(phone="+79160000002", city="Казань", team_id=south.pk)
    make_customer(phone="+79160000003", city="Омск", team_id=north.pk)
    marketer = make_token(role="marketer")
    rule = {"field": "city", "op": "eq", "value": "Казань"}
    status, counted = call("post", "/segments/count", marketer, {"rule": rule})
    assert (status, counted["count"]) == (200, 2)
    status, bad = call("post", "/segments/count", marketer, {"rule": {"all": [{"field": "city", "op": "gt"}]}})
    assert status == 422 and bad["errors"][0]["path"] == "rule.all.0.op"
    status, segment = call("post", "/segments", marketer, {"name": "Казань", "rule": rule})
    assert status == 201
    assert call("post", "/segments", marketer, {"name": "Казань", "rule": rule})[0] == 422
    status, refreshed = call("post", f"/segments/{segment['id']}/refresh", marketer)
    assert refreshed == {"joined": 2, "left": 0, "member_count": 2}
    manager = make_token(role="manager", team="North")
    status, page = call("get", f"/segments/{segment['id']}/members", manager)
    assert [m["id"] for m in page["items"]] == [a.pk]  # the manager sees only their team's member
    assert call("get", f"/segments/{segment['id']}/count", manager)[1]["count"] == 1
    assert call("post", f"/segments/{segment['id']}/refresh", manager)[0] == 403
    assert call("get", f"/segments/{segment['id']}/export.csv", marketer)[0] == 403
    status, response = call("get", f"/segments/{segment['id']}/export.csv", make_token(role="admin"))
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert status == 200 and len(lines) == 3 and "+79160000002" in lines[2] and str(b.pk) in lines[2]
    status, changed = call("patch", f"/segments/{segment['id']}", marketer, {"rule": {"tag": "vip"}})
    assert status == 200
    assert call("post", f"/segments/{segment['id']}/refresh", marketer)[1] == {"joined": 0, "left": 2,
                                                                                "member_count": 0}
    assert SegmentChange.objects.filter(kind="left").count() == 2
    assert call("patch", f"/segments/{segment['id']}", marketer, {"rule": {"segment": segment["id"]}})[0] == 422
    assert call("delete", f"/segments/{segment['id']}", marketer)[0] == 204
    assert not Segment.objects.exists()


def test_builder_page_preview_and_save() -> None:
    user = make_user(role="marketer")
    client = Client()
    client.login(username=user.get_username(), password="correct horse battery")
    make_customer(phone="+79160000001", city="Казань")
    assert client.get("/segments/").status_code == 200
    assert client.get("/segments/new/").status_code == 200
    rows = {"mode": "rows", "combinator": "all", "field": ["city", ""], "op": ["eq", "eq"], "value": ["Казань", ""]}
    preview = client.post("/segments/preview/", rows)
    assert preview.status_code == 200 and 'id="segment-count">1<' in preview.content.decode()
    bad = client.post("/segments/preview/", {"mode": "json", "rule_json": '{"all": [{"field": "nope"}]}'})
    assert "rule.all.0.field" in bad.content.decode()
    saved = client.post("/segments/new/", {**rows, "name": "Казанцы", "refresh_every_minutes": "30"})
    segment = Segment.objects.get()
    assert saved.status_code == 302 and segment.member_count == 1 and segment.refresh_every_minutes == 30
    card = client.get(f"/customers/{segment.memberships.get().customer_id}/")
    assert "Казанцы" in card.content.decode()
    assert client.get(f"/segments/{segment.pk}/").status_code == 200
    assert Client().get("/segments/").status_code == 302
