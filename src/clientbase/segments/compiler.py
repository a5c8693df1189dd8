"""Compile a parsed rule to one Django filter over customers: one SQL query on either database.

Why each leaf is wrapped: SQL's NULL makes ``NOT (x > 5)`` false when x is NULL, but a rule's
``not`` must mean the plain opposite (a customer with no figures has 0 orders, with no birth date
is simply not "born before 1990"). Each leaf therefore compiles to a Q that is true or false, never
NULL — missing numbers count as 0 where that is their meaning (figures, balances), and a condition
on a missing value is false. Positive leaves at the top level stay plain column filters so the
indexes on them (city, last_purchase_at, clv, next_purchase_at, segment) can be used.
"""

import datetime as dt
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, StrIndex

from clientbase.customers.models import Customer, ImportantDate
from clientbase.segments import rules


def field_expression(name: str) -> Any:
    if name.startswith("figures."):
        column = name.removeprefix("figures.")
        if column in {"first_purchase_at", "last_purchase_at", "frequency"}:
            return F(f"figures__{column}")
        return Coalesce(F(f"figures__{column}"), 0)
    if name.startswith("score."):
        return F(f"score__{name.removeprefix('score.')}")
    return F(name)


def compile_rule(node: rules.Node, *, today: dt.date, now: dt.datetime) -> Q:
    """A Q over Customer that is exactly the rule; ``today``/``now`` fix relative dates."""
    return _Compiler(today, now).node(node)


def apply(queryset: QuerySet[Customer], node: rules.Node, *, today: dt.date, now: dt.datetime) -> QuerySet[Customer]:
    return queryset.filter(compile_rule(node, today=today, now=now))


class _Compiler:
    def __init__(self, today: dt.date, now: dt.datetime) -> None:
        self.today = today
        self.now = now

    def node(self, node: rules.Node) -> Q:
        if isinstance(node, rules.Group):
            result = Q()
            for child in node.children:
                compiled = self.node(child)
                result = (result & compiled) if node.kind == "all" else (result | compiled) if result else compiled
            return result
        if isinstance(node, rules.Not):
            from django.db.models import lookups as L

            return Q(L.Exact(self._boolean(node.child), False))
        if isinstance(node, rules.FieldCondition):
            return self.field(node)
        return self.special(node)

    def _boolean(self, node: rules.Node) -> Any:
        """The rule as a never-NULL boolean expression, so negating it is exact."""
        return Case(When(self.node(node), then=Value(True)), default=Value(False), output_field=BooleanField())

    # --- field conditions -------------------------------------------------------------------
    def field(self, c: rules.FieldCondition) -> Q:
        if c.field == "age":
            return self.age(c)
        if c.field == "loyalty.tier":
            return self.tier(c)
        if c.field.startswith("custom."):
            return self.custom(c)
        if c.field == "loyalty.balance":
            return self.balance(c)
        if c.field.startswith("figures.") and c.type == "number" and c.op not in {"is_set", "is_not_set"} \
                and not _python_compare(0, c.op, c.value):
            # A customer without figures has 0 orders; when 0 cannot match, the plain column filter says the
            # same thing as COALESCE(…, 0) and lets the database join figures on an index instead of scanning.
            column = c.field.removeprefix("figures.")
            return self.compare(F(f"figures__{column}"), "number", c.op, c.value, text_blank_is_missing=False)
        expr = field_expression(c.field)
        return self.compare(expr, c.type, c.op, c.value, text_blank_is_missing=False)

    def compare(self, expr: Any, ftype: str, op: str, value: Any, *, text_blank_is_missing: bool) -> Q:
        # Alias through an annotation-free lookup: Q(Exact(expr, v)) builds a boolean lookup expression.
        from django.db.models import lookups as L

        def is_set() -> Q:
            q = ~Q(L.IsNull(expr, True))
            if text_blank_is_missing or ftype in {"text", "choice"}:
                q &= ~Q(L.Exact(expr, ""))
            return q

        if op == "is_set":
            return is_set()
        if op == "is_not_set":
            return ~is_set()
        if ftype in {"date", "datetime"}:
            return self.compare_date(expr, ftype, op, value)
        present = ~Q(L.IsNull(expr, True))
        if op == "eq":
            return Q(L.Exact(expr, value)) & present
        if op == "ne":
            return ~Q(L.Exact(expr, value)) & present
        if op == "in":
            return Q(L.In(expr, list(value))) & present
        if op == "not_in":
            return ~Q(L.In(expr, list(value))) & present
        if op in {"gt", "gte", "lt", "lte"}:
            lookup = {"gt": L.GreaterThan, "gte": L.GreaterThanOrEqual, "lt": L.LessThan,
                      "lte": L.LessThanOrEqual}[op]
            return Q(lookup(expr, value)) & present
        if op == "between":
            return Q(L.GreaterThanOrEqual(expr, value[0])) & Q(L.LessThanOrEqual(expr, value[1])) & present
        if op == "contains":
            # StrIndex (instr/strpos) is case-sensitive on both engines, unlike LIKE on SQLite.
            return Q(L.GreaterThan(StrIndex(expr, Value(value)), 0)) & present
        if op == "starts_with":
            return Q(L.Exact(StrIndex(expr, Value(value)), 1)) & present
        raise AssertionError(op)

    def compare_date(self, expr: Any, ftype: str, op: str, value: Any) -> Q:
        from django.db.models import lookups as L

        present = ~Q(L.IsNull(expr, True))
        if op in {"within_last_days", "older_than_days", "within_next_days"}:
            if op == "within_next_days":
                low, high = self.today, self.today + dt.timedelta(days=value)
                return self.compare_date(expr, ftype, "between", (low, high))
            edge = self.today - dt.timedelta(days=value)
            op, value = ("gte", edge) if op == "within_last_days" else ("lt", edge)
        if ftype == "datetime":
            # A date bound on a timestamp means the whole day in UTC: >= d is >= d 00:00, <= d is < d+1 00:00.
            def start(d: dt.date) -> dt.datetime:
                return dt.datetime.combine(d, dt.time(), tzinfo=dt.UTC)

            bounds = {
                "eq": Q(L.GreaterThanOrEqual(expr, start(value))) & Q(L.LessThan(expr, start(value) + dt.timedelta(1)))
                if op == "eq" else None,
                "gt": Q(L.GreaterThanOrEqual(expr, start(value) + dt.timedelta(1))) if op == "gt" else None,
                "gte": Q(L.GreaterThanOrEqual(expr, start(value))) if op == "gte" else None,
                "lt": Q(L.LessThan(expr, start(value))) if op == "lt" else None,
                "lte": Q(L.LessThan(expr, start(value) + dt.timedelta(1))) if op == "lte" else None,
            }
            if op == "ne":
                return ~self.compare_date(expr, ftype, "eq", value) & present
            if op == "between":
                return (self.compare_date(expr, ftype, "gte", value[0])
                        & self.compare_date(expr, ftype, "lte", value[1]))
            q = bounds[op]
            assert q is not None
            return q & present
        return self.compare(expr, "number", op, value, text_blank_is_missing=False)

    def age(self, c: rules.FieldCondition) -> Q:
        """Age in whole years, compiled to plain birth-date bounds (index-friendly, no per-row arithmetic)."""
        def born_by(years: int) -> dt.date:  # the latest birth date of someone at least ``years`` old
            try:
                return self.today.replace(year=self.today.year - years)
            except ValueError:  # today is 29 February
                return self.today.replace(year=self.today.year - years, day=28)

        def at_least(years: float) -> Q:
            return Q(birth_date__lte=born_by(int(-(-years // 1))))

        def below(years: float) -> Q:
            return Q(birth_date__gt=born_by(int(-(-years // 1))))

        v = c.value
        if c.op in {"is_set", "is_not_set"}:
            return Q(birth_date__isnull=c.op == "is_not_set")
        if c.op == "gte":
            return at_least(v)
        if c.op == "gt":
            return at_least(int(v // 1) + 1)
        if c.op == "lt":
            return below(v)
        if c.op == "lte":
            return below(int(v // 1) + 1)
        if c.op == "between":
            return at_least(v[0]) & below(int(v[1] // 1) + 1)
        values = [v] if c.op != "in" else list(v)
        exact = Q(pk__in=[])
        for item in values:
            if float(item).is_integer():
                exact |= at_least(item) & below(int(item) + 1)
        if c.op == "ne":
            return Q(birth_date__isnull=False) & ~exact
        return exact

    def balance(self, c: rules.FieldCondition) -> Q:
        """The sum of a customer's loyalty balances (0 without an account) against a bound.

        An uncorrelated ``id IN (… GROUP BY customer HAVING …)`` instead of a per-customer SUM
        subquery: the database aggregates accounts once and hashes the ids. When the condition
        holds for 0, customers without accounts match too, so the complement is taken instead.
        """
        from clientbase.loyalty.models import Account

        if c.op in {"is_set", "is_not_set"}:
            return Q() if c.op == "is_set" else Q(pk__in=[])
        holds_for_zero = _python_compare(0, c.op, c.value)
        totals = Account.objects.order_by().values("customer_id").annotate(total=Sum("balance"))
        condition = self.compare(F("total"), "number", c.op, c.value, text_blank_is_missing=False)
        if holds_for_zero:
            failing = totals.exclude(condition).values("customer_id")
            return ~Q(pk__in=failing)
        return Q(pk__in=totals.filter(condition).values("customer_id"))

    def tier(self, c: rules.FieldCondition) -> Q:
        from clientbase.loyalty.models import Account

        def has(condition: Q) -> Q:
            return Q(Exists(Account.objects.filter(condition, customer=OuterRef("pk"))))

        if c.op == "is_set":
            return has(Q(tier__isnull=False))
        if c.op == "is_not_set":
            return ~has(Q(tier__isnull=False))
        if c.op == "eq":
            return has(Q(tier__name=c.value))
        if c.op == "ne":
            return ~has(Q(tier__name=c.value))
        if c.op == "in":
            return has(Q(tier__name__in=list(c.value)))
        if c.op == "not_in":
            return ~has(Q(tier__name__in=list(c.value)))
        raise AssertionError(c.op)

    def custom(self, c: rules.FieldCondition) -> Q:
        key = c.field.removeprefix("custom.")
        if c.type == "multi_choice":
            text = KeyTextTransform(key, "custom")
            from django.db.models import lookups as L

            if c.op in {"is_set", "is_not_set"}:
                q = ~Q(L.IsNull(text, True)) & ~Q(L.Exact(text, "[]"))
                return q if c.op == "is_set" else ~q
            # Values are stored as a JSON list of strings; look for the quoted value in its text.
            has = Q(L.GreaterThan(StrIndex(text, Value(f'"{c.value}"')), 0)) & ~Q(L.IsNull(text, True))
            return has if c.op == "has" else ~has
        if c.type in {"text", "choice", "date"}:
            value = c.value.isoformat() if isinstance(c.value, dt.date) else c.value
            if isinstance(c.value, tuple):
                value = tuple(v.isoformat() if isinstance(v, dt.date) else v for v in c.value)
            ftype = "number" if c.type == "date" and c.op in {"gt", "gte", "lt", "lte", "between"} else "text"
            if c.type == "date" and c.op in {"within_last_days", "older_than_days", "within_next_days"}:
                return self.custom_date_window(key, c.op, c.value)
            return self.compare(KeyTextTransform(key, "custom"), ftype, c.op, value, text_blank_is_missing=True)
        if c.type == "bool":
            return Q(**{f"custom__{key}": c.value})
        # Numbers: compared as floats; the JSON value is cast the same way on both engines.
        number = Cast(KeyTextTransform(key, "custom"), FloatField())
        return self.compare(number, "number", c.op, c.value, text_blank_is_missing=False)

    def custom_date_window(self, key: str, op: str, days: int) -> Q:
        text = KeyTextTransform(key, "custom")
        if op == "within_next_days":
            bounds = (self.today.isoformat(), (self.today + dt.timedelta(days=days)).isoformat())
            return self.compare(text, "number", "between", bounds, text_blank_is_missing=True)
        edge = (self.today - dt.timedelta(days=days)).isoformat()
        return self.compare(text, "number", "gte" if op == "within_last_days" else "lt", edge,
                            text_blank_is_missing=True)

    # --- special conditions -----------------------------------------------------------------
    def special(self, s: rules.Special) -> Q:
        return getattr(self, f"special_{s.kind}")(s.args)  # type: ignore[no-any-return]

    def special_tag(self, args: dict[str, Any]) -> Q:
        through = Customer.tags.through
        return Q(Exists(through.objects.filter(customer_id=OuterRef("pk"), tag__name=args["tag"])))

    def special_identifier(self, args: dict[str, Any]) -> Q:
        from clientbase.identity.models import Identifier

        return Q(Exists(Identifier.objects.filter(customer_id=OuterRef("pk"), kind=args["kind"])))

    def special_consent(self, args: dict[str, Any]) -> Q:
        """The latest decision on the channel is ``status`` (consents are append-only)."""
        from django.db.models import lookups as L

        from clientbase.identity.models import Consent

        latest = (Consent.objects.filter(customer_id=OuterRef("pk"), channel=args["channel"])
                  .order_by("-at", "-id").values("status")[:1])
        return Q(L.Exact(Subquery(latest), args["status"]))

    def special_birthday_within_days(self, args: dict[str, Any]) -> Q:
        key = MonthDay("birth_date")
        return _key_in_ranges(key, rules.birthday_keys(self.today.month, self.today.day, args["days"])) & \
            Q(birth_date__isnull=False)

    def special_important_date(self, args: dict[str, Any]) -> Q:
        key = MonthDay("date")
        dates = ImportantDate.objects.filter(customer_id=OuterRef("pk"), kind=args["kind"]).annotate(key=key)
        ranges = rules.birthday_keys(self.today.month, self.today.day, args["days"])
        condition = Q()
        for low, high in ranges:
            condition |= Q(key__gte=low, key__lte=high)
        return Q(Exists(dates.filter(condition)))

    def special_near_city(self, args: dict[str, Any]) -> Q:
        return Q(city__in=list(args["cities"]))

    def special_purchases(self, args: dict[str, Any]) -> Q:
        from clientbase.sales.models import Order

        since = self.now - dt.timedelta(days=args["days"])
        orders = Order.objects.filter(customer_id=OuterRef("pk"), placed_at__gte=since).exclude(status="cancelled")
        if args["category"]:
            from clientbase.sales.models import OrderLine

            orders = orders.filter(Exists(OrderLine.objects.filter(
                order_id=OuterRef("pk"), product__category__slug=args["category"])))
        if args["min_count"] == 1:
            return Q(Exists(orders))
        counted = orders.order_by().values("customer_id").annotate(n=Count("pk")).values("n")
        return Q(_at_least(Coalesce(Subquery(counted), 0), args["min_count"]))

    def special_no_contact_days(self, args: dict[str, Any]) -> Q:
        from clientbase.interactions.models import Event

        since = self.now - dt.timedelta(days=args["days"])
        return ~Q(Exists(Event.objects.filter(customer_id=OuterRef("pk"), occurred_at__gte=since)))

    def special_segment(self, args: dict[str, Any]) -> Q:
        from clientbase.segments.models import SegmentMembership

        return Q(Exists(SegmentMembership.objects.filter(customer_id=OuterRef("pk"),
                                                         segment_id=args["segment_id"])))


def _python_compare(value: float, op: str, target: Any) -> bool:
    return {"eq": lambda: value == target, "ne": lambda: value != target, "gt": lambda: value > target,
            "gte": lambda: value >= target, "lt": lambda: value < target, "lte": lambda: value <= target,
            "between": lambda: target[0] <= value <= target[1], "in": lambda: value in target}[op]()


class MonthDay(Func):
    """``month * 100 + day`` of a date column, in each engine's native functions.

    Django's ExtractMonth on SQLite calls back into Python for every row; strftime stays in C.
    """

    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="CAST(strftime('%%m%%d', %(expressions)s) AS INTEGER)",
                           **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection,
                           template="CAST(EXTRACT(MONTH FROM %(expressions)s) * 100 "
                                    "+ EXTRACT(DAY FROM %(expressions)s) AS INTEGER)", **extra)


def _key_in_ranges(key: Any, ranges: list[tuple[int, int]]) -> Q:
    from django.db.models import lookups as L

    q = Q()
    for low, high in ranges:
        q |= Q(L.GreaterThanOrEqual(key, low)) & Q(L.LessThanOrEqual(key, high))
    return q


def _at_least(expr: Any, count: int) -> Any:
    from django.db.models import lookups as L

    return L.GreaterThanOrEqual(expr, count)
