"""Demo stage ``engagement``: templates, triggers run on the demo's day, the queue worked once, tasks
planned for the week, and one finished campaign with a measured effect.

Every channel is configured with ``dry_run``: the worker applies consent, windows and caps and records
the outcome, but nothing leaves the machine (the demo's addresses are invented). The campaign ran a
month before the demo's day; its purchases are demo data recorded through the sales service, so
its effect is measured exactly as for a real campaign.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from clientbase.access.actor import SYSTEM
from clientbase.core.clock import now
from clientbase.customers.models import Customer
from clientbase.demo.stages import DemoContext
from clientbase.engagement import campaigns, outbox, services
from clientbase.engagement.defaults import ensure_defaults
from clientbase.engagement.models import ChannelConfig, Message, MessageTemplate, Task, Trigger
from clientbase.engagement.triggers import evaluate

TEMPLATES = {
    "birthday": ("С днём рождения, {{ first_name }}!",
                 "{{ first_name }}, с наступающим днём рождения! Дарим скидку 15% по коду {{ coupon_code }}."),
    "holiday": ("{{ holiday }}", "{{ first_name }}, поздравляем: {{ holiday }}! Ждём вас в наших кофейнях."),
    "next_purchase": ("Соскучились?", "{{ first_name }}, ваш {{ favourite_product }} ждёт вас."),
    "points_expiring": ("Баллы сгорают", "{{ first_name }}, {{ points_expiring }} баллов скоро сгорят."),
    "product_arrival": ("Новинка", "{{ first_name }}, у нас появился {{ product }}."),
    "tickets": ("Билеты в кино в подарок",
                "{{ first_name }}, два билета в кино к любому заказу до конца месяца: https://coffee.example/tickets"
                "\nОтписаться: {{ unsubscribe_url }}"),
}
CHANNELS = ("email", "sms", "telegram", "whatsapp", "viber")


def _setup() -> None:
    ensure_defaults()
    for kind in CHANNELS:
        ChannelConfig.objects.update_or_create(kind=kind, defaults={"enabled": True, "config": {"dry_run": True}})
    for key, (subject, body) in TEMPLATES.items():
        for channel in CHANNELS:
            MessageTemplate.objects.update_or_create(key=key, channel=channel, language="ru",
                                                     defaults={"subject": subject, "body": body})
            MessageTemplate.objects.update_or_create(key=key, channel=channel, language="en",
                                                     defaults={"subject": subject, "body": body})
    Trigger.objects.filter(kind__in=["birthday", "next_purchase", "churn_risk", "holiday", "negative_review",
                                     "points_expiring", "product_arrival"]).update(enabled=True)


def _campaign(ctx: DemoContext, start: dt.datetime) -> dict[str, int]:
    from clientbase.sales.models import Product
    from clientbase.sales.services import record_purchase

    people = list(Customer.objects.filter(kind="person", merged_into__isnull=True).order_by("pk")
                  .values_list("pk", flat=True)[:min(3000, max(50, ctx.customers // 5))])
    campaign = campaigns.start_campaign(name="Билеты в кино ко дню рождения", template_key="tickets",
                                        customer_ids=people, holdout_percent=20, seed=ctx.seed, at=start)
    rng = ctx.rng("engagement", 1)
    # The campaign goes through the real contact rules (consent, channel choice, window, caps) on the
    # dry-run channels, so a guest without an email is never "sent" an email; only then is the send
    # time moved back to when the campaign ran.
    while sum(outbox.run_once("demo", limit=500).values()):
        pass
    sent = Message.objects.filter(source=f"campaign:{campaign.pk}", status="sent")
    sent.update(sent_at=start + dt.timedelta(hours=2))
    ids = list(sent.order_by("pk").values_list("pk", "customer_id"))
    opened = [pk for pk, _ in ids if rng.random() < 0.35]
    Message.objects.filter(pk__in=opened).update(opened_at=start + dt.timedelta(hours=5))
    Message.objects.filter(pk__in=[pk for pk in opened if rng.random() < 0.3]).update(
        clicked_at=start + dt.timedelta(hours=5, minutes=1))
    product = Product.objects.filter(active=True).order_by("pk").first()
    if product is None:
        return {"engagement.Campaign": 1}
    buyers = [cid for _, cid in ids if rng.random() < 0.12]  # the treated group's extra visits
    for n, cid in enumerate(buyers):
        record_purchase(Customer.objects.get(pk=cid), {
            "order_id": f"tickets-{n}", "lines": [{"sku": product.sku, "quantity": 2, "price": product.price}],
            "payment_status": "paid"}, source="demo-campaign",
            occurred_at=start + dt.timedelta(days=float(rng.uniform(0.2, 10))))
    return {"engagement.Campaign": 1, "sales.Order": len(buyers)}


def _planned_tasks(ctx: DemoContext, day: dt.datetime) -> int:
    companies = list(Customer.objects.filter(kind="company", merged_into__isnull=True, owner__isnull=False)
                     .order_by("pk")[:15])
    kinds = ["call", "meeting", "negotiation"]
    for n, company in enumerate(companies):
        due = day + dt.timedelta(days=n % 5, hours=1 + n % 6)
        services.create_task(company, kind=kinds[n % 3], title=f"{['Звонок', 'Встреча', 'Переговоры'][n % 3]}: "
                             f"{company.display_name}", due_at=due, actor=SYSTEM,
                             idempotency_key=f"demo:planned:{company.pk}")
    return len(companies)


def run(ctx: DemoContext) -> dict[str, int]:
    _setup()
    zone = ZoneInfo(settings.TIME_ZONE)
    # The demo's day at 09:00, but never in the future: the queue is worked now and must find the rows due.
    morning = min(dt.datetime.combine(ctx.anchor, dt.time(9), zone), now())
    counts = _campaign(ctx, morning - dt.timedelta(days=30))
    fired = sum(evaluate(trigger, morning) for trigger in Trigger.objects.filter(enabled=True))
    # Work the queue once, now: some messages go, some wait for the customer's window, some hit a cap.
    worked = 0
    for _ in range(5):
        batch = outbox.run_once("demo", limit=100)
        worked += sum(batch.values())
        if not batch:
            break
    planned = _planned_tasks(ctx, morning)
    held = Message.objects.filter(Q(status="held")).count()
    return {**counts, "engagement.TriggerFire": fired, "engagement.Task": Task.objects.count(), "planned": planned,
            "engagement.Message": Message.objects.count(), "held": held, "worked": worked}
