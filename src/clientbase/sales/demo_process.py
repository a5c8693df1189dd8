"""The demo's purchase process: when each guest buys, documented for testing the prediction models.

Pure numpy, no Django. ``purchase_days`` gives one customer's purchase times (days since the start
of the window) from a reproducible random stream. Two kinds of buyer (docs/sales.md has the table):

* **Casual** (BG/NBD, Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing
  Science 24(2)): while active, purchases follow a Poisson process with rate ``lam ~ Gamma(r, alpha)``
  per day; right after every purchase the customer drops out for good with probability
  ``p ~ Beta(a, b)``. The first purchase is at the customer's arrival.
* **Regular**: buys on a rhythm, every ``period`` days (2, 3, 4, 7 or 14) with a log-normal jitter
  (sigma 0.2), and stops after any purchase with a small probability ``stop`` (0.01).
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ProcessParams:
    window_days: int = 548          # 18 months of history ending at the demo's "today"
    never_buy: float = 0.12          # share of registered guests with no purchase at all
    regular_share: float = 0.15      # share of buyers who are regulars
    r: float = 0.8                   # Gamma shape of the purchase rate (casual)
    alpha: float = 20.0              # Gamma rate: mean rate r / alpha = 0.04 a day, one visit in 25 days
    a: float = 1.2                   # Beta dropout parameters: mean p = a / (a + b) = 0.29
    b: float = 3.0
    periods: tuple[int, ...] = (2, 3, 4, 7, 7, 14)   # regulars' rhythms (days), weekly twice as common
    jitter: float = 0.2
    stop: float = 0.01
    arrival_mean_days: float = 20.0  # from registration (or the window start) to the first purchase


@dataclass(frozen=True)
class Buyer:
    kind: str            # "none", "casual" or "regular"
    rate: float          # lam (casual) or 1 / period (regular), purchases a day
    dropout: float       # p (casual) or stop (regular)
    days: np.ndarray     # purchase times in days from the window start, ascending, < window_days


def purchase_days(rng: np.random.Generator, registered_day: float, params: ProcessParams) -> Buyer:
    """One customer's purchases; ``registered_day`` may be negative (registered before the window)."""
    if rng.random() < params.never_buy:
        return Buyer("none", 0.0, 0.0, np.empty(0))
    start = max(registered_day, 0.0) + rng.exponential(params.arrival_mean_days)
    end = float(params.window_days)
    days: list[float] = []
    if rng.random() < params.regular_share:
        period = float(rng.choice(params.periods))
        t = start
        while t < end:
            days.append(t)
            if rng.random() < params.stop:
                break
            t += period * float(np.exp(rng.normal(0.0, params.jitter)))
        return Buyer("regular", 1.0 / period, params.stop, np.asarray(days))
    lam = float(rng.gamma(params.r, 1.0 / params.alpha))
    p = float(rng.beta(params.a, params.b))
    t = start
    while t < end:
        days.append(t)
        if rng.random() < p:
            break
        t += rng.exponential(1.0 / lam)
    return Buyer("casual", lam, p, np.asarray(days))
