"""Demo stage "analytics": score the demo business once, so the card, the dashboard, segments on
scores and the next-purchase trigger have figures from the first start (the worker rescores daily)."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clientbase.demo.stages import DemoContext


def run(ctx: "DemoContext") -> dict[str, int]:
    from clientbase.analytics.scores import CustomerScore
    from clientbase.analytics.services import run_scoring

    run = run_scoring(as_of=ctx.anchor)
    ctx.log(f"analytics: scored {run.customers} customers ({run.version})")
    return {"customer_scores": CustomerScore.objects.count()}
