"""Read path for customers: visibility (R9.1), lookup by identifier, typo-tolerant search."""

import re
from typing import Any

import numpy as np
from django.db.models import Case, Prefetch, Q, QuerySet, When
from rapidfuzz import fuzz, process

from clientbase.access.actor import Actor
from clientbase.core.errors import DomainValidationError, MergedAway, NotFound
from clientbase.core.text import search_key
from clientbase.customers.models import Customer, ProfileChange
from clientbase.identity.models import Identifier

SEARCH_CANDIDATES = 20_000


def visible(actor: Actor, path: str = "") -> Q:
    """The visibility rule (R9.1), the one place it lives: a manager sees only their team's customers.

    ``path`` reaches a customer from another model (``"customer__"`` on orders, tasks, scores), so the
    rule becomes a join condition, not an ``IN (SELECT id FROM every customer)`` subquery: for an actor
    who sees everyone it is no condition at all (two such subqueries on one query made SQLite compare
    every customer with every customer on the review queue).
    """
    if actor.sees_all:
        return Q()
    if actor.team_id is None:
        return Q(pk__in=[])
    return Q(**{f"{path}team_id": actor.team_id})


def visible_customers(actor: Actor) -> QuerySet[Customer]:
    """Customers ``actor`` may see (``visible``)."""
    return Customer.objects.filter(visible(actor))


def access_customer(actor: Actor, customer_id: int, *, write: bool = False) -> Customer:
    """The customer if ``actor`` may see it; NotFound otherwise (not 403: existence is not leaked).

    ``write``: the caller is about to change the customer or file something under it, which a merged
    customer refuses (``MergedAway``, naming the survivor at the end of the chain): only merge and unmerge
    change a tombstone. Every entry point that writes asks with ``write=True``."""
    customer = (visible_customers(actor).select_related("owner", "team", "merged_into")
                .filter(pk=customer_id).first())
    if customer is None:
        raise NotFound(f"Customer #{customer_id}")
    if write and customer.merged_into is not None:
        raise MergedAway(customer.pk, survivor_of(customer.merged_into).pk)
    return customer


def survivor_of(customer: Customer) -> Customer:
    """``customer`` itself, or for a merged one the customer at the end of its chain of merges: where the
    person lives on (an unsubscribe link, a review decided after a merge, a write refused by a tombstone)."""
    seen = {customer.pk}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:  # a cycle cannot happen
        seen.add(customer.merged_into_id)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def card(customer: Customer, *, with_history: bool = True) -> Customer:
    """The customer with everything the card shows, in a fixed number of queries.

    The web card pages its history separately (``history``), so it passes ``with_history=False``
    rather than load every change a long-lived customer has.
    """
    related: list[str | Prefetch[Any]] = ["identifiers", "tags", "important_dates", "contact_people__person",
                                          "companies__company"]
    if with_history:
        related.append(Prefetch("changes", queryset=ProfileChange.objects.select_related(
            "actor_user", "actor_token").order_by("-at", "-id")))
    return (Customer.objects.select_related("owner", "team", "merged_into").prefetch_related(*related)
            .get(pk=customer.pk))


def lookup(actor: Actor, kind: str, raw: str) -> Customer:
    """Find the customer holding an identifier given in any spelling (``8 (916) 123-45-67``)."""
    from clientbase.identity.services import normalize

    value = normalize(kind, raw, field=kind)
    identifier = Identifier.objects.filter(kind=kind, value=value).only("customer_id").first()
    if identifier is None:
        raise NotFound(f"No customer with {kind} {value}")
    try:
        return access_customer(actor, identifier.customer_id)
    except NotFound:
        # Same answer as "nobody has it": the holder's id is not the caller's to know.
        raise NotFound(f"No customer with {kind} {value}") from None


def search(actor: Actor, query: str, *, limit: int = 20, within: QuerySet[Customer] | None = None) -> list[Customer]:
    """Customers whose identifier equals ``query``, whose phone or card number holds its digits, or whose name
    resembles it, best first.

    A query that parses as a phone, an email, a card or a messenger handle is looked up exactly. A query of
    digits that finds nothing so (``4567``, ``45-67``) is part of a number (``_number_matches``). Otherwise
    names are matched typo-tolerantly: candidates share a three-letter piece with the longest query
    word (a substring filter in SQL), then rapidfuzz ranks them.
    """
    query = query.strip()
    if not query:
        return []
    base = (within if within is not None else visible_customers(actor)).filter(merged_into__isnull=True)
    exact = _identifier_matches(base, query)
    if exact:
        return exact[:limit]
    digits = _digits(query)
    if digits is not None:
        return _number_matches(actor, base, digits, limit)
    key = search_key(query)
    words = sorted(key.split(), key=len, reverse=True)
    if not words:
        return []
    longest = words[0]
    pieces = {longest[:3], longest[-3:]} if len(longest) >= 4 else {longest}
    condition = Q()
    for piece in pieces:
        condition |= Q(search_key__contains=piece)
    candidates = dict(base.filter(condition).values_list("id", "search_key")[:SEARCH_CANDIDATES])
    scores = _word_scores(words, candidates)
    ids = [cid for cid, score in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])) if score >= 75][:limit]
    by_id = base.in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def _word_scores(words: list[str], candidates: dict[int, str]) -> dict[int, float]:
    """Mean over query words of the best similarity to any word of the candidate's name.

    Word by word, so "Кузнесов Алексндр" still finds "Кузнецов Александр" and word order does not
    matter. Similarities of each distinct (query word, name word) pair are computed once by cdist.
    """
    vocabulary = sorted({w for text in candidates.values() for w in text.split()})
    if not vocabulary:
        return {}
    matrix = process.cdist(words, vocabulary, scorer=fuzz.ratio, dtype=np.uint8)
    best = {word: matrix[:, i] for i, word in enumerate(vocabulary)}
    result = {}
    for cid, text in candidates.items():
        if not text.split():
            continue
        per_word = np.max(np.stack([best[w] for w in text.split()]), axis=0)
        result[cid] = float(per_word.mean())
    return result


# A query of digits and what people write between them; part of a number from MIN_DIGITS digits on.
_DIGITS = re.compile(r"^[\d\s()+\-.]+$")
MIN_DIGITS = 4
# The identifiers a person reads as a number off a screen or a card: phones (also as WhatsApp and Viber) and cards.
NUMBER_KINDS = ("phone", "whatsapp", "viber", "card")
NUMBER_CANDIDATES = 1000


def _digits(query: str) -> str | None:
    """The digits of a query made of digits and separators (``45-67``), or None for any other query."""
    return re.sub(r"\D", "", query) if _DIGITS.match(query) else None


def too_few_digits(query: str) -> bool:
    """Whether ``query`` is digits, too few to be searched as part of a number (the search box says so)."""
    digits = _digits(query.strip())
    return digits is not None and len(digits) < MIN_DIGITS


def _number_matches(actor: Actor, base: QuerySet[Customer], digits: str, limit: int) -> list[Customer]:
    """Customers holding a phone or card number that contains ``digits`` (at least ``MIN_DIGITS``): a
    cashier asks for the last four digits of a phone. Those whose number ends with them come first, then
    the rest by customer number.

    ``LIKE '%…%'`` reads every stored value of these kinds (no B-tree index serves it): 40-48 ms on SQLite and
    21-33 ms on PostgreSQL among 300,000 phones (docs/profile.md), growing with their number. The visibility
    rule and tombstones are joined in that scan, so another team's numbers do not use up the
    ``NUMBER_CANDIDATES``; ``base`` (the search page's tag and city filters) then picks among them."""
    if len(digits) < MIN_DIGITS:
        return []
    # Ranked in the query, so the candidates cut off are the worst ones.
    rows = (Identifier.objects.filter(visible(actor, "customer__"), kind__in=NUMBER_KINDS, value__contains=digits,
                                      customer__merged_into__isnull=True)
            .annotate(rank=Case(When(value__endswith=digits, then=0), default=1))
            .order_by("rank", "customer_id").values_list("customer_id", flat=True)[:NUMBER_CANDIDATES])
    ranked = list(dict.fromkeys(rows))
    by_id = base.in_bulk(ranked)
    return [by_id[customer_id] for customer_id in ranked if customer_id in by_id][:limit]


def _identifier_matches(base: QuerySet[Customer], query: str) -> list[Customer]:
    from clientbase.identity.rules import HANDLE_KINDS
    from clientbase.identity.services import normalize

    # An "@" inside is an email; a leading one (or none) may be a messenger or social handle
    # ("@anna.coffee", "t.me/anna"), as well as a phone or a card number.
    kinds = ["email"] if "@" in query[1:] else ["phone", "card", *sorted(HANDLE_KINDS)]
    values: list[tuple[str, str]] = []
    for kind in kinds:
        try:
            values.append((kind, normalize(kind, query)))
        except DomainValidationError:
            continue
    if not values:
        return []
    condition = Q()
    for kind, value in values:
        condition |= Q(identifiers__kind=kind, identifiers__value=value)
    return list(base.filter(condition).distinct()[:20])


def search_page(actor: Actor, q: str, *, tag: str | None, city: str | None, page: int,
                size: int) -> tuple[list[Customer], bool]:
    """Page ``page`` (``size`` a page) of what the search box finds, and whether another page follows.

    With a query the results are ranked best first among the customers the tag and city filters
    leave; without one they are the filtered customers by name.
    """
    start, end = (page - 1) * size, page * size
    queryset = filter_customers(visible_customers(actor), tag=tag, city=city)
    if q:
        ranked = [c.pk for c in search(actor, q, limit=end + 1, within=queryset)]
        ids = ranked[start:end]
        by_id = queryset.filter(pk__in=ids).prefetch_related("identifiers", "tags").in_bulk()
        return [by_id[i] for i in ids if i in by_id], len(ranked) > end
    found = list(queryset.filter(merged_into__isnull=True).prefetch_related("identifiers", "tags")
                 .order_by("last_name", "first_name", "id")[start:end + 1])
    return found[:size], len(found) > size


def history(customer: Customer) -> QuerySet[ProfileChange]:
    return customer.changes.select_related("actor_user", "actor_token").order_by("-at", "-id")


def filter_customers(queryset: QuerySet[Customer], *, tag: str | None = None, city: str | None = None,
                     custom: dict[str, Any] | None = None) -> QuerySet[Customer]:
    """Structured filters used by the list endpoint and the search page."""
    if tag:
        queryset = queryset.filter(tags__name=tag.strip().lower())
    if city:
        queryset = queryset.filter(city__iexact=city.strip())
    for key, value in (custom or {}).items():
        # JSON containment is not on SQLite; an exact key lookup works on both engines.
        queryset = queryset.filter(**{f"custom__{key}": value})
    return queryset
