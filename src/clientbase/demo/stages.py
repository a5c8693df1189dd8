"""The demo is built by ordered, named stages; ``demo.json`` remembers which ones ran.

A later issue extends the demo by appending one line to ``STAGES`` (for example
``Stage("orders", "clientbase.sales.demo:run")``); ``ensure_demo`` then runs only the new stage
on the next start. A stage function takes a ``DemoContext`` and returns row counts by table.
"""

import importlib
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Stage:
    name: str
    target: str   # "module:function", imported only when the stage runs

    def function(self) -> Callable[["DemoContext"], dict[str, int]]:
        module, _, func = self.target.partition(":")
        result: Callable[[DemoContext], dict[str, int]] = getattr(importlib.import_module(module), func)
        return result


STAGES: list[Stage] = [
    Stage("staff", "clientbase.demo.staff:run"),
    Stage("people", "clientbase.demo.people:run"),
    Stage("companies", "clientbase.demo.companies:run"),
    Stage("catalogue_and_orders", "clientbase.sales.demo:run"),
    Stage("loyalty", "clientbase.loyalty.demo:run"),
    Stage("channel_events", "clientbase.interactions.demo:run"),
    Stage("analytics", "clientbase.analytics.demo:run"),
    Stage("engagement", "clientbase.engagement.demo:run"),
]


@dataclass
class DemoContext:
    """What every stage may rely on.

    ``customers`` is the total number of customer profiles (people and companies); ``anchor`` is the
    demo's "today", fixed at the first run so that a later stage and a rerun see the same calendar.
    ``checkpoint`` lets a long stage record how far it got; ``resume`` is what it recorded last time.
    """

    seed: int
    customers: int
    anchor: date
    password: str
    progress: bool = True
    resume: dict[str, Any] = field(default_factory=dict)
    checkpoint: Callable[[dict[str, Any]], None] = lambda _state: None

    def rng(self, stage: str, *keys: int) -> np.random.Generator:
        """An independent, reproducible random stream per stage and chunk."""
        return np.random.default_rng([self.seed, zlib.crc32(stage.encode()), *keys])

    def log(self, message: str) -> None:
        if self.progress:
            print(message, flush=True)


def run_stage(stage: Stage, ctx: DemoContext) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    counts = stage.function()(ctx)
    return counts, time.perf_counter() - started
