import datetime as dt
from typing import Any

from django.test import Client

from clientbase.access.tests.builders import make_token
from clientbase.analytics.scoring import ScoringSettings
from clientbase.analytics.services import run_scoring
from clientbase.analytics.tests.builders import make_business
from clientbase.sales.models import CustomerFigures


def call(path: str, token: str) -> tuple[int, Any]:
    response = Client().get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {token}")
    return response.status_code, response.json()


def test_scores_and_aggregates_endpoints() -> None:
    people = make_business(customers=15)
    CustomerFigures.objects.create(customer=people[0], orders=3, profit=90000, total_spend=150000)
    run_scoring(as_of=dt.date(2026, 2, 5), settings=ScoringSettings(compare_pareto=False))
    token = make_token(role="marketer")
    status, body = call(f"/analytics/customers/{people[0].pk}/score", token)
    assert status == 200 and body["customer_id"] == people[0].pk and body["segment"]
    status, body = call("/analytics/scores?limit=10", token)
    assert status == 200 and len(body["items"]) == 10 and body["next_cursor"]
    status, rest = call(f"/analytics/scores?limit=10&cursor={body['next_cursor']}", token)
    assert len(rest["items"]) == 5 and rest["next_cursor"] is None
    status, body = call("/analytics/aggregates", token)
    assert status == 200 and body["revenue"]["customers"] == 15
    assert sum(map(sum, body["rfm"]["counts"])) == 15
    status, body = call("/analytics/runs/latest", token)
    assert status == 200 and body["customers"] == 15
    status, body = call("/analytics/profitability", token)
    assert status == 200 and body[0]["customer_id"] == people[0].pk and body[0]["clv"] is not None
    status, body = call("/analytics/portrait", token)
    assert status == 200 and body["sizes"] == {"all": 1}


def test_team_manager_is_refused_base_wide_figures_and_other_teams_scores() -> None:
    people = make_business(customers=3)
    run_scoring(as_of=dt.date(2026, 2, 5), settings=ScoringSettings(compare_pareto=False))
    token = make_token(role="manager", team="North")
    assert call("/analytics/aggregates", token)[0] == 403
    assert call(f"/analytics/customers/{people[0].pk}/score", token)[0] == 404
    assert call("/analytics/scores", token)[1]["items"] == []
    assert call("/analytics/aggregates", make_token(role="admin", scopes=["orders:read"]))[0] == 403
