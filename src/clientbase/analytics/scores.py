"""Stored analytics results: one score row per customer and one record per model run (R5.1-R5.3).

These Django models live here, not in ``analytics/models.py``, because ``clientbase.analytics.models`` is the
package of pure numpy models (BG/NBD, Pareto/NBD, Gamma-Gamma). ``AnalyticsConfig.ready`` imports this module,
so the classes are registered with the app registry before migrations or any query run (see docs/analytics.md).

Money is in kopecks (floats where it is an expectation, integers where it is a count of kopecks).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RFMSegment(models.TextChoices):
    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalist")
    NEW = "new", _("New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANNOT_LOSE = "cannot_lose", _("Can't lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class ModelRun(models.Model):
    """One fit-and-score run: which model version, its fitted parameters, how long it took."""

    version = models.CharField(_("model version"), max_length=40, unique=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    observation_end = models.DateField(_("observation end"))
    customers = models.PositiveIntegerField(_("customers scored"), default=0)
    transactions = models.PositiveBigIntegerField(_("purchases read"), default=0)
    # {"bgnbd": {"r":…, "alpha":…, "a":…, "b":…, "log_likelihood":…}, "gamma_gamma": {…}, "pareto_nbd": {…}}
    params = models.JSONField(_("fitted parameters"), default=dict)
    # Seconds per phase: load, fit, score, store.
    timings = models.JSONField(_("timings"), default=dict)
    # Settings used (horizon, discount rate) and, for evaluate runs, the hold-out comparison.
    calibration = models.JSONField(_("calibration"), default=dict, blank=True)
    status = models.CharField(max_length=20, default="running")

    class Meta:
        app_label = "analytics"
        verbose_name = _("model run")
        verbose_name_plural = _("model runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.version


class CustomerScore(models.Model):
    """The latest scores of one customer; replaced in bulk by every run (see ``loaders.store_scores``)."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, primary_key=True,
                                    related_name="score")
    model_version = models.CharField(_("model version"), max_length=40, db_index=True)
    computed_at = models.DateTimeField(_("computed at"))
    # The summary the models saw, in days (lifetimes' conventions: frequency = repeat purchase days).
    frequency = models.PositiveIntegerField(_("repeat purchase days"), default=0)
    recency = models.FloatField(_("recency, days"), default=0.0)
    age = models.FloatField(_("days since first purchase"), default=0.0)
    monetary = models.FloatField(_("average repeat spend, kopecks"), default=0.0)
    expected_purchases_90 = models.FloatField(_("expected purchases in 90 days"), default=0.0)
    probability_alive = models.FloatField(_("probability active"), default=0.0)
    expected_average_spend = models.FloatField(_("expected average spend, kopecks"), default=0.0)
    clv = models.FloatField(_("lifetime value, kopecks"), default=0.0, db_index=True)
    next_purchase_at = models.DateField(_("predicted next purchase"), null=True, blank=True, db_index=True)
    next_purchase_low = models.DateField(null=True, blank=True)
    next_purchase_high = models.DateField(null=True, blank=True)
    next_purchase_method = models.CharField(max_length=20, blank=True, default="")
    typical_gap = models.FloatField(_("typical days between visits"), null=True, blank=True)
    recency_score = models.PositiveSmallIntegerField(default=1)
    frequency_score = models.PositiveSmallIntegerField(default=1)
    monetary_score = models.PositiveSmallIntegerField(default=1)
    segment = models.CharField(_("RFM segment"), max_length=20, choices=RFMSegment.choices, db_index=True)
    frequency_class = models.CharField(_("frequency class"), max_length=10, blank=True, default="")
    why = models.CharField(_("why"), max_length=300, blank=True, default="")

    class Meta:
        app_label = "analytics"
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recency_score__gte=1, recency_score__lte=5, frequency_score__gte=1,
                                   frequency_score__lte=5, monetary_score__gte=1, monetary_score__lte=5),
                name="customer_score_rfm_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.segment}"
