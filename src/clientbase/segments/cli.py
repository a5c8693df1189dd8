"""``clientbase segments …``: refresh saved segments, count an ad-hoc rule."""

import argparse
import json
import sys
import time
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser("segments", help="Refresh segments or count a rule.")
    commands = parser.add_subparsers(dest="segments_command", required=True)
    refresh = commands.add_parser("refresh", help="Materialise segment membership (default: those due).")
    refresh.add_argument("--all", action="store_true", help="every segment, due or not")
    refresh.add_argument("--id", type=int, action="append", help="this segment (repeatable)")
    refresh.set_defaults(func=cmd_refresh)
    count = commands.add_parser("count", help="Count the customers a JSON rule selects now.")
    count.add_argument("rule", help='e.g. \'{"field": "city", "op": "eq", "value": "Москва"}\'')
    count.set_defaults(func=cmd_count)


def cmd_refresh(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from clientbase.segments import services
    from clientbase.segments.models import Segment

    if args.all or args.id:
        segments = Segment.objects.filter(pk__in=args.id) if args.id else Segment.objects.all()
        for segment in segments.order_by("pk"):
            started = time.perf_counter()
            joined, left = services.refresh(segment)
            print(f"{segment.name}: {segment.member_count} members (+{joined} −{left}) "
                  f"in {time.perf_counter() - started:.2f} s")
        return 0
    for name, joined, left in services.refresh_due():
        print(f"{name}: +{joined} −{left}")
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from clientbase.access.actor import SYSTEM
    from clientbase.core.errors import DomainValidationError
    from clientbase.segments import selectors

    try:
        rule = json.loads(args.rule)
        started = time.perf_counter()
        print(f"{selectors.count(SYSTEM, rule)} customers ({time.perf_counter() - started:.3f} s)")
    except (ValueError, DomainValidationError) as exc:
        print(f"segments count: {exc}", file=sys.stderr)
        return 2
    return 0
