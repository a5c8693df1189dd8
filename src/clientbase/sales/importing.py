"""Importing order history from CSV or Excel (R10.3), streaming, in batches.

One row is one order line; consecutive rows with the same order number make one order. The customer
is found by the phone, e-mail, card or import key of the order's first line (import customers first).
Amounts are written in roubles (``250`` or ``250,50``) and stored in kopecks. Orders are stored with
source ``import``, so importing the same orders again finds them and changes nothing. Figures of the
customers a batch touched are brought up to date in bulk in the same transaction.
"""

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from clientbase.core import fastinsert, readahead
from clientbase.core.bulk import bulk_writes
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.core.tabular import Sheet
from clientbase.customers import import_columns as columns
from clientbase.customers.importing import (
    MODES,
    ImportResult,
    Problem,
    finish,
    flush,
    plan_sheets,
    sheet_rows,
)
from clientbase.identity.locks import held_owners
from clientbase.identity.rules import normalize
from clientbase.identity.selectors import identifier_owners
from clientbase.sales import figures, rules, services
from clientbase.sales.models import Order, OrderLine, OrderStatusChange

BATCH = 25_000  # orders a transaction (valid-rows mode) and a figures count; see docs/sales.md
SOURCE = "import"
MONEY, TEXTS = frozenset({"price", "cost", "discount"}), frozenset({"product", "category", "store"})
# Read from an order's first line only; later lines of the order may leave them empty.
ORDER_LEVEL = frozenset({"date", "phone", "email", "card", "key"})
# A cell's parser: its value (and the order it belongs to, for the order-level columns) to the parsed value.
Parser = Callable[[Any, "OrderRows"], Any]


def _quantity(value: Any) -> int:
    return columns.cached_integer(value, 1) if value not in (None, "") else 1


@dataclass
class OrderRows:
    sheet: str
    first_row: int
    number: str
    placed_at: dt.datetime | None = None
    store: str = ""
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    lines: list[rules.LineIn] = field(default_factory=list)
    bad: bool = False
    rows: int = 0  # lines read, bad ones included
    problems: list[Problem] = field(default_factory=list)  # of its cells, reported when the order is settled


class NumbersMet:
    """Order numbers met earlier in this file, in memory that does not grow with the file.

    A set of every number cost ~90 bytes an order (over 180 MB for a 5-million-line file). A fixed
    16 MB Bloom filter answers "certainly not met" for almost every order; a "maybe" (about one order in
    100,000 at two million orders) is settled exactly: among the orders this run stored (the database,
    ``created_at`` from the run's start), the ones finished but not yet stored, or the ones refused.
    """

    BITS = 1 << 27

    def __init__(self, started: dt.datetime) -> None:
        self.bits = bytearray(self.BITS // 8)
        self.started = started
        self.pending: set[str] = set()   # accepted since the last stored batch
        self.refused: set[str] = set()   # refused orders are never stored: kept exactly (they are few)

    def met(self, number: str) -> bool:
        """Whether ``number`` was met before in this run; remembers it (as accepted, until ``refuse``)."""
        # Python's own string hash (random per process, stable within the run this filter lives in; cached on
        # the string), split into two halves for four positions by double hashing: blake2b cost 2% of an import.
        h = hash(number) & 0xFFFF_FFFF_FFFF_FFFF
        low, high, bits, size = h & 0xFFFF_FFFF, (h >> 32) | 1, self.bits, self.BITS
        maybe = True
        for i in range(4):
            position = (low + i * high) % size
            mask = 1 << (position & 7)
            if not bits[position >> 3] & mask:
                maybe = False
                bits[position >> 3] |= mask
        repeated = maybe and (number in self.pending or number in self.refused or Order.objects.filter(
            source=SOURCE, number=number, created_at__gte=self.started).exists())
        self.pending.add(number)
        return repeated

    def refuse(self, number: str) -> None:
        self.pending.discard(number)
        self.refused.add(number)

    def stored(self) -> None:
        self.pending.clear()


class OrderImporter:
    def __init__(self, *, region: str, report: Callable[[Problem], None], result: ImportResult,
                 hold: bool = True) -> None:
        self.region, self.sink, self.result, self.hold = region, report, result, hold
        self.tz = timezone.get_default_timezone()
        self.seen = NumbersMet(now())  # a number met twice means the file's lines are not sorted by order
        self._parser_lists: dict[tuple[int, bool], tuple[dict[int, str], list[tuple[int, str, Parser]]]] = {}

    def report(self, problem: Problem) -> None:
        self.result.problems += problem.rejected
        if len(self.result.first_problems) < 500:
            self.result.first_problems.append(problem)
        self.sink(problem)

    def read(self, path: Path, plan: list[tuple[str, str]],
             mapping: dict[str, Any]) -> Iterator[OrderRows | list[Problem]]:
        """Every order of the file with its lines (consecutive rows with one number), and a sheet's notes as
        a list; nothing here writes, counts or reports, so it may run in a read-ahead thread."""
        current: OrderRows | None = None
        last_mapped: dict[int, str] | None = None
        number_at: list[int] = []
        notes: list[Problem] = []
        for sheet, _, mapped, row, values in sheet_rows(path, plan, mapping, notes.append):
            if notes:
                yield notes
                notes = []
            if mapped is not last_mapped:  # a new sheet: where its order number is
                last_mapped, number_at = mapped, [i for i, n in mapped.items() if n == "order_id"]
            if not any(values) and all(v in (None, "") for v in values):  # any() settles nearly every row
                continue
            number = _order_number(values, number_at)
            if current is None or number != current.number or sheet.name != current.sheet:
                if current is not None:
                    yield current
                current = OrderRows(sheet.name, row, number)
            current.rows += 1
            self.add_line(current, sheet, row, values, mapped)
        if notes:
            yield notes
        if current is not None:
            yield current

    def add_line(self, order: OrderRows, sheet: Sheet, row: int, values: list[Any], mapped: dict[int, str]) -> None:
        cells: dict[str, Any] = {}
        first = not order.lines and not order.bad
        width = len(values)
        for index, name, parse in self._parsers(mapped, first):
            value = values[index] if index < width else None
            try:
                cells[name] = parse(value, order)
            except (columns.CellError, DomainValidationError) as exc:
                message = exc.errors[0].message if isinstance(exc, DomainValidationError) else str(exc)
                order.problems.append(Problem(sheet.name, row, sheet.header[index],
                                              "" if value is None else str(value), message))
                order.bad = True
        if order.bad:
            return
        if first and cells.get("store"):
            order.store = cells["store"]
        if not cells.get("sku"):
            order.problems.append(Problem(sheet.name, row, "", "", "A line needs an SKU column value."))
            order.bad = True
            return
        price, quantity, discount = cells.get("price", 0), cells.get("quantity", 1), cells.get("discount", 0)
        if discount > price * quantity:
            order.problems.append(Problem(sheet.name, row, "", str(discount),
                                          "The discount is more than the line's amount."))
            order.bad = True
            return
        order.lines.append(rules.LineIn(cells["sku"], cells.get("product") or cells["sku"],
                                        cells.get("category", ""), quantity, price, cells.get("cost", 0),
                                        discount, False))

    def _parsers(self, mapped: dict[int, str], first: bool) -> list[tuple[int, str, Parser]]:
        """(column, field, parser) for a sheet's mapped columns, chosen once per sheet rather than per cell.
        An order's date and customer come from its first line: later lines skip those columns."""
        key = (id(mapped), first)
        if key not in self._parser_lists:  # the map is kept with its parsers, so its id is not reused
            self._parser_lists[key] = (mapped, [(index, name, self._parser(name)) for index, name in mapped.items()
                                                if first or name not in ORDER_LEVEL])
        return self._parser_lists[key][1]

    def _parser(self, name: str) -> Parser:
        if name in MONEY:
            return lambda value, order: columns.cached_money(value)
        if name == "quantity":
            return lambda value, order: _quantity(value)
        if name == "sku":
            return lambda value, order: columns.cached_code(value)[:64]
        if name == "order_id":  # read by _order_number already; checked here so a bad one is reported
            return lambda value, order: columns.code(value)[:64]
        if name in TEXTS:
            limit = 200 if name == "product" else 100
            return lambda value, order: columns.cached_text(value, limit)
        if name == "date":
            def placed(value: Any, order: OrderRows) -> None:
                order.placed_at = columns.moment(value, self.tz)
            return placed
        kind = "external" if name == "key" else name

        def identifier(value: Any, order: OrderRows) -> None:
            raw = columns.code(value) if name != "email" else columns.text(value, 254)
            if raw:
                text = f"import:{raw}" if name == "key" else normalize(name, raw, region=self.region, field=name)
                order.identifiers.append((kind, text))
        return identifier

    def finish(self, order: OrderRows) -> OrderRows | None:
        """Report the order's problems and count its rows; the order if it is to be stored."""
        self.result.rows += order.rows
        for problem in order.problems:
            self.report(problem)
        if order.bad:
            self.result.rejected_rows += 1
            return None
        repeated = self.seen.met(order.number)
        reason = ("The order has no number." if not order.number else
                  "This order's lines are not next to each other; sort the file by order number." if repeated else
                  "The order has no date." if order.placed_at is None else
                  "Nothing to find the customer by: give a phone, e-mail, card or key." if not order.identifiers
                  else "")
        if reason:
            self._refuse(order, reason)
            return None
        return order

    def _refuse(self, order: OrderRows, reason: str) -> None:
        self.seen.refuse(order.number)
        self.result.rejected_rows += 1
        self.report(Problem(order.sheet, order.first_row, "", order.number, reason))

    def apply(self, batch: list[OrderRows]) -> None:
        # select_in: one index walk per number (the ORM's IN prepared each number on its own, and "= ANY"
        # let PostgreSQL read every imported order and filter them, 250 ms a batch at a million orders).
        known = {number for (number,) in fastinsert.select_in(
            f"SELECT number FROM {Order._meta.db_table} WHERE source = %s AND {{match}}", "number",
            [o.number for o in batch], [SOURCE])}
        # Held, not only looked up: a merge that ran between the lookup and the insert left the orders, and
        # their figures, on its tombstone (docs/identity.md, "Nothing is filed under a tombstone"). Only the
        # customers of new orders; a dry run, which stores nothing, holds nobody.
        wanted = {i for o in batch if o.number not in known for i in o.identifiers}
        owners = held_owners(wanted) if self.hold else identifier_owners(wanted)
        fresh: list[tuple[OrderRows, int]] = []
        for order in batch:
            customer_ids = {owners[i] for i in order.identifiers if i in owners}
            if order.number in known:
                self.result.unchanged += 1
            elif len(customer_ids) != 1:
                self._refuse(order, "No customer has these identifiers; import the customers first."
                             if not customer_ids else "The identifiers belong to different customers.")
            else:
                fresh.append((order, customer_ids.pop()))
        products = services.products_for([line for order, _ in fresh for line in order.lines])
        # Plain rows rather than model instances: building an Order per row cost more than inserting it.
        ids = fastinsert.reserve_ids(Order, len(fresh)) if fresh else []
        at = now()
        orders, lines, counted = [], [], []
        for order_id, (o, cid) in zip(ids, fresh, strict=True):
            placed_at = _when(o)
            totals = (sum(li.quantity for li in o.lines), sum(li.price * li.quantity for li in o.lines),
                      sum(li.discount for li in o.lines), sum(li.cost * li.quantity for li in o.lines))
            orders.append((order_id, cid, SOURCE, o.number, o.store, "completed", "paid", placed_at, *totals, at))
            lines += [(order_id, products[li.sku].pk, li.quantity, li.price, li.cost, li.discount, False)
                      for li in o.lines]
            counted.append(figures.NewOrder(cid, placed_at, *totals, [
                (products[li.sku].pk, products[li.sku].category_id, li.quantity) for li in o.lines]))
        fastinsert.insert_rows(Order, ("id", "customer_id", "source", "number", "store", "status", "payment_status",
                                       "placed_at", "items", "gross_amount", "discount_amount", "cost_amount",
                                       "created_at"), orders)
        fastinsert.insert_rows(OrderLine, ("order_id", "product_id", "quantity", "price", "cost", "discount",
                                           "reward"), lines)
        fastinsert.insert_rows(OrderStatusChange, ("order_id", "status", "at", "source"),
                               [(row[0], "completed", row[7], SOURCE) for row in orders])
        figures.add_new_orders(counted)
        self.result.created += len(orders)
        self.seen.stored()


def import_orders(path: Path, *, mapping: dict[str, Any] | None = None, mode: str = "all-or-nothing",
                  dry_run: bool = False, region: str = "RU", report: Callable[[Problem], None] = lambda p: None,
                  progress: Callable[[int], None] = lambda n: None) -> ImportResult:
    """Import order lines from ``path``; ``result.created`` counts orders, ``rows`` lines."""
    if mode not in MODES:
        raise DomainValidationError.single("mode", f"Must be one of {', '.join(MODES)}.")
    mapping = mapping or {}
    result = ImportResult()
    importer = OrderImporter(region=region, report=report, result=result, hold=not dry_run)
    plan = plan_sheets(path, mapping, "orders")
    whole = mode == "all-or-nothing" or dry_run
    with columns.cells_remembered(), bulk_writes(connection), transaction.atomic() if whole else contextlib.nullcontext():
        batch: list[OrderRows] = []
        # Orders are read ahead (a second thread, on PostgreSQL) while the batch before them is stored;
        # the NumbersMet check (it may ask the database) and all counting happen here, in file order.
        for records in readahead.ahead(importer.read(path, plan, mapping), limit=BATCH):
            for record in records:
                if isinstance(record, list):  # notes about a sheet's columns
                    for problem in record:
                        importer.report(problem)
                elif done := importer.finish(record):
                    batch.append(done)
                    if len(batch) >= BATCH:
                        flush(importer, batch, whole)
                        progress(result.rows)
                        batch = []
        if batch:
            flush(importer, batch, whole)
        progress(result.rows)
        finish(result, dry_run=dry_run, mode=mode, whole=whole)
    return result


def _when(order: OrderRows) -> dt.datetime:
    assert order.placed_at is not None, "finish() refuses orders without a date"
    return order.placed_at


def _order_number(values: list[Any], columns_at: list[int]) -> str:
    """The first order-number cell of the row that is not empty (a mapping may name several columns)."""
    for index in columns_at:
        if index < len(values) and values[index] not in (None, ""):
            try:
                return columns.code(values[index])[:64]
            except columns.CellError:
                return str(values[index])
    return ""


def run_uploaded_import(upload: Any, *, kind: str, mode: str, dry_run: bool, mapping_text: str,
                        actor: Any) -> dict[str, Any]:
    """Import an uploaded file (API and web page): spool it to a temporary file, import, summarise."""
    import json
    import tempfile

    from django.conf import settings

    from clientbase.customers.importing import import_customers

    if kind not in ("customers", "orders"):
        raise DomainValidationError.single("kind", "Must be customers or orders.")
    try:
        mapping = json.loads(mapping_text) if mapping_text.strip() else {}
    except json.JSONDecodeError as exc:
        raise DomainValidationError.single("mapping", f"Not valid JSON: {exc}") from None
    suffix = Path(upload.name or "upload.csv").suffix.lower() or ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(upload.name or "upload").stem + suffix)
        with path.open("wb") as target:
            for chunk in upload.chunks():
                target.write(chunk)
        region = settings.CLIENTBASE_DEFAULT_REGION
        if kind == "orders":
            result = import_orders(path, mapping=mapping, mode=mode, dry_run=dry_run, region=region)
        else:
            result = import_customers(path, actor=actor, mapping=mapping, mode=mode, dry_run=dry_run,
                                      region=region)
    return {"rows": result.rows, "created": result.created, "updated": result.updated,
            "unchanged": result.unchanged, "refused_rows": result.rejected_rows, "problems": result.problems,
            "stored": result.stored,
            "report": [{"sheet": p.sheet, "row": p.row, "column": p.column, "value": p.value, "reason": p.reason,
                        "refused": p.rejected} for p in result.first_problems]}
