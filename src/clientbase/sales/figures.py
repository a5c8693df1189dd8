"""Per-customer figures (R4.3): kept current at write time, recomputable from the orders.

The write path changes one customer's row with ``F()`` updates (counters, sums) and the small
helper tables (visit days, product counts), so an order costs O(its lines), never a scan.
``recompute`` rebuilds the same numbers from orders with GROUP BY queries, in chunks of customers;
``stats rebuild --check`` compares the two and reports drift.
"""

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from clientbase.core import fastinsert, fastsql
from clientbase.sales import rules
from clientbase.sales.models import (
    AbandonedCart,
    Category,
    CustomerFigures,
    CustomerProductCount,
    CustomerVisitDay,
    Order,
    OrderLine,
    Product,
    Return,
)

COUNTING = ~Q(status="cancelled")
TOP = 3


def local_day(at: dt.datetime) -> dt.date:
    """The business's calendar day of a moment (a visit at 01:00 Moscow is that day, not the UTC one)."""
    return timezone.localtime(at, timezone.get_default_timezone()).date()


def _add_to(customer_id: int, **changes: Any) -> None:
    """UPDATE the customer's figures row (created if missing); this takes the row's lock first.

    A rebuild (``write``) replaces rows under their locks (``lock``), so an UPDATE that waited for it
    finds its row gone when it wakes: it looks again and lands on the row the rebuild wrote.
    """
    for _ in range(10):
        CustomerFigures.objects.get_or_create(customer_id=customer_id)
        if CustomerFigures.objects.filter(pk=customer_id).update(**changes):
            return
    raise RuntimeError(f"figures of customer {customer_id} kept disappearing")


def lock(customer_ids: list[int]) -> None:
    """Create the missing figures rows of these customers and lock them all, in id order.

    Every writer holds a customer's figures row while it changes that customer's figures and helper
    rows: the per-order path through its first UPDATE (``_add_to``), rebuilds and batch counts (which
    read, then write back whole rows) through this, before they read. Without it a purchase recorded
    while a merge or an order import rebuilt the same customer was lost. SQLite serializes writers
    already (IMMEDIATE transactions).
    """
    if not customer_ids or not connection.features.has_select_for_update:
        return
    table = connection.ops.quote_name(CustomerFigures._meta.db_table)
    blank = [f for f in CustomerFigures._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in blank)
    defaults = [f.get_db_prep_save(f.get_default(), connection) for f in blank]
    ids = sorted(customer_ids)
    among, params = fastinsert.any_of("customer_id", ids)
    with connection.cursor() as cursor:
        # PostgreSQL only (the check above): one statement for the chunk, not an ORM bulk_create.
        cursor.execute(f"INSERT INTO {table} (customer_id, {columns}) SELECT c, {', '.join(['%s'] * len(blank))}"
                       " FROM unnest(%s::bigint[]) AS c ON CONFLICT (customer_id) DO NOTHING", [*defaults, fastinsert.pg_array(ids)])
        cursor.execute(f"SELECT customer_id FROM {table} WHERE {among} ORDER BY customer_id FOR UPDATE", params)


def add_order(order: Order, lines: Iterable[OrderLine], *, sign: int = 1) -> None:
    """Count (sign=1) or uncount (sign=-1, a cancellation) one order of ``order.customer_id``."""
    cid = order.customer_id
    _add_to(cid, orders=F("orders") + sign, items=F("items") + sign * order.items,
            gross_amount=F("gross_amount") + sign * order.gross_amount,
            discount_amount=F("discount_amount") + sign * order.discount_amount,
            cost_amount=F("cost_amount") + sign * order.cost_amount)
    _count_visit_day(cid, local_day(order.placed_at), sign)
    quantities: dict[tuple[int, int | None], int] = {}
    for line in lines:
        key = (line.product_id, line.product.category_id)
        quantities[key] = quantities.get(key, 0) + line.quantity
    for (product_id, category_id), quantity in quantities.items():
        row, _ = CustomerProductCount.objects.get_or_create(customer_id=cid, product_id=product_id,
                                                            defaults={"category_id": category_id})
        CustomerProductCount.objects.filter(pk=row.pk).update(quantity=F("quantity") + sign * quantity)
    if sign < 0:
        CustomerProductCount.objects.filter(customer_id=cid, quantity__lte=0).delete()
    _update_dates(cid, order.placed_at, sign)
    refresh_derived(cid)


def _count_visit_day(customer_id: int, day: dt.date, sign: int) -> None:
    if sign > 0:
        row, created = CustomerVisitDay.objects.get_or_create(customer_id=customer_id, day=day)
        CustomerVisitDay.objects.filter(pk=row.pk).update(orders=F("orders") + 1)
        if created:
            CustomerFigures.objects.filter(pk=customer_id).update(visit_days=F("visit_days") + 1)
        return
    CustomerVisitDay.objects.filter(customer_id=customer_id, day=day).update(orders=F("orders") - 1)
    gone, _ = CustomerVisitDay.objects.filter(customer_id=customer_id, day=day, orders__lte=0).delete()
    if gone:
        CustomerFigures.objects.filter(pk=customer_id).update(visit_days=F("visit_days") - 1)


def _update_dates(customer_id: int, at: dt.datetime, sign: int) -> None:
    rows = CustomerFigures.objects.filter(pk=customer_id)
    if sign > 0:
        # Conditional updates: only an earlier first or a later last purchase moves the date.
        rows.filter(Q(first_purchase_at__isnull=True) | Q(first_purchase_at__gt=at)).update(first_purchase_at=at)
        rows.filter(Q(last_purchase_at__isnull=True) | Q(last_purchase_at__lt=at)).update(last_purchase_at=at)
        return
    span = Order.objects.filter(COUNTING, customer_id=customer_id).aggregate(first=Min("placed_at"),
                                                                            last=Max("placed_at"))
    rows.update(first_purchase_at=span["first"], last_purchase_at=span["last"])


def add_return(customer_id: int, amount: int) -> None:
    _add_to(customer_id, returns=F("returns") + 1, returns_amount=F("returns_amount") + amount)
    refresh_derived(customer_id)


def add_abandoned(customer_id: int) -> None:
    _add_to(customer_id, abandoned=F("abandoned") + 1)


def favourites(customer_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Top products and categories by units bought; ties go to the older product or category
    (ids, not names: collations differ between SQLite and PostgreSQL)."""
    products = (CustomerProductCount.objects.filter(customer_id=customer_id, quantity__gt=0)
                .order_by("-quantity", "product_id").values("product__sku", "quantity")[:TOP])
    categories = (CustomerProductCount.objects.filter(customer_id=customer_id, quantity__gt=0,
                                                      category__isnull=False)
                  .values("category_id", "category__slug").annotate(units=Sum("quantity"))
                  .order_by("-units", "category_id")[:TOP])
    return ([{"sku": p["product__sku"], "quantity": p["quantity"]} for p in products],
            [{"category": c["category__slug"], "quantity": c["units"]} for c in categories])


def refresh_derived(customer_id: int) -> None:
    """Recompute the fields that follow from the stored sums and the helper tables, for one customer."""
    row = CustomerFigures.objects.get(pk=customer_id)
    row.total_spend, row.average_check, row.profit = rules.derived(
        row.orders, row.gross_amount, row.discount_amount, row.cost_amount, row.returns_amount,
        rules.service_cost_per_order())
    row.frequency = rules.frequency_class(row.orders, row.first_purchase_at, row.last_purchase_at,
                                          rules.frequency_rules())
    row.favourite_products, row.favourite_categories = favourites(customer_id)
    row.save(update_fields=["total_spend", "average_check", "profit", "frequency", "favourite_products",
                            "favourite_categories"])


@dataclass
class Computed:
    """Everything recompute derives for one customer; compared field by field with the stored rows."""

    figures: dict[str, Any] = field(default_factory=dict)
    visit_days: dict[dt.date, int] = field(default_factory=dict)
    products: dict[int, tuple[int | None, int]] = field(default_factory=dict)


_COUNTS = ("orders", "abandoned", "items", "gross_amount", "discount_amount", "cost_amount", "returns",
           "returns_amount")
_BLANK: dict[str, Any] = {f: 0 for f in _COUNTS} | {"first_purchase_at": None, "last_purchase_at": None}
# The stored (not derived) figures, in the order ``write`` inserts them.
STORED = (*_BLANK, "visit_days")


def _blank() -> dict[str, Any]:
    return _BLANK.copy()


def compute(customer_ids: list[int]) -> dict[int, Computed]:
    """Figures of ``customer_ids`` from orders, returns and carts alone (a few GROUP BY queries)."""
    result = {cid: Computed(figures=_blank()) for cid in customer_ids}
    orders = Order.objects.filter(COUNTING, customer_id__in=customer_ids)
    for o in orders.values("customer_id").annotate(
            n=Count("id"), items_=Sum("items"), gross=Sum("gross_amount"), discount=Sum("discount_amount"),
            cost=Sum("cost_amount"), first=Min("placed_at"), last=Max("placed_at")):
        result[o["customer_id"]].figures.update(
            orders=o["n"], items=o["items_"], gross_amount=o["gross"], discount_amount=o["discount"],
            cost_amount=o["cost"], first_purchase_at=o["first"], last_purchase_at=o["last"])
    tz = timezone.get_default_timezone()
    for d in orders.annotate(day=TruncDate("placed_at", tzinfo=tz)).values("customer_id", "day").annotate(
            n=Count("id")):
        result[d["customer_id"]].visit_days[d["day"]] = d["n"]
    lines = OrderLine.objects.filter(order__in=orders)
    for li in lines.values("order__customer_id", "product_id", "product__category_id").annotate(
            q=Sum("quantity")):
        result[li["order__customer_id"]].products[li["product_id"]] = (li["product__category_id"], li["q"])
    returns = Return.objects.filter(order__customer_id__in=customer_ids)
    for r in returns.values("order__customer_id").annotate(n=Count("id"), amount=Sum("amount")):
        result[r["order__customer_id"]].figures.update(returns=r["n"], returns_amount=r["amount"])
    carts = AbandonedCart.objects.filter(customer_id__in=customer_ids)
    for c in carts.values("customer_id").annotate(n=Count("id")):
        result[c["customer_id"]].figures["abandoned"] = c["n"]
    for computed in result.values():
        computed.figures["visit_days"] = len(computed.visit_days)
    return result


def _stored(customer_ids: list[int]) -> dict[int, Computed]:
    """The stored figures and helper rows of these customers (three key-list reads, ``select_in``: an order
    import asks this for every batch, and the ORM's per-row conversion cost it more than the reads)."""
    result = {cid: Computed(figures=_blank() | {"visit_days": 0}) for cid in customer_ids}
    keys = list(_blank()) + ["visit_days"]
    columns = ", ".join(connection.ops.quote_name(k) for k in keys)
    for cid, *values in fastinsert.select_in(f"SELECT customer_id, {columns} FROM {CustomerFigures._meta.db_table} "
                                             "WHERE {match}", "customer_id", customer_ids):
        figures = dict(zip(keys, values, strict=True))
        figures["first_purchase_at"] = _moment(figures["first_purchase_at"])
        figures["last_purchase_at"] = _moment(figures["last_purchase_at"])
        result[cid].figures = figures
    for cid, day, orders in fastinsert.select_in(f"SELECT customer_id, day, orders FROM {CustomerVisitDay._meta.db_table} "
                                                 "WHERE {match}", "customer_id", customer_ids):
        result[cid].visit_days[day if type(day) is dt.date else dt.date.fromisoformat(day)] = orders
    for cid, product_id, category_id, quantity in fastinsert.select_in(
            f"SELECT customer_id, product_id, category_id, quantity FROM {CustomerProductCount._meta.db_table} "
            "WHERE quantity > 0 AND {match}", "customer_id", customer_ids):
        result[cid].products[product_id] = (category_id, quantity)
    return result


def _moment(value: Any) -> dt.datetime | None:
    """A stored moment as the ORM reads it: aware, in UTC (SQLite keeps naive UTC text, which its driver
    may have parsed already)."""
    if value is None:
        return None
    if type(value) is not dt.datetime:
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@dataclass
class NewOrder:
    """A just stored order that counts (not cancelled), as ``add_new_orders`` takes it."""

    customer_id: int
    placed_at: dt.datetime
    items: int
    gross_amount: int
    discount_amount: int
    cost_amount: int
    products: list[tuple[int, int | None, int]]  # product, its category, units


def add_new_orders(orders: list[NewOrder]) -> None:
    """Count a batch of new orders into their customers' figures: the stored figures and helper rows plus
    the batch (a few queries per 1,000 customers, not a GROUP BY over their whole history). Only what the
    batch changed is written: each customer's figures row and the visit-day and product rows it touched,
    updated in place (a rewrite of every helper row of every customer was most of an order import's
    writes). The result equals a recomputation whenever the stored figures did before
    (``stats rebuild --check``); the categories of the batch's products are taken as they are now, as
    a recomputation takes them."""
    by_customer: dict[int, list[NewOrder]] = {}
    for order in orders:
        by_customer.setdefault(order.customer_id, []).append(order)
    for chunk in _chunks(sorted(by_customer), 1000):
        with transaction.atomic():  # the locks last until the rows are written
            lock(chunk)
            current = _stored(chunk)
            days: list[tuple[int, dt.date, int]] = []
            products: list[tuple[int, int, int | None, int]] = []
            for cid in chunk:
                computed = current[cid]
                touched_days, touched_products = _count_in(computed, by_customer[cid])
                days += [(cid, day, computed.visit_days[day]) for day in touched_days]
                products += [(cid, pid, *computed.products[pid]) for pid in touched_products]
            fastinsert.upsert_rows(CustomerFigures, FIGURE_COLUMNS, _figure_rows(current), key=("customer_id",))
            fastinsert.upsert_rows(CustomerVisitDay, ("customer_id", "day", "orders"), days,
                                   key=("customer_id", "day"))
            fastinsert.upsert_rows(CustomerProductCount, ("customer_id", "product_id", "category_id", "quantity"),
                                   products, key=("customer_id", "product_id"))


def _count_in(computed: Computed, orders: list[NewOrder]) -> tuple[set[dt.date], set[int]]:
    """Add ``orders`` to ``computed``; returns the visit days and products whose rows changed."""
    f = computed.figures
    days: set[dt.date] = set()
    products: set[int] = set()
    for order in orders:
        f["orders"] += 1
        f["items"] += order.items
        f["gross_amount"] += order.gross_amount
        f["discount_amount"] += order.discount_amount
        f["cost_amount"] += order.cost_amount
        first, last = f["first_purchase_at"], f["last_purchase_at"]
        f["first_purchase_at"] = order.placed_at if first is None else min(first, order.placed_at)
        f["last_purchase_at"] = order.placed_at if last is None else max(last, order.placed_at)
        day = local_day(order.placed_at)
        computed.visit_days[day] = computed.visit_days.get(day, 0) + 1
        days.add(day)
        for product_id, category_id, units in order.products:
            computed.products[product_id] = (category_id, computed.products.get(product_id, (None, 0))[1] + units)
            products.add(product_id)
    f["visit_days"] = len(computed.visit_days)
    return days, products


FIGURE_COLUMNS = ("customer_id", *STORED, "total_spend", "average_check", "profit", "frequency",
                  "favourite_products", "favourite_categories")


def _figure_rows(computed: dict[int, Computed]) -> list[tuple[Any, ...]]:
    """Whole figures rows (``FIGURE_COLUMNS``) of these customers: the stored sums and what follows from them."""
    product_ids = {pid for c in computed.values() for pid in c.products}
    skus = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "sku"))
    slugs = dict(Category.objects.values_list("pk", "slug"))
    service_cost, freq_rules = rules.service_cost_per_order(), rules.frequency_rules()
    rows = []
    for cid, c in computed.items():
        f = c.figures
        derived = rules.derived(f["orders"], f["gross_amount"], f["discount_amount"], f["cost_amount"],
                                f["returns_amount"], service_cost)
        frequency = rules.frequency_class(f["orders"], f["first_purchase_at"], f["last_purchase_at"], freq_rules)
        rows.append((cid, *(f[name] for name in STORED), *derived, frequency, *_top(c.products, skus, slugs)))
    return rows


def write(computed: dict[int, Computed]) -> None:
    """Replace the stored figures and helper rows of these customers with ``computed``, in bulk."""
    ids = list(computed)
    for model in (CustomerVisitDay, CustomerProductCount, CustomerFigures):
        _delete_rows_of(model, ids)
    fastinsert.insert_rows(CustomerFigures, FIGURE_COLUMNS, _figure_rows(computed))
    fastinsert.insert_rows(CustomerVisitDay, ("customer_id", "day", "orders"),
                           [(cid, day, n) for cid, c in computed.items() for day, n in c.visit_days.items()])
    fastinsert.insert_rows(CustomerProductCount, ("customer_id", "product_id", "category_id", "quantity"),
                           [(cid, pid, cat, q) for cid, c in computed.items() for pid, (cat, q) in c.products.items()])


def _delete_rows_of(model: type[models.Model], customer_ids: list[int]) -> None:
    """DELETE these customers' rows in one statement. Plain SQL because the ORM prepares every value of a
    long IN list on its own, which an import paid for on every batch; nothing references these tables."""
    if not customer_ids:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    among, params = fastinsert.any_of("customer_id", customer_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {among}", params)


def _top(products: dict[int, tuple[int | None, int]], skus: dict[int, str],
         slugs: dict[int, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The same order as ``favourites`` (units down, then product / category id up), in memory."""
    top_products = sorted(((-q, pid) for pid, (_, q) in products.items() if q > 0))[:TOP]
    units: dict[int, int] = {}
    for category, q in products.values():
        if category is not None and q > 0:
            units[category] = units.get(category, 0) + q
    top_categories = sorted((-q, category) for category, q in units.items())[:TOP]
    return ([{"sku": skus[pid], "quantity": -q} for q, pid in top_products],
            [{"category": slugs[category], "quantity": -q} for q, category in top_categories])


def recompute_customers(customer_ids: list[int]) -> None:
    """Merge/unmerge hook (identity Participant.after_change): rebuild these customers' figures.

    A customer with no order, cart or stored figures row is skipped: its figures are zero before and
    after, and a missing row reads as zero (as for every new profile). Most merges of a bulk ingest
    join two channel-only profiles, so this saves a rebuild per merged pair.
    """
    for chunk in _chunks(sorted(set(customer_ids)), 500):
        with_sales = _with_sales(chunk)
        if with_sales:
            with transaction.atomic():  # the locks last until the rows are written
                lock(with_sales)
                write(compute(with_sales))


def _with_sales(customer_ids: list[int]) -> list[int]:
    return sorted(customer_id for (customer_id,) in fastsql.rows(*sales_probe(customer_ids)))


def sales_probe(customer_ids: list[int]) -> tuple[str, list[Any]]:
    """Those of these customers with an order, a cart or a figures row: the merge participants' probe
    (``identity.merges.notify_participants``). One statement, plain SQL: every merge asks this (see
    ``loyalty_probe``)."""
    match, params = fastinsert.any_of("customer_id", customer_ids)
    return (" UNION ".join(f"SELECT customer_id FROM {model._meta.db_table} WHERE {match}"
                           for model in (Order, AbandonedCart, CustomerFigures)), params * 3)


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def customers_with_sales() -> list[int]:
    ids = set(Order.objects.values_list("customer_id", flat=True).distinct())
    ids |= set(AbandonedCart.objects.values_list("customer_id", flat=True).distinct())
    ids |= set(CustomerFigures.objects.values_list("customer_id", flat=True))
    return sorted(ids)


def drift(customer_ids: list[int] | None = None, *, chunk: int = 1000) -> Iterator[tuple[int, str, Any, Any]]:
    """(customer, field, stored, recomputed) for every stored figure that differs from a recomputation."""
    ids = customers_with_sales() if customer_ids is None else customer_ids
    service_cost, freq_rules = rules.service_cost_per_order(), rules.frequency_rules()
    for part in _chunks(ids, chunk):
        stored, fresh = _stored(part), compute(part)
        rows = {r.pk: r for r in CustomerFigures.objects.filter(pk__in=part)}
        for cid in part:
            for name, value in fresh[cid].figures.items():
                if stored[cid].figures.get(name) != value:
                    yield cid, name, stored[cid].figures.get(name), value
            for name in ("visit_days", "products"):
                if getattr(stored[cid], name) != getattr(fresh[cid], name):
                    yield cid, f"helper.{name}", getattr(stored[cid], name), getattr(fresh[cid], name)
            if cid in rows:
                yield from _derived_drift(rows[cid], service_cost, freq_rules)


def orphans() -> Iterator[tuple[int, str, Any, Any]]:
    """(customer, "orphan.<table>.<column>", the missing id, None) for every figures or helper row whose
    customer, product or category does not exist. These cache tables have no foreign-key constraints in
    the database (their checks were most of an order import's commit time on PostgreSQL; see
    docs/sales.md); the ORM's ``on_delete`` still removes them with their parent, and this is the check."""
    for model in (CustomerFigures, CustomerVisitDay, CustomerProductCount):
        # Every reference the models declare without a database constraint, read from the models themselves.
        refs = [f for f in model._meta.concrete_fields
                if isinstance(f, models.ForeignKey) and not getattr(f, "db_constraint", True)]
        for ref in refs:
            column, parent = ref.attname, ref.remote_field.model
            missing = model._default_manager.exclude(**{f"{column}__isnull": True}).filter(
                ~Exists(parent._default_manager.filter(pk=OuterRef(column))))
            for customer_id, value in missing.values_list("customer_id", column).iterator():
                yield customer_id, f"orphan.{model._meta.db_table}.{column}", value, None


def _derived_drift(row: CustomerFigures, service_cost: int,
                   freq_rules: rules.FrequencyRules) -> Iterator[tuple[int, str, Any, Any]]:
    spend, average, profit = rules.derived(row.orders, row.gross_amount, row.discount_amount, row.cost_amount,
                                           row.returns_amount, service_cost)
    products, categories = favourites(row.pk)
    expected = {"total_spend": spend, "average_check": average, "profit": profit,
                "frequency": rules.frequency_class(row.orders, row.first_purchase_at, row.last_purchase_at,
                                                   freq_rules),
                "favourite_products": products, "favourite_categories": categories}
    for name, value in expected.items():
        if getattr(row, name) != value:
            yield row.pk, name, getattr(row, name), value
