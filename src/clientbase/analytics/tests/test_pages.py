import datetime as dt

from django.test import Client

from clientbase.access.tests.builders import make_user
from clientbase.analytics.reports import run_evaluation
from clientbase.analytics.scoring import ScoringSettings
from clientbase.analytics.services import run_scoring
from clientbase.analytics.tests.builders import make_business


def test_dashboard_renders_every_chart_for_an_admin() -> None:
    make_business(customers=20)
    run_scoring(as_of=dt.date(2026, 2, 5), settings=ScoringSettings(compare_pareto=False))
    run_evaluation(calibration_end=dt.date(2025, 11, 1))
    client = Client()
    client.force_login(make_user(role="admin"))
    response = client.get("/analytics/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg") >= 7
    for title in ("RFM grid", "Cohort retention", "Predicted vs actual", "Probability active", "Lifetime value"):
        assert title in page


def test_dashboard_needs_login_and_a_whole_base_role() -> None:
    response = Client().get("/analytics/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    client = Client()
    client.force_login(make_user(role="manager", team="North"))
    assert client.get("/analytics/").status_code == 403


def test_card_shows_the_outlook_with_next_visit_and_segment() -> None:
    people = make_business(customers=8)
    run_scoring(as_of=dt.date(2026, 2, 5), settings=ScoringSettings(compare_pareto=False))
    client = Client()
    client.force_login(make_user(role="admin"))
    page = client.get(f"/customers/{people[0].pk}/").content.decode()
    assert "Outlook" in page and "Probability active" in page and "Why:" in page
    assert "likely still active" in page


def test_a_merge_after_the_scoring_run_is_named_on_the_survivors_outlook_and_the_absorbed_has_none() -> None:
    from clientbase.access.actor import SYSTEM
    from clientbase.identity.merges import merge_customers

    people = make_business(customers=8)
    run_scoring(as_of=dt.date(2026, 2, 5), settings=ScoringSettings(compare_pareto=False))
    merge = merge_customers(people[0], people[1], actor=SYSTEM)
    client = Client()
    client.force_login(make_user(role="admin"))
    page = client.get(f"/customers/{people[0].pk}/").content.decode()
    assert f"before merge #{merge.pk}: the orders it brought count from the next scoring run" in page
    absorbed = client.get(f"/customers/{people[1].pk}/").content.decode()
    assert "Probability active" not in absorbed  # its orders are the survivor's; its old score describes no one
