"""``mailtls tui [TARGET...]``: the terminal UI (Textual), for help desks and admins.

Takes the check's options under the same names (``--address``, ``--ca-file``, ``--at``,
``--ios``, ...) and builds them with :func:`mailtls.commands.check.build_options`, so a
``tui`` check and a ``check`` judge alike. Exit code: what ``mailtls check`` would give for
the last check shown (2 when quit before any check finished; 0 when no target was given
and nothing was checked).
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "tui",
        help="interactive terminal UI: check, explain, fix",
        description=(
            "Open the interactive terminal UI. With TARGET (host, e-mail address or URL) the "
            "check starts at once; without, a form asks for it. Keys are shown at the bottom; "
            "? shows help, q quits. Options are those of 'mailtls check'."
        ),
    )
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="host, user@domain or URL")
    parser.add_argument(
        "--address",
        action="append",
        default=[],
        metavar="IP",
        help="connect to this address instead of the DNS answers (repeatable)",
    )
    parser.add_argument("--nameserver", metavar="IP[:PORT]", help="send DNS queries to this server")
    parser.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="deadline per host (default 10)"
    )
    parser.add_argument("--ehlo", default="mailtls.invalid", metavar="NAME", help="SMTP EHLO name")
    parser.add_argument(
        "--ca-file",
        action="append",
        default=[],
        metavar="FILE",
        help="a root installed on the iPhone with full trust (repeatable)",
    )
    parser.add_argument(
        "--system-roots",
        metavar="FILE",
        help="use these roots as the iPhone's preinstalled store instead of Apple's",
    )
    parser.add_argument("--at", metavar="DATETIME", help="evaluate at this moment (ISO 8601)")
    parser.add_argument("--ios", metavar="VERSION", help="apply the rules as this iOS version did")
    from mailtls.commands import storeopts

    storeopts.add_arguments(parser, may_fetch=True)
    parser.add_argument(
        "--concurrency", type=int, default=64, metavar="N", help="endpoints probed at once"
    )
    history = parser.add_mutually_exclusive_group()
    history.add_argument("--history", metavar="PATH", help="history database (default: check's)")
    history.add_argument("--no-history", action="store_true", help="do not record the checks")
    parser.add_argument(
        "--no-discover", action="store_true", help="do not look up SRV/MX names for a domain"
    )
    parser.add_argument(
        "--no-versions", action="store_true", help="do not test which TLS versions are accepted"
    )


def run(args: argparse.Namespace) -> int:
    import sys

    from mailtls.commands.check import build_options
    from mailtls.errors import UsageError
    from mailtls.tui import run_tui

    options = build_options(args)  # one-line errors for bad options, before the screen opens
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("tui needs a terminal; use `mailtls check` in scripts and pipes")
    return run_tui(args.targets, options, debug=bool(getattr(args, "debug", False)))
