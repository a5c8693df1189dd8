"""Read path for segments: counts and members, always within what the actor may see."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from clientbase.access.actor import Actor
from clientbase.core.errors import NotFound
from clientbase.customers.models import Customer
from clientbase.customers.selectors import visible, visible_customers
from clientbase.segments import services
from clientbase.segments.models import Segment, SegmentMembership


def matching(actor: Actor, rule: Any, *, at: dt.datetime | None = None) -> QuerySet[Customer]:
    """Customers the actor may see that match ``rule`` now (live, not materialised)."""
    node = services.parse_rule(rule)
    return services.rule_queryset(node, at=at).filter(visible(actor))


def count(actor: Actor, rule: Any) -> int:
    return matching(actor, rule).count()


def sample(actor: Actor, rule: Any, *, limit: int = 10) -> list[Customer]:
    return list(matching(actor, rule).order_by("pk")[:limit])


def access_segment(segment_id: int) -> Segment:
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise NotFound(f"Segment #{segment_id}")
    return segment


def members(actor: Actor, segment: Segment) -> QuerySet[Customer]:
    """Materialised members (as of the last refresh) the actor may see."""
    ids = SegmentMembership.objects.filter(segment=segment).values("customer_id")
    return visible_customers(actor).filter(pk__in=ids)


def segments_of(customer: Customer) -> list[Segment]:
    return list(Segment.objects.filter(memberships__customer=customer).order_by("name"))


def export_rows(actor: Actor, segment: Segment) -> Iterator[str]:
    """CSV lines of the members the actor may see, streamed in id order (memory stays flat)."""
    import csv
    import io

    from clientbase.identity.models import Identifier

    def line(values: list[Any]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(values)
        return buffer.getvalue()

    yield line(["id", "last_name", "first_name", "legal_name", "city", "phone", "email"])
    queryset = members(actor, segment).order_by("pk")
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last)[:2000])
        if not chunk:
            return
        contacts: dict[tuple[int, str], str] = {}
        for cid, kind, value in (Identifier.objects.filter(customer__in=chunk, kind__in=["phone", "email"])
                                 .order_by("-id").values_list("customer_id", "kind", "value")):
            contacts[(cid, kind)] = value
        for c in chunk:
            yield line([c.pk, c.last_name, c.first_name, c.legal_name, c.city, contacts.get((c.pk, "phone"), ""),
                        contacts.get((c.pk, "email"), "")])
        last = chunk[-1].pk
