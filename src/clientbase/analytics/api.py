"""Scores and aggregates endpoints: check access, call one selector.

Per-customer scores need ``customers:read`` and follow customer visibility. Base-wide aggregates need
``customers:read`` held by a role that sees every customer (admin, marketer, support): a manager who sees only
their team's customers must not learn base-wide figures from them.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Router

from clientbase.access.actor import Actor
from clientbase.analytics import selectors
from clientbase.analytics.schemas import AggregatesOut, RankingRow, RunOut, ScoreOut, ScorePage
from clientbase.analytics.scores import CustomerScore, ModelRun
from clientbase.api import require
from clientbase.core.errors import DomainValidationError, NotFound, PermissionDenied
from clientbase.core.pagination import MAX_PAGE, decode_cursor, encode_cursor

router = Router(tags=["analytics"])


def _whole_base(request: HttpRequest) -> Actor:
    actor = require(request, "customers:read")
    if not actor.sees_all:
        raise PermissionDenied("Base-wide analytics need a role that sees every customer.")
    return actor


def run_out(run: ModelRun) -> dict[str, Any]:
    return {f: getattr(run, f) for f in ("version", "status", "started_at", "finished_at", "observation_end",
                                         "customers", "transactions", "params", "timings", "calibration")}


@router.get("/analytics/customers/{customer_id}/score", response=ScoreOut)
def customer_score(request: HttpRequest, customer_id: int) -> CustomerScore:
    actor = require(request, "customers:read")
    score = selectors.score_for(actor, customer_id)
    if score is None:
        raise NotFound(f"Scores of customer #{customer_id} (no purchases, or no run yet)")
    return score


@router.get("/analytics/scores", response=ScorePage)
def list_scores(request: HttpRequest, segment: str | None = None, cursor: str | None = None,
                limit: int = 100) -> dict[str, Any]:
    """Scores of visible customers in customer-id order, optionally of one RFM segment."""
    actor = require(request, "customers:read")
    if not 1 <= limit <= MAX_PAGE:
        raise DomainValidationError.single("limit", f"Must be between 1 and {MAX_PAGE}.")
    queryset = selectors.scores(actor, segment=segment).order_by("customer_id")
    if cursor:
        queryset = queryset.filter(customer_id__gt=decode_cursor(cursor))
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode_cursor(rows[-1].customer_id) if more and rows else None}


@router.get("/analytics/runs/latest", response=RunOut)
def latest_run(request: HttpRequest, evaluation: bool = False) -> dict[str, Any]:
    _whole_base(request)
    run = selectors.latest_evaluation() if evaluation else selectors.latest_run()
    if run is None:
        raise NotFound("No analytics run yet")
    return run_out(run)


@router.get("/analytics/aggregates", response=AggregatesOut)
def aggregates(request: HttpRequest) -> dict[str, Any]:
    """Repeat revenue, acquisition vs repeat revenue, cohort retention, attrition, RFM grid, distributions."""
    _whole_base(request)
    return {**selectors.base_figures(), "rfm": selectors.rfm_grid(),
            "distributions": selectors.score_distributions()}


@router.get("/analytics/portrait", response=dict[str, Any])
def portrait(request: HttpRequest) -> dict[str, Any]:
    """Regular customers against all buyers: age band, gender, city, preferred channel, favourite category."""
    _whole_base(request)
    return selectors.portrait()


@router.get("/analytics/profitability", response=list[RankingRow])
def profitability(request: HttpRequest, limit: int = 20) -> list[dict[str, Any]]:
    actor = require(request, "customers:read")
    if not 1 <= limit <= MAX_PAGE:
        raise DomainValidationError.single("limit", f"Must be between 1 and {MAX_PAGE}.")
    return selectors.profitability_ranking(actor, limit=limit)
