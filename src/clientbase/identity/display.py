"""How merge and review records read on a page, in the user's language.

They are stored in English, as the API gives them (``Merge.reason``: ``event pos-42/123``, ``manual``,
``manual (web)``, ``review #7``; ``ReviewCase.reason``: ``Both hold a different verified card``; evidence
identifiers as ``kind:value`` keys); pages translate the known shapes and show anything else as stored.
"""

import re

from django.utils.translation import gettext as _

from clientbase.customers.display import choice_label
from clientbase.identity.models import IdentifierKind

_EVENT = re.compile(r"^event (?P<ref>\S+)$")
_REVIEW = re.compile(r"^review #(?P<id>\d+)$")
_UNDONE = re.compile(r"^Merge #(?P<id>\d+) undone$")
_VERIFIED = re.compile(r"^Both hold a different verified (?P<kinds>[a-z_, ]+)$")


def kind_label(kind: str) -> str:
    return choice_label(IdentifierKind, kind)


def merge_reason(reason: str) -> str:
    """Why a merge happened, as a person reads it."""
    if reason == "manual":
        return _("by hand, through the API")
    if reason == "manual (web)":
        return _("by hand, on the card")
    if match := _EVENT.match(reason):
        return _("event %(ref)s") % {"ref": match["ref"]}
    if match := _REVIEW.match(reason):
        return _("review #%(id)s") % {"id": match["id"]}
    return reason


def review_reason(reason: str) -> str:
    """Why a pair went to the review queue (or was kept apart), as a person reads it."""
    if match := _VERIFIED.match(reason):
        kinds = ", ".join(kind_label(kind.strip()).lower() for kind in match["kinds"].split(","))
        return _("Each holds a different verified %(kinds)s") % {"kinds": kinds}
    if match := _UNDONE.match(reason):
        return _("Merge #%(id)s was undone") % {"id": match["id"]}
    return reason


def identifier_keys(keys: list[str]) -> list[str]:
    """``["phone:+79161234567", "card:FAM0002"]`` as ``["Phone: +79161234567", "Loyalty card: FAM0002"]``."""
    return [f"{kind_label(kind)}: {value}" if sep else key
            for key in keys for kind, sep, value in (key.partition(":"),)]
