"""Text normalisation shared by search and identity."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def search_key(*parts: str | None) -> str:
    """Lower-case, ё→е, accents and punctuation dropped, single spaces: the form names are searched in."""
    text = " ".join(p for p in parts if p)
    text = text.lower().replace("ё", "е")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return _SPACES.sub(" ", text).strip()
