"""``clientbase loyalty audit|expire|activate|tiers|birthdays``: the ledger's check and its scheduled jobs."""

import argparse
import json
import time


def _programs(slug: str | None) -> list:  # type: ignore[type-arg]
    from clientbase.loyalty.models import Program

    programs = Program.objects.filter(active=True).order_by("pk")
    return list(programs.filter(slug=slug) if slug else programs)


def cmd_audit(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from clientbase.loyalty.audit import audit

    started = time.perf_counter()
    report = audit(limit=args.limit)
    for line in report.drift[: args.limit]:
        print(line)
    print(f"{report.accounts} accounts and {report.lots} lots checked in {time.perf_counter() - started:.1f} s: "
          f"{len(report.drift)} drift" + ("" if report.drift else " (zero)"))
    return 1 if report.drift else 0


def cmd_expire(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from clientbase.loyalty.expiry import expire_points

    for program in _programs(args.program):
        started = time.perf_counter()
        result = expire_points(program)
        print(json.dumps({"program": program.slug, "lots": result.lots, "points": result.points,
                          "warnings": result.warned, "seconds": round(time.perf_counter() - started, 2)}))
    return 0


def cmd_activate(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from clientbase.loyalty.services import activate_pending

    for program in _programs(args.program):
        print(f"{program.slug}: {activate_pending(program)} pending lots activated")
    return 0


def cmd_tiers(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from clientbase.loyalty.tiers import review_tiers

    for program in _programs(args.program):
        print(f"{program.slug}: {review_tiers(program)} tiers changed at review")
    return 0


def cmd_birthdays(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from clientbase.loyalty.gifts import issue_birthday_coupons

    for program in _programs(args.program):
        print(f"{program.slug}: {issue_birthday_coupons(program)} birthday coupons issued")
    return 0


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("loyalty", help="Loyalty ledger: audit and scheduled jobs",
                            description="Loyalty ledger: audit and scheduled jobs (run them daily).")
    jobs = parser.add_subparsers(dest="loyalty_command", required=True)
    p = jobs.add_parser("audit", help="Recompute every balance and lot from the entries; exit 1 on drift")
    p.add_argument("--limit", type=int, default=50, help="drift lines to print")
    p.set_defaults(func=cmd_audit)
    for name, func, text in (
        ("expire", cmd_expire, "Expire due lots and inactive balances; warn customers before"),
        ("activate", cmd_activate, "Make pending points spendable once their return window has passed"),
        ("tiers", cmd_tiers, "Review tiers due for review (downgrades after the grace period)"),
        ("birthdays", cmd_birthdays, "Issue today's birthday coupons"),
    ):
        p = jobs.add_parser(name, help=text)
        p.add_argument("--program", help="program key (default: every active program)")
        p.set_defaults(func=func)
