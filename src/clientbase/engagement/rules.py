"""Pure contact decisions (no ORM): the contact window, frequency caps, retry back-off.

Time-zone trap: a window is written in the customer's wall-clock time ("10:00–14:00"), so every
opening is computed by building the local wall time with ``zoneinfo`` for that very date and
converting it to UTC. Adding 24 hours to an instant would drift by an hour across a DST change.
A wall time that does not exist (inside a spring-forward gap) resolves with ``fold=0`` to an instant
*after* the gap starts, so a message is never sent before its window.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Europe/Moscow"


@dataclass(frozen=True)
class ContactWindow:
    """Allowed contact time: ISO weekdays (empty = every day) and a daily span in ``zone``.

    ``start``/``end`` None mean the whole day; ``start > end`` is a span that wraps midnight
    (22:00–02:00 belongs to the day it starts on).
    """

    zone: str = DEFAULT_ZONE
    days: frozenset[int] = frozenset()
    start: time | None = None
    end: time | None = None

    @property
    def always_open(self) -> bool:
        return not self.days and self.start is None and self.end is None

    def tzinfo(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.zone or DEFAULT_ZONE)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_ZONE)

    def describe(self) -> str:
        span = f"{_hm(self.start or time(0))}–{_hm(self.end or time(0)) if self.end else '24:00'}"
        days = "" if not self.days else " on " + ",".join(_DAY_NAMES[d] for d in sorted(self.days))
        return f"{span}{days} {self.tzinfo().key}"


_DAY_NAMES = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


def _hm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def _to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


def _span(window: ContactWindow, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = window.start or time(0)
    opens = _to_utc(day, start, zone)
    if window.end is None or window.end == start:
        closes = _to_utc(day + timedelta(days=1), start if window.end else time(0), zone)
    elif window.end > start:
        closes = _to_utc(day, window.end, zone)
    else:
        closes = _to_utc(day + timedelta(days=1), window.end, zone)
    return opens, closes


def next_opening(window: ContactWindow, at: datetime) -> datetime | None:
    """None if ``at`` (aware) is inside the window, else the first instant (UTC) it opens after ``at``."""
    if window.always_open:
        return None
    zone = window.tzinfo()
    today = at.astimezone(zone).date()
    # From yesterday (a span wrapping midnight may still be open) up to eight days ahead.
    for offset in range(-1, 9):
        day = today + timedelta(days=offset)
        if window.days and day.isoweekday() not in window.days:
            continue
        opens, closes = _span(window, day, zone)
        if opens <= at < closes:
            return None
        if opens > at:
            return opens
    raise ValueError("A contact window with no allowed day")  # days only holds 1..7: unreachable


def held_reason(window: ContactWindow, at: datetime, opens: datetime) -> str:
    zone = window.tzinfo()
    local_open = opens.astimezone(zone)
    same_day = local_open.date() == at.astimezone(zone).date()
    until = _hm(local_open.time()) if same_day else f"{local_open:%a %Y-%m-%d} {_hm(local_open.time())}"
    return f"held: outside {window.describe()} until {until}"


@dataclass(frozen=True)
class Caps:
    per_channel_day: int
    per_channel_week: int
    all_channels_week: int


@dataclass(frozen=True)
class RecentSends:
    channel_day: int
    channel_week: int
    all_week: int


def cap_reached(caps: Caps, recent: RecentSends) -> str | None:
    """The reason text if one more marketing message would break a cap, else None."""
    if recent.channel_day >= caps.per_channel_day:
        return f"skipped: cap {caps.per_channel_day}/day on this channel reached"
    if recent.channel_week >= caps.per_channel_week:
        return f"skipped: cap {caps.per_channel_week}/week on this channel reached"
    if recent.all_week >= caps.all_channels_week:
        return f"skipped: cap {caps.all_channels_week}/week over all channels reached"
    return None


def retry_delay(attempts: int, base_seconds: int, *, ceiling_seconds: int = 6 * 3600) -> timedelta:
    """Exponential back-off after the ``attempts``-th failed try: base, 2·base, 4·base, … capped."""
    return timedelta(seconds=min(ceiling_seconds, base_seconds * 2 ** max(0, attempts - 1)))


def channel_candidates(preferred: str, order: Iterable[str], fixed: str = "") -> list[str]:
    """Channels to try, in order, without repeats: a fixed channel alone, else preferred then fallbacks."""
    if fixed:
        return [fixed]
    result: list[str] = []
    for channel in [preferred, *order]:
        if channel and channel not in result:
            result.append(channel)
    return result
