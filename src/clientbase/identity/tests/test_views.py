import importlib
from pathlib import Path
from typing import Any

import pytest
from django.templatetags.static import static
from django.test import Client

from clientbase.access.actor import SYSTEM
from clientbase.access.tests.builders import make_user
from clientbase.customers import views as customer_views
from clientbase.customers.models import Customer
from clientbase.customers.tests.builders import make_customer
from clientbase.identity.merges import merge_customers
from clientbase.identity.models import Merge, ReviewCase
from clientbase.interactions.tests.builders import ingest, make_event


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(make_user(role=role))  # type: ignore[arg-type]
    return client


def _review() -> ReviewCase:
    make_customer(phone="+79161234567", identifiers=[{"kind": "card", "value": "A001", "verified": True}])
    make_customer(phone="+79031112233", identifiers=[{"kind": "card", "value": "B002", "verified": True}])
    ingest(make_event(identifiers={"phone": "+79161234567", "card": "B002"}))
    return ReviewCase.objects.get()


def test_review_page_lists_and_resolves_for_marketers_only() -> None:
    case = _review()
    assert client_for("manager").get("/identity/reviews/").status_code == 403
    marketer = client_for("marketer")
    page = marketer.get("/identity/reviews/")
    assert page.status_code == 200 and "B002" in page.content.decode()
    response = marketer.post(f"/identity/reviews/{case.pk}/resolve/", {"action": "keep_apart"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "kept_apart" and not Merge.objects.exists()


def test_card_shows_merge_history_timeline_and_unmerge_for_admin() -> None:
    survivor, absorbed = make_customer(phone="+79161234567"), make_customer(phone="+79031112233")
    ingest(make_event(type="message", channel="site_chat", identifiers={"phone": "+79031112233"},
                      data={"direction": "inbound", "text": "Где мой заказ?", "thread": "chat-17"}))
    merge = merge_customers(survivor, absorbed, actor=SYSTEM)
    admin = client_for("admin")
    html = admin.get(f"/customers/{survivor.pk}/").content.decode()
    assert "Где мой заказ?" in html and f"/identity/merges/{merge.pk}/unmerge/" in html
    # The channel by its name and who wrote, not the stored codes and the channel's own thread id.
    assert "Site chat" in html and "They wrote" in html and "site_chat" not in html and "chat-17" not in html
    marketer_html = client_for("marketer").get(f"/customers/{survivor.pk}/").content.decode()
    assert f"/identity/merges/{merge.pk}/unmerge/" not in marketer_html
    assert client_for("marketer").post(f"/identity/merges/{merge.pk}/unmerge/").status_code == 403
    assert admin.post(f"/identity/merges/{merge.pk}/unmerge/").status_code == 302
    absorbed.refresh_from_db()
    assert absorbed.merged_into_id is None


def test_admin_pages_render() -> None:
    _review()
    admin_user = make_user(role="admin")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)  # type: ignore[arg-type]
    for path in ["identity/junkpattern", "identity/merge", "identity/reviewcase", "identity/consent",
                 "interactions/event", "interactions/channelsecret"]:
        assert client.get(f"/admin/{path}/").status_code == 200, path


def test_a_merged_customers_edit_page_opens_the_survivors_card_with_a_note() -> None:
    survivor, absorbed = make_customer(phone="+79161234567"), make_customer(phone="+79031112233")
    merge_customers(survivor, absorbed, actor=SYSTEM)
    admin = client_for("admin")
    for response in (admin.get(f"/customers/{absorbed.pk}/edit/"),
                     admin.post(f"/customers/{absorbed.pk}/edit/", {"city": "Тверь"})):
        assert response.status_code == 302 and response["Location"] == f"/customers/{survivor.pk}/"
    page = admin.get(f"/customers/{survivor.pk}/").content.decode()
    assert f"Customer #{absorbed.pk} was merged into #{survivor.pk}" in page
    absorbed.refresh_from_db()
    assert absorbed.city == ""
    card = admin.get(f"/customers/{absorbed.pk}/").content.decode()
    assert f"/customers/{absorbed.pk}/tasks/" not in card and f"/customers/{absorbed.pk}/churn-reason/" not in card
    # A form posted from a tab opened before the merge: the survivor's card, with the note.
    stale = admin.post(f"/engagement/customers/{absorbed.pk}/tasks/", {"kind": "call", "title": "x",
                                                                      "due_at": "2026-12-08T10:00"})
    assert stale.status_code == 302 and stale["Location"] == f"/customers/{survivor.pk}/"
    from clientbase.engagement.models import Task

    assert not Task.objects.exists()


def test_a_nameless_customer_is_named_by_its_number_once() -> None:
    survivor = make_customer(phone="+79161234567", first_name="Анна", last_name="Петрова")
    nameless = make_customer(phone="+79031112233", first_name="", last_name="")
    merge_customers(survivor, nameless, actor=SYSTEM)
    admin = client_for("admin")
    html = admin.get(f"/customers/{survivor.pk}/").content.decode()
    assert f"#{nameless.pk}</a>" in html and f"#{nameless.pk} #{nameless.pk}" not in html
    html = admin.get(f"/customers/{nameless.pk}/").content.decode()
    assert f"#{survivor.pk} Петрова Анна</a>" in html
    assert f"#{nameless.pk} <span" not in html  # the heading: "Customer card #N", not "#N Customer card #N"


def test_history_says_which_merge_rows_kept_this_profiles_value_and_which_filled_a_field() -> None:
    survivor = make_customer(phone="+79161234567", first_name="Анна", last_name="Волкова")
    absorbed = make_customer(phone="+79031112233", first_name="Анна", last_name="Павлова", city="Тверь")
    merge = merge_customers(survivor, absorbed, actor=SYSTEM)
    html = client_for("admin").get(f"/customers/{survivor.pk}/history/").content.decode()
    assert f"merge #{merge.pk}: the merged profile&#x27;s value (was) lost to this one&#x27;s" in html  # last name
    assert f"merge #{merge.pk}: taken from the merged profile" in html  # the city the survivor lacked


def test_merge_by_hand_from_the_card_shows_both_then_merges() -> None:
    anna = make_customer(phone="+79161234567", first_name="Анна", last_name="Петрова")
    dup = make_customer(phone="+79031112233", first_name="Аня", last_name="Петрова",
                        identifiers=[{"kind": "email", "value": "anya@example.com"}])
    marketer = client_for("marketer")
    card = marketer.get(f"/customers/{anna.pk}/").content.decode()
    assert f"/identity/customers/{anna.pk}/merge/" in card
    assert f"/identity/customers/{anna.pk}/merge/" not in client_for("manager").get(
        f"/customers/{anna.pk}/").content.decode()
    for other in (f"#{dup.pk}", "8 903 111-22-33", "ANYA@example.com"):
        page = marketer.get(f"/identity/customers/{anna.pk}/merge/", {"other": other})
        assert page.status_code == 200, other
        html = page.content.decode()
        assert "anya@example.com" in html and f'name="absorbed_id" value="{dup.pk}"' in html
    assert not Merge.objects.exists()  # looking is not merging
    response = marketer.post(f"/identity/customers/{anna.pk}/merge/", {"absorbed_id": dup.pk})
    assert response.status_code == 302 and response["Location"] == f"/customers/{anna.pk}/"
    dup.refresh_from_db()
    assert dup.merged_into_id == anna.pk and Merge.objects.get().reason == "manual (web)"
    # Nobody, itself, or a merged customer: back to the card with a note, nothing merged.
    for other in ("Зеленский", f"#{anna.pk}", f"#{dup.pk}"):
        response = marketer.get(f"/identity/customers/{anna.pk}/merge/", {"other": other})
        assert response.status_code == 302, other
    assert marketer.post(f"/identity/customers/{anna.pk}/merge/", {"absorbed_id": dup.pk}).status_code == 302
    assert Merge.objects.count() == 1
    assert client_for("manager").post(f"/identity/customers/{anna.pk}/merge/",
                                      {"absorbed_id": dup.pk}).status_code == 403


def test_an_edit_whose_customer_is_merged_after_the_check_opens_the_survivor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The merge commits between the page's tombstone check and its write (the check is given the copy read
    before): the write's hold refuses the whole edit, and the survivor's card opens with the note."""
    survivor, absorbed = make_customer(phone="+79161234567"), make_customer(phone="+79031112233")
    before = Customer.objects.get(pk=absorbed.pk)
    merge_customers(survivor, absorbed, actor=SYSTEM)
    monkeypatch.setattr(customer_views, "_customer", lambda actor, customer_id, write=False: before)
    response = client_for("admin").post(f"/customers/{absorbed.pk}/edit/", {
        "kind": "person", "first_name": "Иван", "last_name": "Петров", "city": "Тверь"})
    assert response.status_code == 302 and response["Location"] == f"/customers/{survivor.pk}/"
    absorbed.refresh_from_db()
    assert (absorbed.city, absorbed.merged_into_id) == ("", survivor.pk)


def test_a_merged_profiles_banner_names_the_end_of_the_chain() -> None:
    first, middle, last = (make_customer(phone=p) for p in ("+79161234567", "+79031112233", "+79035556677"))
    merge_customers(middle, last, actor=SYSTEM)
    merge_customers(first, middle, actor=SYSTEM)
    html = client_for("admin").get(f"/customers/{last.pk}/").content.decode()
    assert f'href="/customers/{first.pk}/">#{first.pk}' in html and f"/customers/{last.pk}/edit/" not in html


def test_the_icon_is_served() -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("web/favicon.svg")


def test_review_and_merge_reasons_read_in_russian() -> None:
    case = _review()
    marketer = client_for("marketer")
    page = marketer.get("/identity/reviews/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "У каждого своё подтверждённое значение: карта лояльности" in page
    assert "Телефон: +79161234567" in page and "Карта лояльности: B002" in page
    marketer.post(f"/identity/reviews/{case.pk}/resolve/", {"action": "merge"})
    survivor = Merge.objects.get().survivor_id
    card = marketer.get(f"/customers/{survivor}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert f"проверка №{case.pk}" in card and f"review #{case.pk}" not in card


def test_history_values_read_as_labels_and_dates_in_the_users_language() -> None:
    survivor = make_customer(phone="+79161234567", gender="female", family_status="single")
    absorbed = make_customer(phone="+79031112233", gender="male", family_status="married",
                             birth_date="1990-05-01", preferred_channel="sms")
    merge_customers(survivor, absorbed, actor=SYSTEM)
    html = client_for("admin").get(f"/customers/{survivor.pk}/history/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    for raw in (">married<", ">male<", ">sms<", "1990-05-01"):
        assert raw not in html, raw
    assert "01.05.1990" in html
    tomb = client_for("admin").get(f"/customers/{absorbed.pk}/history/").content.decode()
    assert f">#{survivor.pk}<" in tomb  # merged into: the survivor's number, not a bare id


def test_the_urls_load_before_collectstatic_has_written_the_manifest(settings: Any, tmp_path: Path) -> None:
    """Production storage with no manifest yet (a demo build's outbox reverses URLs before the server's
    ``collectstatic``): loading the URL conf must not look a static file up."""
    import clientbase.urls

    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    settings.STATIC_ROOT = str(tmp_path)
    importlib.reload(clientbase.urls)
    with pytest.raises(ValueError, match="Missing staticfiles manifest"):  # the lookup it must not make
        static("web/favicon.svg")
