"""Catalogue, orders, returns and figures endpoints: check access, call one service or selector."""

from typing import Any

from django.db import transaction
from django.http import FileResponse, HttpRequest
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from clientbase.api import require
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError, NotFound
from clientbase.core.pagination import paginate_by_id
from clientbase.customers.selectors import access_customer
from clientbase.sales import selectors, services
from clientbase.sales.models import CustomerFigures, Order, Product
from clientbase.sales.schemas import (
    ArrivalIn,
    ArrivalOut,
    FiguresOut,
    OrderIn,
    OrderOut,
    OrderPage,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
    ReturnIn,
    ReturnOut,
    StatusIn,
)

router = Router(tags=["sales"])


def product_out(product: Product) -> dict[str, Any]:
    return {"id": product.pk, "sku": product.sku, "name": product.name,
            "category": product.category.slug if product.category else None, "attributes": product.attributes,
            "price": product.price, "cost": product.cost, "active": product.active}


def order_out(order: Order) -> dict[str, Any]:
    returned: dict[int, int] = {}
    for ret in order.returns.all():
        for rl in ret.lines.all():
            returned[rl.line_id] = returned.get(rl.line_id, 0) + rl.quantity
    return {
        **{f: getattr(order, f) for f in ("number", "source", "customer_id", "store", "channel", "currency",
                                           "status", "payment_status", "paid_with_points", "placed_at",
                                           "items", "gross_amount", "discount_amount")},
        "id": order.pk,
        "lines": [{"sku": li.product.sku, "name": li.product.name, "quantity": li.quantity, "price": li.price,
                   "cost": li.cost, "discount": li.discount, "reward": li.reward,
                   "returned": returned.get(li.pk, 0)} for li in order.lines.all()],
        "status_changes": list(order.status_changes.all()),
        "returns": list(order.returns.all()),
    }


def figures_out(row: CustomerFigures) -> dict[str, Any]:
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}


@router.get("/products", response=ProductPage, summary="The catalogue (cursor pagination)")
def list_products(request: HttpRequest, cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
    require(request, "orders:read")
    page = paginate_by_id(selectors.products(), cursor, limit)
    return {"items": [product_out(p) for p in page.items], "next_cursor": page.next_cursor}


@router.post("/products", response={201: ProductOut}, summary="Add a product")
def create_product(request: HttpRequest, payload: ProductIn) -> Status[dict[str, Any]]:
    require(request, "orders:write")
    return Status(201, product_out(services.save_product(payload.model_dump())))


@router.patch("/products/{sku}", response=ProductOut, summary="Change a product")
def update_product(request: HttpRequest, sku: str, payload: ProductPatch) -> dict[str, Any]:
    require(request, "orders:write")
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise NotFound(f"product {sku}")
    return product_out(services.save_product(payload.model_dump(exclude_none=True), product=product))


@router.post("/products/{sku}/arrivals", response={201: ArrivalOut}, summary="Record a stock arrival")
def add_arrival(request: HttpRequest, sku: str, payload: ArrivalIn) -> Status[dict[str, Any]]:
    require(request, "orders:write")
    arrival = services.record_arrival(sku, payload.quantity, store=payload.store)
    return Status(201, {"id": arrival.pk, "sku": sku, "quantity": arrival.quantity, "store": arrival.store,
                        "arrived_at": arrival.arrived_at})


@router.post("/orders", response={201: OrderOut}, summary="Create an order (a phone alone is enough)")
def create_order(request: HttpRequest, payload: OrderIn) -> Status[dict[str, Any]]:
    actor = require(request, "orders:write")
    with transaction.atomic():
        if payload.customer_id is not None:
            customer = access_customer(actor, payload.customer_id, write=True)
        elif payload.phone:
            found = services.customer_for_phone(payload.phone, actor=actor, source="api")
            # Another team's customer stays invisible (R9.1): the order is refused, nothing stored.
            customer = access_customer(actor, found.pk)
        else:
            raise DomainValidationError.single("customer_id", "Give customer_id or phone.")
        data = payload.model_dump(exclude={"customer_id", "phone", "status"})
        data["order_id"] = payload.order_id or services.new_order_number()
        if payload.status not in ("new", "confirmed", "paid", "completed"):
            raise DomainValidationError.single("status", "A new order is new, confirmed, paid or completed.")
        order = services.record_purchase(customer, data, source="api", occurred_at=now(), path="",
                                         status=payload.status, channel=actor.channel)
    return Status(201, order_out(selectors.access_order(actor, order.pk)))


@router.get("/orders/{order_id}", response=OrderOut, summary="An order with lines, status history, returns")
def read_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    actor = require(request, "orders:read")
    return order_out(selectors.access_order(actor, order_id))


@router.post("/orders/{order_id}/status", response=OrderOut, summary="Move an order along the pipeline")
def set_status(request: HttpRequest, order_id: int, payload: StatusIn) -> dict[str, Any]:
    actor = require(request, "orders:write")
    services.change_status(selectors.access_order(actor, order_id), payload.status, source="api")
    return order_out(selectors.access_order(actor, order_id))


@router.post("/orders/{order_id}/returns", response={201: ReturnOut}, summary="Return lines or the whole order")
def create_return(request: HttpRequest, order_id: int, payload: ReturnIn) -> Status[Any]:
    actor = require(request, "orders:write")
    order = selectors.access_order(actor, order_id)
    lines = [line.model_dump() for line in payload.lines] if payload.lines else None
    return Status(201, services.record_return(order, number=payload.return_id, lines=lines, source="api", path=""))


@router.get("/customers/{customer_id}/orders", response=OrderPage, summary="A customer's orders, oldest first (cursor pagination)")
def customer_orders(request: HttpRequest, customer_id: int, cursor: str | None = None,
                    limit: int = 50) -> dict[str, Any]:
    actor = require(request, "orders:read")
    access_customer(actor, customer_id)
    page = paginate_by_id(selectors.customer_orders(customer_id), cursor, limit)
    return {"items": [order_out(o) for o in page.items], "next_cursor": page.next_cursor}


@router.get("/customers/{customer_id}/figures", response=FiguresOut, summary="A customer's purchase figures")
def customer_figures(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    actor = require(request, "orders:read")
    access_customer(actor, customer_id)
    return figures_out(selectors.figures_of(customer_id))


@router.get("/export/{kind}", summary="Export customers, orders or figures (CSV or XLSX); needs 'export'")
def export_table(request: HttpRequest, kind: str, format: str = "csv") -> FileResponse:
    import tempfile

    from clientbase.sales.exporting import export

    actor = require(request, "export")
    # A spooled file keeps small exports in memory and spills big ones to disk, never to RAM whole.
    target = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115  (FileResponse closes it)
    export(kind, format, target, actor=actor)  # type: ignore[arg-type]
    target.seek(0)
    content_type = ("text/csv; charset=utf-8" if format == "csv" else
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return FileResponse(target, as_attachment=True, filename=f"{kind}.{format}", content_type=content_type)


@router.post("/import", summary="Import customers or orders from an uploaded CSV/XLSX (see docs/sales.md)")
def import_file(request: HttpRequest, file: File[UploadedFile], kind: Form[str] = "customers",
                mode: Form[str] = "all-or-nothing", dry_run: Form[bool] = False,
                mapping: Form[str] = "") -> dict[str, Any]:
    from clientbase.sales.importing import run_uploaded_import

    actor = require(request, "orders:write" if kind == "orders" else "customers:write")
    return run_uploaded_import(file, kind=kind, mode=mode, dry_run=dry_run, mapping_text=mapping, actor=actor)
