"""Text normalisation shared by search and identity."""

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")


def search_key(*parts: str | None) -> str:
    """Lower-case, ё→е, accents and punctuation dropped, single spaces: the form names are searched in.

    Each part is keyed on its own and the keys joined by one space: the same text as keying the joined
    parts, since every step treats characters one by one and the joining space is one the last step
    collapses. Parts are cached (at most 16,384, a few MB): bulk ingest and imports key thousands of
    profiles a batch from a few thousand distinct names, and the walk over Unicode data per character
    cost more than the row."""
    return " ".join(key for key in map(_part_key, parts) if key)


@lru_cache(maxsize=16_384)
def _part_key(part: str | None) -> str:
    if not part:
        return ""
    text = part.lower().replace("ё", "е")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return _SPACES.sub(" ", text).strip()
