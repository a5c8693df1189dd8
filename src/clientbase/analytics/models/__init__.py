"""Customer-base models over numpy arrays: BG/NBD, Pareto/NBD, Gamma-Gamma, lifetime value, RFM summary.

Pure numpy/scipy, importable without Django (``loaders.py`` in the app moves data to and from the database).
See docs/analytics-models.md for the parametrisation, fitting method and validation.
"""

from ._optimize import FitError
from .beta_geo import BetaGeoModel, BetaGeoParams, NextPurchaseForecast
from .gamma_gamma import GammaGammaModel, GammaGammaParams
from .lifetime_value import CustomerScores, TransactionModel, customer_lifetime_value, score_customers
from .pareto_nbd import ParetoNBDModel, ParetoNBDParams
from .summary import CustomerSummary, summarise_transactions

__all__ = [
    "BetaGeoModel",
    "BetaGeoParams",
    "CustomerScores",
    "CustomerSummary",
    "FitError",
    "GammaGammaModel",
    "GammaGammaParams",
    "NextPurchaseForecast",
    "ParetoNBDModel",
    "ParetoNBDParams",
    "TransactionModel",
    "customer_lifetime_value",
    "score_customers",
    "summarise_transactions",
]
