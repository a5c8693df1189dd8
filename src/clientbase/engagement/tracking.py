"""Opens (a 1×1 image in the HTML part) and clicks (signed redirect links) of campaign messages.

Links are signed with the message id and the target, so the redirect can never be turned into an
open redirect to an arbitrary site. The first open and the first click are kept; later ones are not.
"""

import re

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.urls import reverse
from django.utils.html import escape, linebreaks

from clientbase.core.clock import now
from clientbase.engagement.models import Message

SALT = "clientbase.engagement.tracking"
_LINK = re.compile(r"https?://[^\s<>\"')]+")


def open_url(message_id: int) -> str:
    token = signing.dumps(message_id, salt=SALT)
    return f"{settings.CLIENTBASE_PUBLIC_URL}{reverse('engagement:opened', args=[token])}"


def click_url(message_id: int, target: str) -> str:
    token = signing.dumps({"m": message_id, "u": target}, salt=SALT, compress=True)
    return f"{settings.CLIENTBASE_PUBLIC_URL}{reverse('engagement:clicked', args=[token])}"


def rewrite_links(body: str, message_id: int, *, keep: str = "") -> str:
    """Every http(s) link except ``keep`` (the unsubscribe link) becomes a tracked redirect."""
    return _LINK.sub(lambda m: m.group(0) if m.group(0) == keep else click_url(message_id, m.group(0)), body)


def html_version(body: str, message_id: int) -> str:
    text = linebreaks(escape(body))
    linked = _LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', text)
    return f'{linked}<img src="{escape(open_url(message_id))}" width="1" height="1" alt="">'


def record_open(token: str) -> None:
    message_id = int(signing.loads(token, salt=SALT))
    Message.objects.filter(pk=message_id, opened_at__isnull=True).update(opened_at=now())


def record_click(token: str) -> str:
    """The target of a signed link, after noting the click (a click implies an open)."""
    data = signing.loads(token, salt=SALT)
    at = now()
    Message.objects.filter(pk=int(data["m"]), clicked_at__isnull=True).update(clicked_at=at)
    Message.objects.filter(Q(pk=int(data["m"])) & Q(opened_at__isnull=True)).update(opened_at=at)
    return str(data["u"])
