"""Campaigns: seeded hold-out, delivery over real SMTP, tracked opens and clicks, measured effect."""

import re
from datetime import timedelta

from django.test import Client

from clientbase.core.clock import now
from clientbase.engagement import campaigns, outbox
from clientbase.engagement.models import CampaignMember, Message
from clientbase.engagement.tests.builders import contact_rules, make_contact, make_template
from clientbase.engagement.tests.servers import Mailbox
from clientbase.sales.tests.builders import make_order


def test_holdout_split_is_seeded_and_complete() -> None:
    ids = list(range(1, 101))
    treated, holdout = campaigns.split_holdout(ids, 20, seed=7)
    assert (len(treated), len(holdout)) == (80, 20)
    assert sorted(treated + holdout) == ids
    assert campaigns.split_holdout(list(reversed(ids)), 20, seed=7) == (treated, holdout)
    assert campaigns.split_holdout(ids, 20, seed=8) != (treated, holdout)


def test_welch_interval_known_values() -> None:
    # Welch's t for [1..5] vs [2,4,6,8,10]: difference -3, se = sqrt(2.5/5 + 10/5) = 1.5811,
    # df = 2.5**2 / (0.5**2/4 + 2**2/4) = 5.882; t(0.975, 5.882) = 2.4571 (scipy.stats.ttest_ind, equal_var=False)
    interval = campaigns.welch_interval([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
    assert round(interval.difference, 4) == -3
    assert round(interval.low, 2) == -6.89 and round(interval.high, 2) == 0.89


def test_campaign_end_to_end(mailbox: Mailbox) -> None:
    contact_rules(cap_per_channel_day=10)
    make_template(key="tickets", body="Free tickets for you: https://shop.example.com/tickets?x=1")
    customers = [make_contact(email=f"c{i}@example.com", phone=f"+7916100000{i}") for i in range(10)]
    campaign = campaigns.start_campaign(name="Birthday tickets", template_key="tickets",
                                        customer_ids=[c.pk for c in customers], holdout_percent=30, seed=1)
    treated = list(CampaignMember.objects.filter(campaign=campaign, holdout=False).values_list("customer_id",
                                                                                               flat=True))
    assert len(treated) == 7
    assert outbox.run_once("w") == {"sent": 7}
    assert len(mailbox.messages) == 7

    email = mailbox.messages[0]
    html = next(part for part in email.walk() if part.get_content_type() == "text/html")
    html_text = html.get_payload(decode=True).decode()  # type: ignore[union-attr]
    pixel = re.search(r'<img src="http://127\.0\.0\.1:8000(/engagement/o/[^"]+)"', html_text)
    link = re.search(r"http://127\.0\.0\.1:8000(/engagement/c/[^\s<\"]+)", html_text)
    assert pixel and link
    client = Client()
    assert client.get(pixel.group(1)).status_code == 200
    response = client.get(link.group(1))
    assert response.status_code == 302 and response["Location"] == "https://shop.example.com/tickets?x=1"
    assert client.get("/engagement/c/forged/").status_code == 400

    buyer = Message.objects.get(source=f"campaign:{campaign.pk}", opened_at__isnull=False).customer
    make_order(customer=buyer, at=now() + timedelta(days=1))
    result = campaigns.results(campaign)
    assert {k: result[k] for k in ("treated", "holdout", "delivered", "opened", "clicked", "converted_treated",
                                   "converted_holdout")} == {
        "treated": 7, "holdout": 3, "delivered": 7, "opened": 1, "clicked": 1, "converted_treated": 1,
        "converted_holdout": 0}
    assert result["revenue_per_treated"] == 50000 / 7
    assert result["incremental_revenue"] == 50000
    low, high = result["ci_low"], result["ci_high"]
    assert low is not None and high is not None and low < 50000 < high


def test_campaign_page_sends_to_a_segment_and_shows_results() -> None:
    from clientbase.access.actor import SYSTEM
    from clientbase.access.tests.builders import make_user
    from clientbase.segments import services as segment_services

    for i in range(5):
        make_contact(email=f"p{i}@example.com", phone=f"+7916300000{i}", city="Тверь")
    segment = segment_services.save_segment({"name": "Тверь", "rule": {"field": "city", "op": "eq", "value": "Тверь"},
                                             "refresh_every_minutes": 0}, actor=SYSTEM)
    segment_services.refresh(segment)
    make_template(key="tickets")
    client = Client()
    client.force_login(make_user(role="marketer"))
    response = client.post("/engagement/campaigns/", {"name": "Tver", "segment": segment.pk,
                                                      "template_key": "tickets", "holdout_percent": 20})
    assert response.status_code == 302
    page = client.get("/engagement/campaigns/").content.decode()
    assert "Tver" in page and "4 / 1" in page
