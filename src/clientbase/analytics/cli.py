"""``clientbase analytics run | evaluate | schedule``."""

import argparse
import datetime as dt
import sys


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def cmd_run(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from clientbase.analytics.services import run_scoring, settings_from_environment

    settings = settings_from_environment(horizon_months=args.months, monthly_discount_rate=args.discount_rate,
                                         compare_pareto=not args.no_pareto)
    run = run_scoring(as_of=args.as_of, settings=settings, progress=not args.quiet)
    if run.status == "empty":
        print("No purchases yet: nothing to score.")
        return 0
    bg = run.params["bgnbd"]
    print(f"Run {run.version}: {run.customers} customers scored from {run.transactions} purchases.")
    print(f"BG/NBD r={bg['r']:.4g} alpha={bg['alpha']:.4g} a={bg['a']:.4g} b={bg['b']:.4g} "
          f"LL={bg['log_likelihood']:.1f}")
    print("Seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in run.timings.items()))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from clientbase.analytics.reports import evaluation_report, run_evaluation

    try:
        result = run_evaluation(calibration_end=args.calibration_end, holdout_end=args.holdout_end)
    except ValueError as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 2
    print(evaluation_report(result))
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from clientbase.analytics.tasks import schedule_next

    queued = schedule_next()
    print("Scoring run queued; start a worker with: clientbase manage db_worker" if queued
          else "A scoring run is already queued.")
    return 0


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("analytics", help="Fit the customer models, score everyone, evaluate.")
    commands = parser.add_subparsers(dest="analytics_command", required=True)
    run = commands.add_parser("run", help="Fit BG/NBD + Gamma-Gamma and store every customer's scores.")
    run.add_argument("--as-of", type=_date, help="observation end (default: today)")
    run.add_argument("--months", type=int, help="lifetime value horizon (default $CLIENTBASE_CLV_MONTHS or 12)")
    run.add_argument("--discount-rate", type=float,
                     help="monthly discount rate (default $CLIENTBASE_CLV_MONTHLY_DISCOUNT or 0.01)")
    run.add_argument("--no-pareto", action="store_true", help="skip the Pareto/NBD comparison fit")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)
    evaluate = commands.add_parser("evaluate", help="Predicted vs actual on a hold-out period.")
    evaluate.add_argument("--calibration-end", type=_date, required=True)
    evaluate.add_argument("--holdout-end", type=_date, help="default: the last purchase")
    evaluate.set_defaults(func=cmd_evaluate)
    schedule = commands.add_parser("schedule", help="Queue a scoring run for the worker (it then repeats).")
    schedule.set_defaults(func=cmd_schedule)
