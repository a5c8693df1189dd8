"""Turning a message into text for one channel: its template in the customer's language, or its own text."""

from dataclasses import dataclass

from django.conf import settings

from clientbase.engagement import contact, templating, tracking
from clientbase.engagement.models import Message, MessageTemplate


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    unsubscribe_url: str = ""
    html: str = ""


def language_of(customer_preferences: object) -> str:
    if isinstance(customer_preferences, dict) and isinstance(customer_preferences.get("language"), str):
        return str(customer_preferences["language"])
    return str(settings.LANGUAGE_CODE)


def find_template(key: str, channel: str, language: str) -> MessageTemplate | None:
    """The template for the language, else the business's default language, else any language."""
    found = {t.language: t for t in MessageTemplate.objects.filter(key=key, channel=channel)}
    for wanted in (language, settings.LANGUAGE_CODE, "ru", "en"):
        if wanted in found:
            return found[wanted]
    return next(iter(found.values()), None)


def render_for(message: Message, channel: str) -> Rendered | None:
    """The message's text on ``channel``; None if it has a template key but no template for the channel.

    Raises DomainValidationError if the template is refused by the sandbox.
    """
    customer = message.customer
    if not message.template_key:
        subject, body = message.subject, message.body
    else:
        template = find_template(message.template_key, channel, language_of(customer.preferences))
        if template is None:
            return None
        subject, body = template.subject, template.body
    templating.validate(subject, path="subject")
    templating.validate(body, path="body")
    wanted = templating.referenced(subject) | templating.referenced(body)
    fields = contact.personal_fields(customer, channel, message.context or {}, wanted)
    unsubscribe = str(fields["unsubscribe_url"]) if message.kind == "marketing" else ""
    text = templating.render(body, fields, path="body")
    html = ""
    if message.source.startswith("campaign:"):
        text = tracking.rewrite_links(text, message.pk, keep=unsubscribe)
        html = tracking.html_version(text, message.pk) if channel == "email" else ""
    return Rendered(subject=templating.render(subject, fields, path="subject"), body=text,
                    unsubscribe_url=unsubscribe, html=html)


def preview(message_template: MessageTemplate, customer_id: int) -> Rendered:
    """A template rendered on a real customer, for the marketer's preview."""
    from clientbase.customers.models import Customer

    customer = Customer.objects.get(pk=customer_id)
    fields = contact.personal_fields(customer, message_template.channel, {})
    return Rendered(templating.render(message_template.subject, fields, path="subject"),
                    templating.render(message_template.body, fields, path="body"))
