"""Guard rules (R2.2): which identifiers may link people. Pure functions over plain values.

Configured by Django settings (all optional):
``CLIENTBASE_IDENTIFIER_CAPS`` ({kind: max per customer}, default 5 for every kind),
``CLIENTBASE_SINGLE_VALUED_KINDS`` (default card and external) and admin-added ``JunkPattern`` rows.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Values that people type when they have nothing to type; compared case-insensitively, trimmed.
BUILTIN_JUNK = frozenset({
    "null", "none", "nil", "anonymous", "anon", "-", "--", "n/a", "na", "unknown", "undefined", "test",
    "test@test.com", "test@example.com", "noemail@noemail.com", "no@email.com", "example@example.com",
})
DEFAULT_CAP = 5
DEFAULT_SINGLE_VALUED = frozenset({"card", "external"})
_DIGITS = re.compile(r"\D")
_DIGIT_KINDS = frozenset({"phone", "whatsapp", "viber", "card"})


@dataclass(frozen=True)
class Guards:
    caps: dict[str, int] = field(default_factory=dict)
    single_valued: frozenset[str] = DEFAULT_SINGLE_VALUED
    # (kind or "" for any kind, compiled pattern matched against the whole value)
    patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()

    def cap(self, kind: str) -> int:
        return self.caps.get(kind, DEFAULT_CAP)

    def is_junk(self, kind: str, raw: str, value: str | None = None) -> bool:
        """True if ``raw`` (as sent) or its normalised ``value`` must never link anyone."""
        text = raw.strip().lower()
        if text in BUILTIN_JUNK:
            return True
        if kind in _DIGIT_KINDS:
            digits = _DIGITS.sub("", text)
            # 0000000000, 1111111, 99-99-99: a single repeated digit is a placeholder, not a person.
            if len(digits) >= 5 and len(set(digits)) == 1:
                return True
        if not self.patterns:
            return False
        candidates = [text] if value is None else [text, value.lower()]
        return any((not k or k == kind) and any(p.fullmatch(c) for c in candidates) for k, p in self.patterns)


def compile_patterns(rows: Iterable[tuple[str, str]]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Admin patterns; a pattern that does not compile is matched literally rather than breaking ingest."""
    compiled = []
    for kind, pattern in rows:
        try:
            compiled.append((kind, re.compile(pattern, re.IGNORECASE)))
        except re.error:
            compiled.append((kind, re.compile(re.escape(pattern), re.IGNORECASE)))
    return tuple(compiled)


def verified_conflict(kinds_a: set[str], kinds_b: set[str], single_valued: frozenset[str]) -> set[str]:
    """Single-valued kinds both customers hold a verified value of.

    Identifier values are unique, so two customers holding one verified kind each hold different
    values: merging them automatically would give one person two loyalty cards or two CRM ids.
    """
    return (kinds_a & kinds_b) & single_valued
