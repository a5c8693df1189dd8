import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from clientbase.core.offload import Offloaded, OffloadFailed


@dataclass(frozen=True)
class _Squares:
    """Made in the second process: each item says which process made it."""

    count: int

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for n in range(self.count):
            yield n * n, os.getpid()


@dataclass(frozen=True)
class _Breaks:
    def __iter__(self) -> Iterator[int]:
        yield 1
        raise ValueError("line 2 is not a number")


@dataclass(frozen=True)
class _Plain:
    """Plain items, one of which holds a date (marshal refuses it, so that one goes pickled)."""

    def __iter__(self) -> Iterator[object]:
        yield (1, "два", [3.5, None, True], {"k": ("v",)}, {frozenset({4})})
        yield {"birth_date": dt.date(1990, 5, 1), "n": 2**70}
        yield ["after", b"bytes"]


def test_items_come_in_order_from_another_process_then_none() -> None:
    with Offloaded(_Squares(4)) as offloaded:
        items = [offloaded.receive() for _ in range(5)]
        assert offloaded.receive() is None  # and stays at the end
    assert [item[0] for item in items[:4]] == [0, 1, 4, 9] and items[4] is None
    assert {item[1] for item in items[:4]} != {os.getpid()}


def test_a_failure_in_the_process_is_raised_with_its_traceback() -> None:
    with Offloaded(_Breaks()) as offloaded:
        assert offloaded.receive() == 1
        with pytest.raises(OffloadFailed, match="ValueError: line 2 is not a number") as failed:
            offloaded.receive()
    assert "Traceback" in str(failed.value)


def test_leaving_early_ends_the_process() -> None:
    with Offloaded(_Squares(10_000_000)) as offloaded:
        assert offloaded.receive()[0] == 0
        process = offloaded._process
    assert process is not None and not process.is_alive()


def test_plain_items_come_back_equal_and_of_the_same_types_marshalled_or_pickled() -> None:
    with Offloaded(_Plain(), plain=True) as offloaded:
        items = [offloaded.receive() for _ in range(4)]
    assert items == [*_Plain(), None]
    assert type(items[0]) is tuple and type(items[0][2]) is list and type(items[1]["birth_date"]) is dt.date
