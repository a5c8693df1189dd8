"""Demo stage ``channel_events``: channel traffic with the duplicates real businesses see (issue 3).

Everything goes through ``ingest_events`` like real traffic: messages and calls for the dialog
timeline, then the four classic duplicates — an Instagram writer who later gives a phone in site chat,
an email typo, a family sharing one phone (two loyalty cards: a review case), a lost and replaced
card (the old one taken off the profile) — and one wrong manual merge that staff undid (so the pair
is kept apart).
"""

import datetime as dt
from typing import Any

from clientbase.access.actor import SYSTEM
from clientbase.customers.models import Customer
from clientbase.demo.stages import DemoContext
from clientbase.identity.merges import merge_customers
from clientbase.identity.unmerge import unmerge
from clientbase.interactions.ingest import ingest_events

CHANNELS = ["instagram", "viber", "telegram", "site_chat", "email", "phone"]
HANDLE_KIND = {"instagram": "instagram", "viber": "viber", "telegram": "telegram"}
TEXTS = ["Здравствуйте! Вы работаете в праздники?", "Можно заказать торт на субботу?",
         "Спасибо, всё понравилось!", "Где можно оставить отзыв?", "Есть ли у вас овсяное молоко?"]
REPLIES = ["Добрый день! Да, с 9 до 21.", "Конечно, напишите, какой размер нужен.", "Спасибо, ждём снова!"]


def _phone(customer: Customer) -> str | None:
    return next((i.value for i in customer.identifiers.all() if i.kind == "phone"), None)


def _event(source: str, number: int, at: dt.datetime, channel: str, identifiers: dict[str, Any],
           type: str = "message", **extra: Any) -> dict[str, Any]:
    return {"source": f"demo-{source}", "id": str(number), "type": type, "channel": channel,
            "occurred_at": at.isoformat(), "identifiers": identifiers, **extra}


def _dialogs(ctx: DemoContext, people: list[Customer], start: dt.datetime) -> int:
    rng = ctx.rng("channel_events", 1)
    events = []
    for n, customer in enumerate(people):
        phone = _phone(customer)
        if phone is None:
            continue
        channel = CHANNELS[int(rng.integers(len(CHANNELS)))]
        at = start + dt.timedelta(days=float(rng.uniform(0, 80)))
        thread = f"{channel}-{customer.pk}"
        kind = "call" if channel == "phone" else "message"
        inbound: dict[str, Any] = {"direction": "inbound", "text": TEXTS[int(rng.integers(len(TEXTS)))],
                                   "thread": thread}
        if kind == "call":
            inbound = {"direction": "inbound", "duration_seconds": int(rng.integers(20, 400)), "thread": thread}
        events.append(_event("dialogs", 2 * n, at, channel, {"phone": phone}, kind, data=inbound))
        if kind == "message":
            events.append(_event("dialogs", 2 * n + 1, at + dt.timedelta(minutes=7), channel, {"phone": phone},
                                 data={"direction": "outbound", "thread": thread,
                                       "text": REPLIES[int(rng.integers(len(REPLIES)))]}))
    for start_at in range(0, len(events), 5000):
        ingest_events(events[start_at:start_at + 5000], actor=SYSTEM)
    return len(events)


def _duplicates(people: list[Customer], at: dt.datetime) -> int:
    anna, olga, family_a, family_b, ivan = people[:5]
    day = dt.timedelta(days=1)
    story = [
        # Someone writes on Instagram with no phone, then gives a phone in site chat: two profiles merge.
        _event("story", 1, at, "instagram", {"instagram": "@anna.coffee.lover"}, data={
            "direction": "inbound", "text": "Сколько стоит капучино?", "thread": "ig-anna"}),
        _event("story", 2, at + day, "site_chat", {"instagram": "anna.coffee.lover", "phone": _phone(anna)},
               data={"direction": "inbound", "text": "Это снова я, мой телефон для карты", "thread": "chat-anna"}),
        # A typo in an email at sign-up, fixed later at the till with the phone: the typo profile merges.
        _event("story", 3, at, "web", {"email": "olga.smirnova@gmial.com"}, "signup"),
        _event("story", 4, at + 2 * day, "pos", {"email": "olga.smirnova@gmial.com", "phone": _phone(olga)},
               "visit"),
        # A family sharing one phone, each with a loyalty card: the guard sends it to review.
        _event("story", 5, at, "pos", {"phone": _phone(family_a), "card": {"value": "FAM0001", "verified": True}},
               "visit"),
        _event("story", 6, at, "pos", {"phone": _phone(family_b), "card": {"value": "FAM0002", "verified": True}},
               "visit"),
        _event("story", 7, at + day, "pos", {"phone": _phone(family_a), "card": {"value": "FAM0002",
                                                                                   "verified": True}}, "visit"),
        # A card lost and replaced: the new card arrives with the phone and joins the same profile; the old
        # card is taken off it (identity.handlers), so whoever finds it cannot reach Ivan's points.
        _event("story", 8, at, "pos", {"phone": _phone(ivan), "card": {"value": "OLD7777", "verified": True}},
               "visit"),
        _event("story", 9, at + 3 * day, "pos", {"phone": _phone(ivan), "card": "NEW8888"}, "card_replaced",
               data={"replaces": "OLD7777"}),
    ]
    # Days apart in real life, so one request each: a batch would resolve them before any profile exists.
    return sum(ingest_events([event], actor=SYSTEM).counts()["merged"] for event in story)


def run(ctx: DemoContext) -> dict[str, int]:
    people = list(Customer.objects.filter(kind="person", merged_into__isnull=True, identifiers__kind="phone")
                  .prefetch_related("identifiers").order_by("pk")[:max(10, min(2000, ctx.customers // 10))])
    if len(people) < 10:
        return {}
    start = dt.datetime.combine(ctx.anchor, dt.time(10), dt.UTC) - dt.timedelta(days=90)
    messages = _dialogs(ctx, people[10:], start)
    merges = _duplicates(people, start + dt.timedelta(days=60))
    # A hasty manual merge of two namesakes, undone by staff: the history shows both steps.
    wrong = merge_customers(people[5], people[6], actor=SYSTEM, reason="demo: namesakes merged by mistake")
    unmerge(wrong, actor=SYSTEM)
    # Review cases: the family's open one, and the namesakes kept apart by their unmerge.
    return {"interactions.Event": messages + 9, "identity.Merge": merges + 1, "identity.ReviewCase": 2}
