"""The contact window in the customer's zone, across zones and DST changes (pure, no database)."""

from datetime import UTC, datetime, time

from hypothesis import given, settings
from hypothesis import strategies as st

from clientbase.engagement.rules import ContactWindow, held_reason, next_opening


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


MOSCOW = ContactWindow(zone="Europe/Moscow", start=time(10), end=time(14))


def test_inside_the_window_is_open() -> None:
    assert next_opening(MOSCOW, utc(2026, 11, 23, 8, 0)) is None  # 11:00 MSK


def test_before_the_window_waits_until_it_opens_today() -> None:
    at = utc(2026, 11, 23, 4, 0)  # 07:00 MSK
    opens = next_opening(MOSCOW, at)
    assert opens == utc(2026, 11, 23, 7, 0)
    assert held_reason(MOSCOW, at, opens) == "held: outside 10:00–14:00 Europe/Moscow until 10:00"


def test_after_the_window_waits_until_tomorrow() -> None:
    at = utc(2026, 11, 23, 11, 0)  # 14:00 MSK, the end is exclusive
    opens = next_opening(MOSCOW, at)
    assert opens == utc(2026, 11, 24, 7, 0)
    assert held_reason(MOSCOW, at, opens).endswith("until Tue 2026-11-24 10:00")


def test_berlin_spring_forward_opens_at_local_nine_not_utc_plus_24h() -> None:
    window = ContactWindow(zone="Europe/Berlin", start=time(9), end=time(17))
    # Saturday 19:00 CET; Sunday 29 March 2026 the clocks go 02:00 -> 03:00 (CEST, UTC+2).
    assert next_opening(window, utc(2026, 3, 28, 18, 0)) == utc(2026, 3, 29, 7, 0)


def test_berlin_fall_back() -> None:
    window = ContactWindow(zone="Europe/Berlin", start=time(9), end=time(17))
    # Sunday 25 October 2026 the clocks go 03:00 -> 02:00 (CET, UTC+1).
    assert next_opening(window, utc(2026, 10, 24, 20, 0)) == utc(2026, 10, 25, 8, 0)
    assert next_opening(window, utc(2026, 10, 25, 7, 59)) == utc(2026, 10, 25, 8, 0)


def test_window_starting_inside_the_dst_gap_is_never_early() -> None:
    window = ContactWindow(zone="Europe/Berlin", start=time(2, 30), end=time(4))
    # 02:30 does not exist on 29 March 2026; the window opens after the gap, never before 03:00 CEST.
    opens = next_opening(window, utc(2026, 3, 29, 0, 0))
    assert opens is not None and opens >= utc(2026, 3, 29, 1, 0)
    assert opens == utc(2026, 3, 29, 1, 30)  # 03:30 CEST


def test_new_york_spring_forward() -> None:
    window = ContactWindow(zone="America/New_York", start=time(10), end=time(14))
    # 8 March 2026: EST (UTC-5) becomes EDT (UTC-4).
    assert next_opening(window, utc(2026, 3, 7, 20, 0)) == utc(2026, 3, 8, 14, 0)
    assert next_opening(window, utc(2026, 3, 6, 20, 0)) == utc(2026, 3, 7, 15, 0)


def test_yekaterinburg_has_no_dst() -> None:
    window = ContactWindow(zone="Asia/Yekaterinburg", start=time(10), end=time(14))
    assert next_opening(window, utc(2026, 6, 1, 3, 0)) == utc(2026, 6, 1, 5, 0)
    assert next_opening(window, utc(2026, 1, 1, 3, 0)) == utc(2026, 1, 1, 5, 0)


def test_window_wrapping_midnight() -> None:
    window = ContactWindow(zone="Europe/Moscow", start=time(22), end=time(2))
    assert next_opening(window, utc(2026, 11, 23, 20, 0)) is None  # 23:00
    assert next_opening(window, utc(2026, 11, 23, 22, 30)) is None  # 01:30 next day
    assert next_opening(window, utc(2026, 11, 24, 0, 0)) == utc(2026, 11, 24, 19, 0)  # 03:00 -> 22:00


def test_contact_days_only() -> None:
    window = ContactWindow(zone="Europe/Moscow", days=frozenset({1}), start=time(10), end=time(14))
    # Tuesday 24 Nov 2026 -> Monday 30 Nov 10:00 MSK.
    assert next_opening(window, utc(2026, 11, 24, 8, 0)) == utc(2026, 11, 30, 7, 0)


def test_unknown_zone_falls_back_to_moscow() -> None:
    window = ContactWindow(zone="Mars/Olympus", start=time(10), end=time(14))
    assert next_opening(window, utc(2026, 11, 23, 4, 0)) == utc(2026, 11, 23, 7, 0)


ZONES = ["Europe/Moscow", "Europe/Berlin", "America/New_York", "Asia/Yekaterinburg", "Australia/Lord_Howe"]


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES), days=st.frozensets(st.integers(1, 7)),
       start=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
       end=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
       at=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)).map(
           lambda d: d.replace(tzinfo=UTC)))
def test_an_opening_is_later_and_open(zone: str, days: frozenset[int], start: time, end: time,
                                      at: datetime) -> None:
    window = ContactWindow(zone=zone, days=days, start=start, end=end)
    opens = next_opening(window, at)
    if opens is not None:
        assert opens > at
        assert next_opening(window, opens) is None
