"""Pure analytics decisions: RFM scores, the named RFM segments, the one-line "why". No ORM here.

RFM scores are quintiles among customers with at least one purchase: recency (days since the last purchase,
fewer is better), frequency (purchase days) and monetary (total spend): score = 1 + floor(5 (rank - 1) / n).
Ties share the lowest rank of their group, so all one-off buyers get F = 1 however many they are.

The segment is read from the recency x frequency grid (monetary is shown beside it, not used), first match:

=================  ==========  ==========
segment            R           F
=================  ==========  ==========
champions          4-5         4-5
loyal              3           4-5
potential_loyalist 4-5         2-3
new                5           1
promising          4           1
need_attention     3           3
about_to_sleep     3           1-2
cannot_lose        1-2         5
at_risk            1-2         3-4
hibernating        2           1-2
lost               1           1-2
=================  ==========  ==========
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

# Below this probability of still being active the card shows no next-visit date (see cards.py).
UNLIKELY_TO_RETURN = 0.1

IntArray = npt.NDArray[np.int64]

# SEGMENT_GRID[r - 1][f - 1] is the segment of scores (r, f); the table in the module docstring, as data.
SEGMENT_GRID: tuple[tuple[str, ...], ...] = (
    ("lost", "lost", "at_risk", "at_risk", "cannot_lose"),                                      # R = 1
    ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),                        # R = 2
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),                   # R = 3
    ("promising", "potential_loyalist", "potential_loyalist", "champions", "champions"),        # R = 4
    ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),              # R = 5
)


def quintile_scores(values: npt.ArrayLike, *, higher_is_better: bool = True) -> IntArray:
    """Scores 1..5 by quintile of rank; ties get one score."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return np.zeros(0, dtype=np.int64)
    from scipy.stats import rankdata  # here: scipy.stats is a third of a second of every process's start

    # Tied values take the lowest rank of their group, so the many one-off buyers all score F = 1.
    ranks = rankdata(data if higher_is_better else -data, method="min")
    return np.clip(np.floor((ranks - 1) * 5.0 / data.size) + 1, 1, 5).astype(np.int64)


def rfm_scores(days_since_last: npt.ArrayLike, purchase_days: npt.ArrayLike,
               total_spend: npt.ArrayLike) -> tuple[IntArray, IntArray, IntArray]:
    return (quintile_scores(days_since_last, higher_is_better=False), quintile_scores(purchase_days),
            quintile_scores(total_spend))


def segment_of(recency_score: int, frequency_score: int) -> str:
    return SEGMENT_GRID[recency_score - 1][frequency_score - 1]


def segments(recency_scores: IntArray, frequency_scores: IntArray) -> npt.NDArray[np.str_]:
    grid = np.array(SEGMENT_GRID)
    return np.asarray(grid[recency_scores - 1, frequency_scores - 1])


def in_about(days: float) -> str:
    """Human phrasing of a wait: "today", "in about two weeks", "in about 3 months"."""
    if days < 0.5:
        return _("today")
    if days < 1.5:
        return _("tomorrow")
    if days < 6.5:
        whole = round(days)
        return ngettext("in %(n)d day", "in %(n)d days", whole) % {"n": whole}
    if days < 10.5:
        return _("in about a week")
    if days < 17.5:
        return _("in about two weeks")
    if days < 24.5:
        return _("in about three weeks")
    if days < 45:
        return _("in about a month")
    months = round(days / 30.0)
    return ngettext("in about %(n)d month", "in about %(n)d months", months) % {"n": months}


@lru_cache(maxsize=8192)
def _phrase(kind: str, n: int, language: str | None) -> str:
    """One translated fragment; cached because a run writes a million lines from a few thousand fragments."""
    if kind == "visits":
        return ngettext("%(n)d visit", "%(n)d visits", n) % {"n": n}
    if kind == "last":
        return ngettext("last %(n)d day ago", "last %(n)d days ago", n) % {"n": n}
    if kind == "gap":
        return ngettext("usually every %(n)d day", "usually every %(n)d days", n) % {"n": n}
    return _("%(p)d%% likely still active") % {"p": n}


def why(*, visits: int, days_since_last: float, typical_gap: float | None, probability_alive: float,
        language: str | None = None) -> str:
    """One line saying what the scores rest on, e.g. "9 visits, last 5 days ago, usually every 12 days; 94% active".

    ``language`` is the active one unless given (a bulk caller looks it up once).
    """
    language = language or get_language()
    parts = [_phrase("visits", visits, language), _phrase("last", round(days_since_last), language)]
    if typical_gap is not None and math.isfinite(typical_gap):
        parts.append(_phrase("gap", max(1, round(typical_gap)), language))
    return ", ".join(parts) + "; " + _phrase("alive", round(100 * probability_alive), language)
