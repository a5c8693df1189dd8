"""A small generated world of customers with everything rules can see, and a brute-force evaluator.

The evaluator reads the same rows back into plain Python objects and decides membership with
ordinary Python comparisons: the independent oracle the SQL compiler is checked against.
"""

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from clientbase.customers.models import Customer, CustomFieldDefinition, ImportantDate, Tag
from clientbase.segments import rules

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
CITIES = ["Москва", "Тверь", "Казань", "Новосибирск", "Сочи", ""]
TAGS = ["vip", "student", "b2b"]
CATEGORIES = ["coffee", "tea", "desserts"]
CUSTOM = [("cups", "number", []), ("drink", "choice", ["latte", "tea", "raf"]),
          ("extras", "multi_choice", ["syrup", "oat", "cinnamon"]), ("since", "date", []),
          ("photo_ok", "bool", []), ("nick", "text", [])]


def build_world(seed: int = 7, size: int = 60) -> None:
    from clientbase.analytics.scores import CustomerScore
    from clientbase.identity.models import Consent, Identifier
    from clientbase.interactions.models import Event
    from clientbase.loyalty.models import Account, Program, Tier
    from clientbase.sales.models import Category, CustomerFigures, Order, OrderLine, Product

    rng = random.Random(seed)
    for key, ftype, choices in CUSTOM:
        CustomFieldDefinition.objects.create(key=key, label=key, type=ftype, choices=choices)
    tags = {name: Tag.objects.create(name=name) for name in TAGS}
    products = {c: Product.objects.create(sku=f"SKU-{c}", name=c,
                                          category=Category.objects.create(name=c, slug=c)) for c in CATEGORIES}
    program = Program.objects.create(name="Зёрна", slug="zerna")
    tiers = [Tier.objects.create(program=program, name=n, threshold=t) for n, t in (("Silver", 1), ("Gold", 2))]
    second = Program.objects.create(name="Кофе+", slug="kofe")
    for i in range(size):
        born = None if rng.random() < 0.2 else TODAY - dt.timedelta(days=rng.randint(0, 365 * 70))
        if rng.random() < 0.1:
            born = TODAY.replace(year=1990) + dt.timedelta(days=rng.randint(0, 9))
        custom: dict[str, Any] = {}
        if rng.random() < 0.7:
            custom["cups"] = rng.choice([0, 1, 2.5, 7, 12])
        if rng.random() < 0.6:
            custom["drink"] = rng.choice(["latte", "tea", "raf"])
        if rng.random() < 0.5:
            custom["extras"] = sorted(rng.sample(["syrup", "oat", "cinnamon"], rng.randint(1, 3)))
        if rng.random() < 0.5:
            custom["since"] = (TODAY - dt.timedelta(days=rng.randint(0, 900))).isoformat()
        if rng.random() < 0.5:
            custom["photo_ok"] = rng.random() < 0.5
        if rng.random() < 0.4:
            custom["nick"] = rng.choice(["Кофеман", "кофеман", "Sam", "Samovar"])
        customer = Customer.objects.create(
            first_name=rng.choice(["Анна", "Иван", "Ольга"]), last_name=rng.choice(["Петрова", "Смирнов", ""]),
            city=rng.choice(CITIES), gender=rng.choice(["", "female", "male"]), birth_date=born,
            kind=rng.choice(["person"] * 5 + ["company"]), custom=custom,
            preferred_channel=rng.choice(["", "email", "sms"]))
        Customer.objects.filter(pk=customer.pk).update(created_at=NOW - dt.timedelta(days=rng.randint(0, 800)))
        customer.tags.set([tags[t] for t in TAGS if rng.random() < 0.3])
        if rng.random() < 0.5:
            Identifier.objects.create(customer=customer, kind="email", value=f"c{i}@example.ru")
        for _ in range(rng.randint(0, 3)):
            Consent.objects.create(customer=customer, channel=rng.choice(["email", "sms"]),
                                   status=rng.choice(["granted", "denied", "unsubscribed"]),
                                   at=NOW - dt.timedelta(days=rng.randint(0, 100), seconds=rng.randint(0, 99)))
        if rng.random() < 0.3:
            ImportantDate.objects.create(customer=customer, kind=rng.choice(["anniversary", "birthday"]), who="x",
                                         date=TODAY.replace(year=2000) + dt.timedelta(days=rng.randint(-3, 40)))
        if rng.random() < 0.7:
            last = NOW - dt.timedelta(days=rng.randint(0, 400))
            CustomerFigures.objects.create(
                customer=customer, orders=rng.randint(0, 9), total_spend=rng.randint(0, 500_000),
                average_check=rng.randint(0, 50_000), last_purchase_at=last, first_purchase_at=last - dt.timedelta(99),
                frequency=rng.choice(["", "one_off", "rare", "regular"]), visit_days=rng.randint(0, 9))
        if rng.random() < 0.6:
            CustomerScore.objects.create(
                customer=customer, model_version="t", computed_at=NOW, probability_alive=rng.random(),
                clv=rng.choice([0.0, 1500.0, 90000.0]), segment=rng.choice(["champions", "lost", "at_risk"]),
                next_purchase_at=TODAY + dt.timedelta(days=rng.randint(-10, 40)))
        for prog in (program, second):
            if rng.random() < 0.5:
                Account.objects.create(program=prog, customer=customer, balance=rng.choice([0, 50, 150, 900]),
                                       tier=rng.choice([None, *tiers]) if prog == program else None)
        for n in range(rng.randint(0, 4)):
            order = Order.objects.create(customer=customer, source="t", number=f"{i}-{n}",
                                         placed_at=NOW - dt.timedelta(days=rng.randint(0, 60)),
                                         status=rng.choice(["completed", "completed", "cancelled"]))
            OrderLine.objects.create(order=order, product=products[rng.choice(CATEGORIES)], quantity=1, price=100)
        for n in range(rng.randint(0, 2)):
            Event.objects.create(customer=customer, source="t", external_id=f"{i}-{n}", type="message", channel="web",
                                 occurred_at=NOW - dt.timedelta(days=rng.randint(0, 90)), received_at=NOW)


@dataclass
class Person:
    pk: int
    row: dict[str, Any]
    tags: set[str] = field(default_factory=set)
    identifier_kinds: set[str] = field(default_factory=set)
    consents: dict[str, str] = field(default_factory=dict)
    dates: list[tuple[str, dt.date]] = field(default_factory=list)
    figures: dict[str, Any] | None = None
    score: dict[str, Any] | None = None
    balances: list[int] = field(default_factory=list)
    tiers: list[str | None] = field(default_factory=list)
    orders: list[tuple[dt.datetime, str, set[str]]] = field(default_factory=list)
    events: list[dt.datetime] = field(default_factory=list)


def load_people() -> list[Person]:
    from clientbase.analytics.scores import CustomerScore
    from clientbase.identity.models import Consent, Identifier
    from clientbase.interactions.models import Event
    from clientbase.loyalty.models import Account
    from clientbase.sales.models import CustomerFigures, Order, OrderLine

    people = {c["id"]: Person(c["id"], dict(c)) for c in Customer.objects.filter(merged_into__isnull=True).values()}
    for cid, name in Customer.tags.through.objects.values_list("customer_id", "tag__name"):
        people[cid].tags.add(name)
    for cid, kind in Identifier.objects.values_list("customer_id", "kind"):
        people[cid].identifier_kinds.add(kind)
    for consent in Consent.objects.order_by("at", "id"):
        people[consent.customer_id].consents[consent.channel] = consent.status
    for d in ImportantDate.objects.all():
        people[d.customer_id].dates.append((d.kind, d.date))
    for f in CustomerFigures.objects.values():
        people[f["customer_id"]].figures = dict(f)
    for s in CustomerScore.objects.values():
        people[s["customer_id"]].score = dict(s)
    for a in Account.objects.select_related("tier"):
        people[a.customer_id].balances.append(a.balance)
        people[a.customer_id].tiers.append(a.tier.name if a.tier else None)
    categories: dict[int, set[str]] = {}
    for order_id, slug in OrderLine.objects.values_list("order_id", "product__category__slug"):
        categories.setdefault(order_id, set()).add(slug)
    for o in Order.objects.all():
        people[o.customer_id].orders.append((o.placed_at, o.status, categories.get(o.pk, set())))
    for cid, at in Event.objects.values_list("customer_id", "occurred_at"):
        people[cid].events.append(at)
    return list(people.values())


def value_of(p: Person, name: str) -> Any:
    if name.startswith("figures."):
        column = name.removeprefix("figures.")
        if p.figures is None:
            return None if column in {"first_purchase_at", "last_purchase_at", "frequency"} else 0
        return p.figures[column]
    if name.startswith("score."):
        return None if p.score is None else p.score[name.removeprefix("score.")]
    if name == "loyalty.balance":
        return sum(p.balances)
    if name.startswith("custom."):
        return p.row["custom"].get(name.removeprefix("custom."))
    if name == "age":
        born = p.row["birth_date"]
        if born is None:
            return None
        return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
    return p.row[name]


def evaluate(node: rules.Node, p: Person) -> bool:
    if isinstance(node, rules.Group):
        results = [evaluate(c, p) for c in node.children]
        return all(results) if node.kind == "all" else any(results)
    if isinstance(node, rules.Not):
        return not evaluate(node.child, p)
    if isinstance(node, rules.FieldCondition):
        return _field(node, p)
    return _special(node, p)


def _field(c: rules.FieldCondition, p: Person) -> bool:
    if c.field == "loyalty.tier":
        present = [t for t in p.tiers if t is not None]
        return {"is_set": bool(present), "is_not_set": not present, "eq": c.value in present,
                "ne": c.value not in present, "in": bool(set(present) & set(c.value or ())),
                "not_in": not set(present) & set(c.value or ())}[c.op]
    v = value_of(p, c.field)
    if c.type == "multi_choice":
        has_value = isinstance(v, list) and bool(v)
        return {"is_set": has_value, "is_not_set": not has_value,
                "has": has_value and c.value in v, "has_not": not (has_value and c.value in v)}[c.op]
    if c.type == "bool":
        return v is c.value
    if c.op == "is_set":
        return v is not None and v != ""
    if c.op == "is_not_set":
        return v is None or v == ""
    if v is None:
        return False
    if c.type == "datetime":
        v = v.astimezone(dt.UTC).date()
    if c.type == "date" and isinstance(v, str):
        v = dt.date.fromisoformat(v)
    target = c.value
    op = c.op
    if op in {"within_last_days", "older_than_days", "within_next_days"}:
        if op == "within_next_days":
            return TODAY <= v <= TODAY + dt.timedelta(days=target)
        edge = TODAY - dt.timedelta(days=target)
        return v >= edge if op == "within_last_days" else v < edge
    return {
        "eq": lambda: v == target, "ne": lambda: v != target, "in": lambda: v in target,
        "not_in": lambda: v not in target, "gt": lambda: v > target, "gte": lambda: v >= target,
        "lt": lambda: v < target, "lte": lambda: v <= target,
        "between": lambda: target[0] <= v <= target[1],
        "contains": lambda: target in v, "starts_with": lambda: v.startswith(target),
    }[op]()


def _in_window(day: dt.date, days: int) -> bool:
    window = {(TODAY.replace(year=2023) + dt.timedelta(d)).timetuple()[1:3] for d in range(min(days, 365) + 1)}
    if days >= 365:
        return True
    if (day.month, day.day) == (2, 29):
        return (2, 28) in window and (3, 1) in window
    return (day.month, day.day) in window


def _special(s: rules.Special, p: Person) -> bool:
    a = s.args
    if s.kind == "tag":
        return a["tag"] in p.tags
    if s.kind == "identifier":
        return a["kind"] in p.identifier_kinds
    if s.kind == "consent":
        return p.consents.get(a["channel"]) == a["status"]
    if s.kind == "birthday_within_days":
        return p.row["birth_date"] is not None and _in_window(p.row["birth_date"], a["days"])
    if s.kind == "important_date":
        return any(kind == a["kind"] and _in_window(day, a["days"]) for kind, day in p.dates)
    if s.kind == "near_city":
        return p.row["city"] in a["cities"]
    if s.kind == "purchases":
        since = NOW - dt.timedelta(days=a["days"])
        hits = [o for o in p.orders if o[0] >= since and o[1] != "cancelled"
                and (a["category"] is None or a["category"] in o[2])]
        return len(hits) >= a["min_count"]
    if s.kind == "no_contact_days":
        return not any(at >= NOW - dt.timedelta(days=a["days"]) for at in p.events)
    raise AssertionError(s.kind)
