from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from clientbase.access.actor import SYSTEM, actor_for_user
from clientbase.access.models import Team
from clientbase.core.text import search_key
from clientbase.customers.models import ContactPerson, Customer, ImportantDate, ProfileChange, Tag
from clientbase.customers.selectors import card, visible_customers
from clientbase.customers.services import create_customer
from clientbase.demo import bulk, people, stages
from clientbase.demo.business import company_count
from clientbase.demo.setup import PROFILE_STAGES, ensure_demo
from clientbase.demo.stages import DemoContext, Stage
from clientbase.demo.values import inn_is_valid
from clientbase.identity.models import Identifier
from clientbase.identity.rules import normalize

SIZE = 300


def _table_counts() -> dict[str, int]:
    return {"customers": Customer.objects.count(), "identifiers": Identifier.objects.count(),
            "dates": ImportantDate.objects.count(), "changes": ProfileChange.objects.count(),
            "contacts": ContactPerson.objects.count(),
            "tags": Customer.tags.through.objects.count()}


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    # The demo users' password is hashed with the real (slow, on purpose) hasher otherwise.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "demo.json"
    ensure_demo(customers=SIZE, seed=7, progress=False, path=path, stages=PROFILE_STAGES)
    return path


def test_same_seed_gives_identical_rows() -> None:
    def rows(seed: int) -> dict[str, Any]:
        ctx = DemoContext(seed=seed, customers=SIZE, anchor=date(2026, 1, 15), password="x")
        lex = people.Lexicon.build()
        owners = {"Москва": (1, 11), "Санкт-Петербург": (2, 12), "Регионы": (3, 13)}
        tags = {name: i for i, name in enumerate(("vip", "student", "pensioner", "blogger", "family", "b2b"))}
        writer = people.PersonRows(ctx.anchor, lex.keys, owners, tags)
        return people.build_chunk(ctx, lex, 0, 0, 200, 1, SIZE, writer).rows

    first = rows(1)
    assert first == rows(1)
    assert first["customers"] != rows(2)["customers"]
    assert len(first["customers"]) == 200


def test_chunks_made_in_a_worker_process_equal_chunks_made_here(monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = people.Recipe(7, SIZE, date(2026, 1, 15), 1, 50, {"Москва": (1, 11), "Санкт-Петербург": (2, 12),
                                                               "Регионы": (3, 13)}, {"vip": 1, "student": 2,
                                                                                     "pensioner": 3, "blogger": 4,
                                                                                     "family": 5})
    monkeypatch.setattr(people, "PIPELINE_FROM", 1)
    pipelined = [(chunk, batch.rows) for chunk, batch in people.batches(recipe, 2)]
    monkeypatch.setattr(people, "PIPELINE_FROM", 1000)
    local = [(chunk, batch.rows) for chunk, batch in people.batches(recipe, 2)]
    assert [chunk for chunk, _ in local] == [2, 3, 4, 5]
    assert pipelined == local


def test_demo_loads_every_table(demo: Path) -> None:
    counts = _table_counts()
    assert counts["customers"] == SIZE
    assert Customer.objects.filter(kind="company").count() == company_count(SIZE)
    assert counts["changes"] >= SIZE   # every card has a history
    assert counts["dates"] > SIZE / 2 and counts["tags"] > 0
    assert not Customer.objects.filter(changes__isnull=True).exists()
    parent = Customer.objects.filter(kind="person").exclude(children=[]).first()
    assert parent is not None
    person = card(parent)
    assert person.children[0]["name"] and date.fromisoformat(person.children[0]["birth_date"]) < date.today()
    assert person.identifiers.filter(kind="phone").exists()
    assert person.owner is not None and person.team is not None


def test_every_identifier_normalises_to_itself_and_is_unique(demo: Path) -> None:
    values = list(Identifier.objects.values_list("kind", "value", "raw"))
    for kind, value, raw in values:
        assert normalize(kind, value) == value
        assert normalize(kind, raw) == value, raw
    assert len({(k, v) for k, v, _ in values}) == len(values)
    phones = [v for k, v, _ in values if k == "phone"]
    assert len(phones) == len(set(phones)) >= SIZE


def test_names_are_searchable_as_the_services_would_store_them(demo: Path) -> None:
    for c in Customer.objects.all()[:200]:
        assert c.search_key == search_key(c.last_name, c.first_name, c.middle_name, c.legal_name)
        if c.kind == "person" and c.middle_name:
            assert c.middle_name.endswith(("вна", "чна")) == (c.gender == "female"), c.display_name


def test_companies_have_valid_inn_and_contact_persons(demo: Path) -> None:
    companies = list(Customer.objects.filter(kind="company"))
    assert companies
    for company in companies:
        assert inn_is_valid(company.registration_number), company.registration_number
        links = list(company.contact_people.select_related("person"))
        assert "director" in {link.role for link in links}
        assert all(link.person.kind == "person" and link.person.city == company.city for link in links)
        assert company.custom["employees"] >= 5
    assert len({c.registration_number for c in companies}) == len(companies)


def test_managers_see_only_their_team(demo: Path) -> None:
    manager = get_user_model().objects.get(username="manager_spb")
    actor = actor_for_user(manager)
    spb = Team.objects.get(name="Санкт-Петербург")
    visible = visible_customers(actor)
    assert visible.count() == Customer.objects.filter(team=spb).count() > 0
    assert visible.count() < Customer.objects.count()
    assert set(visible.values_list("city", flat=True)) == {"Санкт-Петербург"}
    assert set(visible.values_list("owner__username", flat=True)) == {"manager_spb"}


def test_ensure_demo_twice_changes_nothing(demo: Path) -> None:
    login = ensure_demo(customers=SIZE, seed=7, progress=False, path=demo)   # every stage, later issues' too
    before = _table_counts()
    again = ensure_demo(customers=SIZE * 2, seed=8, progress=False, path=demo)
    assert _table_counts() == before
    assert login == again and login.username == "admin"
    assert get_user_model().objects.get(username="admin").check_password(login.password)


def test_ids_continue_after_the_demo(demo: Path) -> None:
    top = Customer.objects.order_by("-id").values_list("id", flat=True)[0]
    created = create_customer({"first_name": "Новый", "identifiers": [{"kind": "phone", "value": "+79990001122"}]},
                              actor=SYSTEM)
    assert created.pk > top


def test_only_missing_stages_run_later(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extended = [*(s for s in stages.STAGES if s.name in PROFILE_STAGES),
                Stage("extra", "clientbase.demo.tests.test_demo:extra_stage")]
    monkeypatch.setattr("clientbase.demo.setup.STAGES", extended)
    before = _table_counts()
    ensure_demo(customers=SIZE, seed=7, progress=False, path=demo)
    ensure_demo(customers=SIZE, seed=7, progress=False, path=demo)
    assert list(Tag.objects.filter(name__startswith="extra-stage").values_list("name", flat=True)) == [
        f"extra-stage-{SIZE}"]
    assert _table_counts() == before


def extra_stage(ctx: DemoContext) -> dict[str, int]:
    """A stage a later issue might add; it leaves a trace each time it runs."""
    Tag.objects.create(name=f"extra-stage-{ctx.customers}")
    return {"tags": 1}


def test_a_cut_short_stage_resumes_without_duplicates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(people, "CHUNK", 100)
    real_load = people.load
    loads = Counter[str]()

    def failing_load(batch: bulk.Batch) -> int:
        loads["n"] += 1
        if loads["n"] == 2:
            raise RuntimeError("power cut")
        return real_load(batch)

    monkeypatch.setattr(people, "load", failing_load)
    path = tmp_path / "demo.json"
    with pytest.raises(RuntimeError):
        ensure_demo(customers=SIZE, seed=7, progress=False, path=path, stages=PROFILE_STAGES)
    assert Customer.objects.count() == 100
    ensure_demo(customers=SIZE, seed=7, progress=False, path=path, stages=PROFILE_STAGES)
    assert Customer.objects.count() == SIZE
    assert Identifier.objects.filter(kind="phone").count() == Identifier.objects.filter(
        kind="phone").values("value").distinct().count()


def test_demo_cards_render_and_respect_teams(demo: Path, client: Any) -> None:
    users = get_user_model().objects
    spb_person = Customer.objects.filter(team__name="Санкт-Петербург", kind="person").exclude(children=[]).first()
    company = Customer.objects.filter(kind="company").first()
    assert spb_person is not None and company is not None
    client.force_login(users.get(username="admin"))
    for customer in (spb_person, company):
        page = client.get(f"/customers/{customer.pk}/")
        assert page.status_code == 200
        assert customer.display_name in page.content.decode()
    client.force_login(users.get(username="manager_msk"))
    assert client.get(f"/customers/{spb_person.pk}/").status_code == 404


def test_a_lost_demo_json_keeps_the_data_and_resets_the_password(demo: Path) -> None:
    before = _table_counts()
    demo.unlink()
    login = ensure_demo(customers=SIZE, seed=7, progress=False, path=demo, stages=PROFILE_STAGES)
    assert _table_counts() == before
    assert get_user_model().objects.get(username="manager_msk").check_password(login.password)
