"""The analytics dashboard (/analytics/): every chart is server-side SVG from ``charts``."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from clientbase.access.actor import actor_for_user
from clientbase.analytics import charts, selectors
from clientbase.analytics.scores import RFMSegment
from clientbase.customers.models import Channel, Gender

MAX_COHORTS = 18


def _rfm_charts(context: dict[str, Any]) -> None:
    grid = selectors.rfm_grid()
    scores = [str(s) for s in range(1, 6)]
    context["rfm_chart"] = charts.heatmap(
        [grid["counts"][r - 1] for r in range(5, 0, -1)], [f"R{r}" for r in range(5, 0, -1)],
        [f"F{f}" for f in scores], title=_("Customers by RFM recency and frequency score"),
        row_title=_("Recency"), column_title=_("Frequency"))
    labels = dict(RFMSegment.choices)
    context["segments"] = sorted(((labels.get(k, k), v) for k, v in grid["segments"].items()),
                                 key=lambda item: -item[1])


def _score_charts(context: dict[str, Any]) -> None:
    dist = selectors.score_distributions()
    if not dist["clv_counts"]:
        return
    edges = dist["clv_edges"]
    context["clv_chart"] = charts.bars([f"{edges[i]:,.0f}" for i in range(len(edges) - 1)],
                                       {_("Customers"): dist["clv_counts"]},
                                       title=_("Lifetime value, 12 months (roubles)"))
    recency = [f"{int(e)}+" for e in dist["recency_edges"]]
    frequency = [f"{int(e)}+" for e in dist["frequency_edges"]]
    context["alive_chart"] = charts.heatmap(dist["alive"], recency, frequency, fmt="{:.0%}",
                                            title=_("Probability active by days since last purchase and repeat purchases"),
                                            row_title=_("Days since last"), column_title=_("Repeat purchases"))


def _base_charts(context: dict[str, Any]) -> None:
    base = selectors.base_figures()
    revenue, cohorts, attrition = base["revenue"], base["cohorts"], base["attrition"]
    context["revenue"] = revenue
    if revenue["months"]:
        context["revenue_chart"] = charts.bars(
            revenue["months"], {_("Acquisition"): [v / 100 for v in revenue["acquisition"]],
                                _("Repeat"): [v / 100 for v in revenue["repeat"]]},
            title=_("Acquisition vs repeat revenue by month (roubles)"))
        by_month = dict(zip(attrition["months"], attrition["rate"], strict=True))
        context["trend_chart"] = charts.lines(
            revenue["months"], {_("Repeat-revenue share"): revenue["repeat_share"],
                                _("Yearly attrition"): [by_month.get(m) for m in revenue["months"]]},
            title=_("Repeat-revenue share and yearly attrition"), top=1.0)
    if cohorts["cohorts"]:
        rows = cohorts["retention"][-MAX_COHORTS:]
        context["cohort_chart"] = charts.heatmap(
            rows, cohorts["cohorts"][-MAX_COHORTS:], [str(k) for k in range(len(cohorts["cohorts"]))],
            fmt="{:.0%}", cell=30, title=_("Monthly cohort retention"), row_title=_("First purchase"),
            column_title=_("Months since first purchase"))


def _evaluation_chart(context: dict[str, Any]) -> None:
    run = selectors.latest_evaluation()
    if run is None:
        return
    groups = run.calibration["groups"]
    context["evaluation"] = run.calibration
    context["holdout_chart"] = charts.bars(
        [g["label"] for g in groups], {_("Predicted"): [g["predicted"] for g in groups],
                                      _("Actual"): [g["actual"] for g in groups]}, fmt="{:.1f}",
        title=_("Repeat purchases in the hold-out by purchases in calibration"))


def _portrait_charts(context: dict[str, Any]) -> None:
    data = selectors.portrait()
    context["portrait_sizes"] = data["sizes"]
    values = {"gender": dict(Gender.choices), "channel": dict(Channel.choices)}
    names = {"age": _("Age"), "gender": _("Gender"), "city": _("City"), "channel": _("Preferred channel"),
             "category": _("Favourite category")}
    context["portrait_charts"] = [
        (names[key], charts.bars([_value_label(values.get(key, {}), v) for v, _r, _a in rows],
                                 {_("Regulars"): [r for _v, r, _a in rows], _("All buyers"): [a for _v, _r, a in rows]},
                                 fmt="{:.0%}", width=420, height=200, title=names[key]))
        for key, rows in data["shares"].items() if rows]


def _value_label(labels: dict[str, Any], value: str) -> str:
    """Gender and channel keys by their names; "?" (not filled in) in words; cities and categories as stored."""
    if value == "?":
        return _("Not stated")
    return str(labels.get(value, value))


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = actor_for_user(request.user)
    if not (actor.has_scope("customers:read") and actor.sees_all):
        return render(request, "analytics/denied.html", status=403)
    labels = dict(RFMSegment.choices)
    ranking = [{**row, "segment": labels.get(row["segment"], row["segment"])}
               for row in selectors.profitability_ranking(actor, limit=15)]
    context: dict[str, Any] = {"run": selectors.latest_run(), "ranking": ranking}
    for build in (_rfm_charts, _score_charts, _base_charts, _evaluation_chart, _portrait_charts):
        build(context)
    return render(request, "analytics/dashboard.html", context)
