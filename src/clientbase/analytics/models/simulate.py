"""Simulators for the buying processes assumed by the models, for recovery tests and benchmarks.

Each draws customer-level rates from the mixing distributions and then the individual process exactly
(no time discretisation), so a fit on the output should recover the parameters up to sampling error.
Time is in days when the parameters are per day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class SimulatedSummary:
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray


@dataclass(frozen=True, slots=True)
class SimulatedLog:
    """A transaction log: one row per purchase, first purchases included, unsorted by customer."""

    customer_id: IntArray
    timestamp: FloatArray
    amount: FloatArray
    observation_end: float


def _last_event_time(events: IntArray, window: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Time of the last of ``events`` uniform points in (0, window): window * U^(1/events); 0 if none."""
    with np.errstate(divide="ignore"):
        share = rng.random(events.shape[0]) ** (1.0 / np.maximum(events, 1))
    return np.where(events > 0, window * share, 0.0)


def simulate_beta_geo(
    T: FloatArray, r: float, alpha: float, a: float, b: float, rng: np.random.Generator
) -> SimulatedSummary:
    """BG/NBD process (Fader, Hardie & Lee 2005, section 2) for customers observed for ``T``.

    lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b). Repeat purchases follow a Poisson(lambda) process; the
    customer drops out right after repeat purchase J, J ~ Geometric(p) on {1, 2, ...}. With N ~ Poisson(lambda T)
    events in (0, T], x = min(J, N) and t_x is the x-th of N uniform order statistics, i.e. T * Beta(x, N-x+1).
    """
    n = T.shape[0]
    rate = rng.gamma(r, 1.0 / alpha, n)
    dropout = rng.beta(a, b, n)
    events = rng.poisson(rate * T)
    survived = rng.geometric(dropout)
    x = np.minimum(events, survived)
    with np.errstate(invalid="ignore"):
        position = rng.beta(np.maximum(x, 1), np.maximum(events - x + 1, 1))
    t_x = np.where(x > 0, T * position, 0.0)
    return SimulatedSummary(frequency=x.astype(np.float64), recency=t_x, T=T.astype(np.float64))


def simulate_pareto_nbd(
    T: FloatArray, r: float, alpha: float, s: float, beta: float, rng: np.random.Generator
) -> SimulatedSummary:
    """Pareto/NBD process (Schmittlein, Morrison & Colombo 1987) for customers observed for ``T``.

    lambda ~ Gamma(r, rate alpha), mu ~ Gamma(s, rate beta), lifetime tau ~ Exponential(mu). Purchases are
    Poisson(lambda) on (0, min(tau, T)]; t_x is the last of those uniform points.
    """
    n = T.shape[0]
    rate = rng.gamma(r, 1.0 / alpha, n)
    death = rng.exponential(1.0 / rng.gamma(s, 1.0 / beta, n))
    window = np.minimum(death, T)
    x = rng.poisson(rate * window)
    return SimulatedSummary(
        frequency=x.astype(np.float64), recency=_last_event_time(x, window, rng), T=T.astype(np.float64)
    )


def simulate_transaction_log(
    customers: int,
    rng: np.random.Generator,
    days: float = 540.0,
    beta_geo: tuple[float, float, float, float] = (0.6, 60.0, 0.8, 2.5),
    spend: tuple[float, float, float] = (6.0, 4.0, 1500.0),
) -> SimulatedLog:
    """A realistic shop's log: BG/NBD buying, Gamma-Gamma spend, customers acquired uniformly over ``days``.

    Defaults (per day) give a few purchases per customer over about 1.5 years and a mean ticket of about
    30.00 (in kopecks x 100 if read as minor units). Each customer's first purchase is at their acquisition
    time; repeat purchases are the first x of N ~ Poisson(lambda T) uniform points, with x as in
    :func:`simulate_beta_geo`. Amounts: nu ~ Gamma(q, rate v) per customer, each amount ~ Gamma(p, rate nu).
    """
    r, alpha, a, b = beta_geo
    p, q, v = spend
    acquired = rng.random(customers) * days
    T = days - acquired
    rate = rng.gamma(r, 1.0 / alpha, customers)
    events = rng.poisson(rate * T)
    x = np.minimum(events, rng.geometric(rng.beta(a, b, customers)))
    owner = np.repeat(np.arange(customers), events)
    offsets = rng.random(owner.shape[0]) * T[owner]
    order = np.lexsort((offsets, owner))
    owner, offsets = owner[order], offsets[order]
    rank = np.arange(owner.shape[0]) - np.repeat(np.cumsum(events) - events, events)
    kept = rank < x[owner]
    owner = np.concatenate([np.arange(customers), owner[kept]])
    timestamp = np.concatenate([acquired, acquired[owner[customers:]] + offsets[kept]])
    spend_rate = rng.gamma(q, 1.0 / v, customers)
    amount = rng.gamma(p, 1.0, owner.shape[0]) / spend_rate[owner]
    ids = rng.permutation(customers).astype(np.int64) + 1
    shuffle = rng.permutation(owner.shape[0])
    return SimulatedLog(
        customer_id=ids[owner][shuffle], timestamp=timestamp[shuffle], amount=amount[shuffle], observation_end=days
    )
