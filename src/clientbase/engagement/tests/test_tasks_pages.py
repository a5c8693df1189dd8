"""Tasks respect ownership; my day, the calendar, the card section and the churn pages render."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from clientbase.access.actor import SYSTEM
from clientbase.access.models import Team
from clientbase.access.tests.builders import make_user
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.customers.tests.builders import make_customer
from clientbase.engagement import retention, services
from clientbase.engagement.models import ChurnReason, Task
from clientbase.engagement.tests.builders import make_contact, make_message


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_task_assignee_must_own_or_share_the_team() -> None:
    north = make_user(role="manager", team="North")
    south = make_user(role="manager", team="South")
    customer = make_customer(team_id=Team.objects.get(name="North").pk)
    due = now() + timedelta(hours=2)
    task = services.create_task(customer, kind="call", title="Call back", due_at=due, actor=SYSTEM,
                                assignee_id=north.pk)
    assert task.assignee_id == north.pk
    with pytest.raises(DomainValidationError) as caught:
        services.create_task(customer, kind="call", title="Call", due_at=due, actor=SYSTEM, assignee_id=south.pk)
    assert caught.value.errors[0].path == "assignee_id"
    with pytest.raises(DomainValidationError):
        services.create_task(customer, kind="gift", title="Gift", due_at=due, actor=SYSTEM)
    assert Task.objects.count() == 1


def test_my_day_and_calendar_show_my_tasks_only() -> None:
    me = make_user(role="manager", team="North")
    other = make_user(role="manager", team="North")
    customer = make_customer(team_id=Team.objects.get(name="North").pk, first_name="Ольга")
    services.create_task(customer, kind="meeting", title="Contract talk", due_at=now() + timedelta(minutes=5),
                         actor=SYSTEM, assignee_id=me.pk)
    services.create_task(customer, kind="gift", gift="golf club", title="Anniversary",
                         due_at=now() - timedelta(days=1), actor=SYSTEM, assignee_id=me.pk)
    services.create_task(customer, kind="call", title="Someone else's", due_at=now(), actor=SYSTEM,
                         assignee_id=other.pk)
    client = client_for(me)
    page = client.get("/engagement/my-day/").content.decode()
    assert "golf club" in page and "Overdue" in page
    assert "Someone else&#x27;s" not in page and "Someone else's" not in page
    week = client.get("/engagement/calendar/").content.decode()
    assert "Contract talk" in week and "Anniversary" not in week  # a gift is not a calendar event
    everyone = client.get("/engagement/calendar/?everyone=1").content.decode()
    assert "Someone else" in everyone


def test_finishing_a_task_of_an_invisible_customer_is_404() -> None:
    me = make_user(role="manager", team="North")
    make_user(role="manager", team="South")
    customer = make_customer(team_id=Team.objects.get(name="South").pk)
    task = services.create_task(customer, kind="call", title="x", due_at=now(), actor=SYSTEM)
    assert client_for(me).post(f"/engagement/tasks/{task.pk}/finish/").status_code == 404
    task.refresh_from_db()
    assert task.status == "open"


def test_card_shows_messages_with_reasons_and_retention() -> None:
    from clientbase.analytics.scores import CustomerScore

    customer = make_contact(email=None, phone=None)
    make_message(customer=customer, key="m1")
    from clientbase.engagement import outbox

    outbox.run_once("w")
    CustomerScore.objects.create(customer=customer, model_version="t", computed_at=datetime.now(UTC),
                                 clv=1_500_000.0, probability_alive=0.4, segment="at_risk")
    page = client_for(make_user(role="admin")).get(f"/customers/{customer.pk}/").content.decode()
    assert "Messages &amp; tasks" in page or "Messages & tasks" in page
    assert "refused: email: no address" in page
    assert "1,500" in page  # 10% of 15,000 ₽
    assert retention.budget(customer) == (150_000, "10% of predicted lifetime value 15\u00a0000 ₽, probability active 40%")


def test_churn_survey_and_manager_form() -> None:
    customer = make_customer()
    url = retention.survey_url(customer.pk).removeprefix("http://127.0.0.1:8000")
    anonymous = Client()
    assert anonymous.get(url).status_code == 200
    assert anonymous.post(url, {"reason": "price", "comment": "too dear"}).status_code == 200
    assert anonymous.post(url[:-4] + "abc/", {"reason": "price"}).status_code == 400
    manager = client_for(make_user(role="admin"))
    response = manager.post(f"/engagement/customers/{customer.pk}/churn-reason/", {"reason": "moved"})
    assert response.status_code == 302
    assert sorted(ChurnReason.objects.values_list("reason", "source")) == [("moved", "manager"), ("price", "survey")]




def test_marketer_edits_and_previews_a_template() -> None:
    customer = make_contact(first_name="Ольга")
    marketer = client_for(make_user(role="marketer"))
    refused = marketer.post("/engagement/templates/new/", {"key": "promo", "channel": "email", "language": "ru",
                                                           "body": "{{ ''.__class__.__mro__ }}"})
    assert refused.status_code == 422
    saved = marketer.post("/engagement/templates/new/", {"key": "promo", "channel": "email", "language": "ru",
                                                         "subject": "Hi", "body": "Привет, {{ first_name }}!"})
    assert saved.status_code == 302
    page = marketer.get(f"{saved['Location']}?customer={customer.pk}").content.decode()
    assert "Привет, Ольга!" in page
    assert "promo" in marketer.get("/engagement/templates/").content.decode()


def test_task_by_hand_from_the_card() -> None:
    owner = make_user(role="manager", team="North")
    customer = make_customer(team_id=Team.objects.get(name="North").pk, owner_id=owner.pk)
    client = client_for(owner)
    response = client.post(f"/engagement/customers/{customer.pk}/tasks/",
                           {"kind": "gift", "title": "Anniversary", "gift": "T-shirt", "due_at": "2026-12-01T10:00"})
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.assignee_id, task.gift, task.due_at) == (owner.pk, "T-shirt", datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    assert client.post(f"/engagement/customers/{customer.pk}/tasks/",
                       {"kind": "gift", "due_at": "2026-12-01T10:00"}).status_code == 400  # a gift needs a what
    assert "Add task" in client.get(f"/customers/{customer.pk}/").content.decode()
