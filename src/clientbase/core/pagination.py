"""Keyset (cursor) pagination: stable under inserts, O(page) at any depth."""

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from clientbase.core.errors import DomainValidationError

MAX_PAGE = 500


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, value = raw.split(":", 1)
        if prefix != "id":
            raise ValueError(prefix)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise DomainValidationError.single("cursor", "The cursor is not one this server gave out.") from exc


def paginate_by_id(queryset: QuerySet[Any], cursor: str | None, limit: int) -> Page:
    """Return up to ``limit`` rows with id greater than the cursor's, in id order."""
    if not 1 <= limit <= MAX_PAGE:
        raise DomainValidationError.single("limit", f"Must be between 1 and {MAX_PAGE}.")
    if cursor:
        queryset = queryset.filter(id__gt=decode_cursor(cursor))
    rows = list(queryset.order_by("id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more and rows else None)
