"""Email over SMTP through Django's SMTP backend (settings CLIENTBASE_SMTP from CLIENTBASE_SMTP_*).

The backend is built here under its own mailer alias rather than taken from the project's default
mailer, so a test runner that swaps the default for an in-memory one still exercises a real SMTP
conversation. ``ChannelConfig(kind="email").config`` may override any key (host, port, from, …).
"""

import smtplib
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string

from clientbase.engagement.channels import Outgoing, PermanentFailure, TemporaryFailure, identifier_value

if TYPE_CHECKING:
    from clientbase.customers.models import Customer

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_OPTIONS = {"host", "port", "username", "password", "use_tls", "use_ssl", "timeout"}


def message_id(idempotency_key: str) -> str:
    """A stable Message-ID: the same outbox row always produces the same header."""
    safe = "".join(ch if ch.isalnum() or ch in "-._" else "-" for ch in idempotency_key)
    domain = (settings.CLIENTBASE_SMTP_FROM.rpartition("@")[2] or "clientbase.local").strip("> ")
    return f"<{safe}@{domain}>"


def _headers(mid: str, unsubscribe_url: str) -> dict[str, str]:
    headers = {"Message-ID": mid}
    if unsubscribe_url:
        # RFC 8058 one-click: mail clients POST to the link; the view records the unsubscribe.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


class EmailChannel:
    kind = "email"

    def address(self, customer: "Customer") -> str | None:
        return identifier_value(customer, "email")

    def send(self, outgoing: Outgoing, config: dict[str, Any]) -> str:
        mid = message_id(outgoing.idempotency_key)
        options = {**settings.CLIENTBASE_SMTP, **{k: v for k, v in config.items() if k in _OPTIONS}}
        connection = import_string(config.get("backend", SMTP_BACKEND))(alias="engagement", **options)
        email = EmailMultiAlternatives(subject=outgoing.subject, body=outgoing.body,
                             from_email=config.get("from", settings.CLIENTBASE_SMTP_FROM), to=[outgoing.address],
                             headers=_headers(mid, outgoing.unsubscribe_url))
        if outgoing.html:
            email.attach_alternative(outgoing.html, "text/html")
        try:
            with connection:
                connection.send_messages([email])
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            failure = TemporaryFailure if 400 <= exc.smtp_code < 500 else PermanentFailure
            raise failure(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"SMTP: {exc}") from exc
        return mid


EMAIL = EmailChannel()
