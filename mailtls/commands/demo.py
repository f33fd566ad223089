"""``mailtls demo``: the first command to run. No server, no network, a few seconds.

Parses the arguments, runs the demo (:func:`mailtls.lab.demo.run_demo`: one lab per demo
scenario, checked as ``mailtls check`` checks a real host) and prints it
(:mod:`mailtls.report.demo`). Exit 0 when every verdict is the one the scenario catalogue
expects, 1 when one differs, 2 when an endpoint could not be checked.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

FORMATS = ("text", "json")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="start local mail servers with sample chains, check them, show the report",
        description=(
            "Start the lab (local IMAP, POP3 and SMTP servers on free 127.0.0.1 ports) with the "
            "catalogue's demo scenarios, check them the way iPhone Mail connects, and print "
            "the reports with what to look at. Offline; takes a few seconds. Exit 0 when "
            "every verdict is the expected one."
        ),
    )
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="demo this scenario instead of the default set (repeatable; see "
        "mailtls lab --list-scenarios)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default text)"
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="serve and check all 7 endpoint kinds for every scenario (default: one each)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="overall deadline of each check in seconds (default 10)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="text: also show informational findings"
    )


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from mailtls.lab.demo import exit_code, run_demo
    from mailtls.report import demo as demo_report

    now = datetime.now(UTC).replace(microsecond=0)
    results = run_demo(args.scenario, now=now, timeout=args.timeout, sweep=args.sweep)
    if args.format == "json":
        sys.stdout.write(demo_report.render_json(results))
    else:
        from mailtls.report.text import use_colour

        text = demo_report.render_text(results, colour=use_colour(sys.stdout), verbose=args.verbose)
        sys.stdout.write(text)
    return exit_code(results)
