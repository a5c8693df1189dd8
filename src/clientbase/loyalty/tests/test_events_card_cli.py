"""Earning through ingested purchase and return events, the card section and the CLI."""

from typing import Any

from django.test import Client

from clientbase.access.tests.builders import make_user
from clientbase.interactions.tests.builders import ingest, make_event
from clientbase.loyalty.models import Account, EntryKind, LedgerEntry
from clientbase.loyalty.tests.builders import make_member, make_program


def purchase(order_id: str, lines: list[dict[str, Any]], **data: Any) -> dict[str, Any]:
    return make_event(type="purchase", source="pos", identifiers={"phone": "+79165550001"},
                      data={"order_id": order_id, "store": "msk-1", "lines": lines, "payment_status": "paid", **data})


def test_purchase_and_return_events_earn_and_take_back_once() -> None:
    program = make_program(earn_percent=10)
    customer = make_member(program, phone="+79165550001")
    lines = [{"sku": "latte", "name": "Latte", "quantity": 2, "price": 25_000},
             {"sku": "cookie", "name": "Cookie", "quantity": 1, "price": 10_000, "reward": True}]
    ingest(purchase("A-1001", lines))
    ingest(purchase("A-1001", lines))
    account = Account.objects.get(program=program, customer=customer)
    assert account.balance == 50
    ret = make_event(type="return", source="pos", identifiers={"phone": "+79165550001"},
                     data={"order_id": "A-1001", "return_id": "R-1", "lines": [{"sku": "latte", "quantity": 1}]})
    ingest(ret)
    ingest(ret)
    account.refresh_from_db()
    assert account.balance == 25
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1


def test_card_shows_balance_and_lots(client: Client) -> None:
    program = make_program(earn_percent=10, name="Зёрна", points_name="зёрен")
    customer = make_member(program, phone="+79165550001")
    ingest(purchase("A-1", [{"sku": "latte", "name": "Latte", "quantity": 1, "price": 30_000}]))
    user = make_user(role="admin")
    client.force_login(user)  # type: ignore[arg-type]
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Зёрна" in page and "30 зёрен" in page


def test_cli_audit_reports_zero_drift(capsys: Any) -> None:
    from clientbase.cli import main

    make_member(make_program(welcome_bonus=10))
    assert main(["loyalty", "audit"]) == 0
    assert "0 drift (zero)" in capsys.readouterr().out
    Account.objects.update(balance=11)
    assert main(["loyalty", "audit"]) == 1


def test_admin_settings_pages_render(client: Client) -> None:
    program = make_program()
    client.force_login(make_user(role="admin"))  # type: ignore[arg-type]
    for path in ("/admin/loyalty/program/", f"/admin/loyalty/program/{program.pk}/change/", "/admin/loyalty/coupon/",
                 "/admin/loyalty/ledgerentry/"):
        assert client.get(path).status_code == 200, path
