"""The CDNOW calibration summary (2,357 customers, weeks) used by the known-value tests."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clientbase.analytics.models._arrays import FloatArray

DATA = Path(__file__).parent / "data" / "cdnow_summary.csv"


@dataclass(frozen=True)
class Cdnow:
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray


def load_cdnow() -> Cdnow:
    table = np.loadtxt(DATA, delimiter=",", skiprows=1)
    return Cdnow(frequency=table[:, 1], recency=table[:, 2], T=table[:, 3], monetary_value=table[:, 4])
