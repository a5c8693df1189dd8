"""Demo stage "catalogue_and_orders": the chain's menu and 18 months of purchases, returns and carts.

When each guest buys comes from ``demo_process`` (documented there and in docs/sales.md); what they
buy comes from a per-guest taste over the five categories. Rows are generated per chunk of guests
and loaded with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) through ``clientbase.demo.bulk``;
the figures of each chunk are then computed in bulk from the loaded orders.
"""

import datetime as dt
import zoneinfo
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from clientbase.customers.models import Customer
from clientbase.demo.bulk import TABLES, Batch, Table, bulk_session, dumps, load, stamp
from clientbase.demo.stages import DemoContext
from clientbase.sales import figures, rules
from clientbase.sales.demo_process import ProcessParams, purchase_days
from clientbase.sales.models import Category, Order, OrderLine, Product, Return

STAGE = "catalogue_and_orders"
CHUNK = 5000
SOURCE = "demo"
# sku, name, category, price and cost in kopecks; earlier items of a category sell more.
MENU: dict[str, list[tuple[str, str, int, int]]] = {
    "coffee": [("LATTE-M", "Латте 0,4", 25000, 8000), ("CAPPUCCINO-M", "Капучино 0,3", 22000, 6000),
               ("AMERICANO", "Американо", 15000, 3500), ("FLAT-WHITE", "Флэт уайт", 26000, 8000),
               ("RAF", "Раф ванильный", 29000, 9000), ("ESPRESSO", "Эспрессо", 12000, 3000),
               ("LATTE-L", "Латте 0,5", 29000, 9500)],
    "tea": [("TEA-BLACK", "Чай чёрный", 15000, 2000), ("TEA-GREEN", "Чай зелёный", 15000, 2000),
            ("MATCHA", "Матча латте", 28000, 9000), ("TEA-FRUIT", "Чай фруктовый", 18000, 3000)],
    "desserts": [("CROISSANT", "Круассан", 16000, 6000), ("CHEESECAKE", "Чизкейк", 30000, 11000),
                 ("COOKIE", "Печенье", 9000, 2500), ("ECLAIR", "Эклер", 14000, 5000),
                 ("MUFFIN", "Маффин", 13000, 4500)],
    "beans": [("BEANS-ETH-250", "Зерно Эфиопия 250 г", 95000, 45000),
              ("BEANS-BRA-250", "Зерно Бразилия 250 г", 85000, 40000),
              ("BEANS-COL-1000", "Зерно Колумбия 1 кг", 290000, 150000)],
    "merch": [("MUG", "Кружка с логотипом", 90000, 35000), ("TOTE", "Шопер", 70000, 25000),
              ("TUMBLER", "Термокружка", 150000, 60000)],
}
CATEGORY_NAMES = {"coffee": "Кофе", "tea": "Чай", "desserts": "Десерты", "beans": "Зерно", "merch": "Мерч"}
TASTE = np.array([4.0, 1.5, 2.0, 0.4, 0.15])   # Dirichlet prior of a guest's category shares
STORES = {"Москва": ("msk", 4), "Санкт-Петербург": ("spb", 3), "Казань": ("kzn", 1),
          "Нижний Новгород": ("nnv", 1), "Екатеринбург": ("ekb", 2), "Новосибирск": ("nsk", 1),
          "Краснодар": ("krd", 1), "Самара": ("smr", 1)}
HOURS = np.arange(8, 22)
HOUR_WEIGHTS = np.array([9, 10, 7, 5, 6, 8, 6, 5, 6, 8, 7, 5, 3, 2], dtype=float)
CANCELLED, RETURNED, DISCOUNTED, CART_OWNERS = 0.02, 0.015, 0.12, 0.08

TABLES.setdefault("sales_orders", Table("sales.Order", (
    "id", "customer_id", "source", "number", "store", "channel", "currency", "status", "payment_status",
    "paid_with_points", "placed_at", "items", "gross_amount", "discount_amount", "cost_amount", "created_at")))
TABLES.setdefault("sales_lines", Table("sales.OrderLine", (
    "id", "order_id", "product_id", "quantity", "price", "cost", "discount", "reward")))
TABLES.setdefault("sales_status", Table("sales.OrderStatusChange", ("order_id", "status", "at", "source")))
TABLES.setdefault("sales_returns", Table("sales.Return", ("id", "order_id", "source", "number", "amount",
                                                          "items", "at")))
TABLES.setdefault("sales_return_lines", Table("sales.ReturnLine", ("ret_id", "line_id", "quantity", "amount")))
TABLES.setdefault("sales_carts", Table("sales.AbandonedCart", ("customer_id", "source", "cart_id", "lines",
                                                               "amount", "at")))


def build_catalogue() -> dict[str, list[Product]]:
    """The menu, created once (a rerun finds it)."""
    result: dict[str, list[Product]] = {}
    for slug, items in MENU.items():
        category, _ = Category.objects.get_or_create(slug=slug, defaults={"name": CATEGORY_NAMES[slug]})
        result[slug] = [Product.objects.get_or_create(sku=sku, defaults={
            "name": name, "category": category, "price": price, "cost": cost,
            "attributes": {"volume": name.split()[-1]} if slug in ("coffee", "tea") else {}})[0]
            for sku, name, price, cost in items]
    return result


class Ids:
    """Next free ids of the tables whose rows other rows point at."""

    def __init__(self) -> None:
        self.order = (Order.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.line = (OrderLine.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.ret = (Return.objects.aggregate(m=Max("id"))["m"] or 0) + 1


class Generator:
    def __init__(self, ctx: DemoContext, menu: dict[str, list[Product]], params: ProcessParams) -> None:
        self.ctx, self.menu, self.params = ctx, menu, params
        self.categories = list(MENU)
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        start = dt.datetime.combine(ctx.anchor, dt.time(), self.tz) - dt.timedelta(days=params.window_days)
        self.start = start.date()
        self.start_utc = start.astimezone(dt.UTC)
        self.weights = {c: _falling(len(items)) for c, items in menu.items()}

    def moment(self, rng: np.random.Generator, day: float) -> dt.datetime:
        hour = int(rng.choice(HOURS, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()))
        local = dt.datetime.combine(self.start + dt.timedelta(days=int(day)), dt.time(hour, int(rng.integers(60))),
                                    self.tz)
        return local.astimezone(dt.UTC).replace(tzinfo=None)

    def basket(self, rng: np.random.Generator, taste: np.ndarray) -> list[tuple[Product, int]]:
        lines: dict[int, tuple[Product, int]] = {}
        for _ in range(1 + min(int(rng.poisson(0.5)), 3)):
            category = self.categories[int(rng.choice(len(taste), p=taste))]
            product = self.menu[category][int(rng.choice(len(self.menu[category]), p=self.weights[category]))]
            quantity = 1 if rng.random() < 0.85 else 2
            old = lines.get(product.pk)
            lines[product.pk] = (product, quantity + (old[1] if old else 0))
        return list(lines.values())

    def customer(self, rng: np.random.Generator, batch: Batch, ids: Ids, customer: tuple[int, str, dt.datetime],
                 created: dt.datetime) -> int:
        """Add one guest's orders, returns and carts to ``batch``; the number of orders."""
        cid, city, registered = customer
        buyer = purchase_days(rng, (registered - self.start_utc).total_seconds() / 86400, self.params)
        if not len(buyer.days):
            return 0
        taste = rng.dirichlet(TASTE)
        prefix, count = STORES.get(city, ("msk", 4))
        store = f"{prefix}-{int(rng.integers(count)) + 1}"
        for day in buyer.days:
            self.order(rng, batch, ids, cid, store, self.moment(rng, day), taste, created)
        if rng.random() < CART_OWNERS:
            for _ in range(1 + int(rng.poisson(0.5))):
                day = float(rng.uniform(buyer.days[0], self.params.window_days))
                basket = self.basket(rng, taste)
                lines = [{"sku": p.sku, "quantity": q, "price": p.price} for p, q in basket]
                batch.add("sales_carts", (cid, SOURCE, f"DC-{cid}-{int(day)}-{int(rng.integers(10**6))}",
                                          dumps(lines), sum(p.price * q for p, q in basket),
                                          stamp(self.moment(rng, day))))
        return len(buyer.days)

    def order(self, rng: np.random.Generator, batch: Batch, ids: Ids, cid: int, store: str, at: dt.datetime,
              taste: np.ndarray, created: dt.datetime) -> None:
        order_id, basket = ids.order, self.basket(rng, taste)
        ids.order += 1
        discounted = rng.random() < DISCOUNTED
        lines = [(ids.line + i, p, q, p.price * q // 10 if discounted else 0) for i, (p, q) in enumerate(basket)]
        ids.line += len(lines)
        cancelled = rng.random() < CANCELLED
        status, payment = ("cancelled", "unpaid") if cancelled else ("completed", "paid")
        batch.add("sales_orders", (
            order_id, cid, SOURCE, f"D-{order_id}", store, "pos", "RUB", status, payment, 0, stamp(at),
            sum(q for _, _, q, _ in lines), sum(p.price * q for _, p, q, _ in lines),
            sum(d for *_, d in lines), sum(p.cost * q for _, p, q, _ in lines), stamp(created)))
        batch.extend("sales_lines", [(lid, order_id, p.pk, q, p.price, p.cost, d, False) for lid, p, q, d in lines])
        batch.add("sales_status", (order_id, "new" if cancelled else "completed", stamp(at), SOURCE))
        if cancelled:
            batch.add("sales_status", (order_id, "cancelled", stamp(at + dt.timedelta(hours=1)), SOURCE))
        elif rng.random() < RETURNED:
            lid, product, quantity, discount = lines[0]
            amount = rules.returned_amount(product.price, quantity, discount, 0, quantity)
            batch.add("sales_returns", (ids.ret, order_id, SOURCE, f"DR-{ids.ret}", amount, quantity,
                                        stamp(at + dt.timedelta(hours=2))))
            batch.add("sales_return_lines", (ids.ret, lid, quantity, amount))
            ids.ret += 1


def _falling(n: int) -> np.ndarray:
    weights = 1.0 / (np.arange(n) + 1.5)
    return np.asarray(weights / weights.sum())


def _sync_sequences() -> None:
    """Explicit ids were written: move PostgreSQL's sequences past them (SQLite follows by itself)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Order, OrderLine, Return):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                           f"(SELECT COALESCE(MAX(id), 1) FROM {connection.ops.quote_name(table)}))", [table])


def run(ctx: DemoContext, params: ProcessParams | None = None) -> dict[str, int]:
    """Generate and load the purchase history of every guest (people, not companies), chunk by chunk."""
    menu = build_catalogue()
    generator = Generator(ctx, menu, params or ProcessParams())
    people = Customer.objects.filter(kind="person", merged_into__isnull=True).order_by("id")
    all_ids = list(people.values_list("id", flat=True))
    counts = {"products": sum(len(v) for v in menu.values()), "orders": 0, "rows": 0}
    first_chunk = int(ctx.resume.get("chunk", 0))
    created = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with bulk_session():
        for number in range(first_chunk, (len(all_ids) + CHUNK - 1) // CHUNK):
            chunk = all_ids[number * CHUNK:(number + 1) * CHUNK]
            rng = ctx.rng(STAGE, number)
            batch, ids = Batch(), Ids()
            rows: list[Any] = list(people.filter(id__in=chunk).values_list("id", "city", "created_at"))
            for row in rows:
                counts["orders"] += generator.customer(rng, batch, ids, row, created)
            counts["rows"] += load(batch)
            _sync_sequences()
            with transaction.atomic():
                figures.recompute_customers(chunk)
            ctx.checkpoint({"chunk": number + 1})
            ctx.log(f"  {STAGE}: {min((number + 1) * CHUNK, len(all_ids)):,} of {len(all_ids):,} guests")
    return counts
