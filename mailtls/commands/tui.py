"""``mailtls tui [TARGET...]``: the terminal UI (Textual), for help desks and admins.

Exit code: what ``mailtls check`` would give for the last check shown (2 when quit before
any check finished, 0 when no target was given and nothing was checked)."""

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
            "? shows help, q quits."
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
    parser.add_argument(
        "--ca-file",
        action="append",
        default=[],
        metavar="PEM",
        help="a root installed on the iPhone with full trust (repeatable)",
    )
    parser.add_argument("--ios-version", metavar="N", help="judge as this iOS version")
    parser.add_argument(
        "--at", metavar="WHEN", help="judge as of this UTC date/time (YYYY-MM-DD[THH:MM])"
    )
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="overall deadline")
    parser.add_argument(
        "--no-discover", action="store_true", help="do not look up SRV/MX names for a domain"
    )


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from mailtls.errors import UsageError
    from mailtls.service import CheckOptions
    from mailtls.tui import run_tui
    from mailtls.tui.screens.start import parse_at

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("tui needs a terminal; use `mailtls check` in scripts and pipes")
    for name in args.ca_file:
        if not Path(name).is_file():
            raise UsageError(f"--ca-file {name!r}: no such file")
    options = CheckOptions(
        address=tuple(args.address),
        ca_files=tuple(Path(p) for p in args.ca_file),
        ios_version=args.ios_version,
        at=parse_at(args.at, "--at") if args.at else None,
        timeout=args.timeout,
        discover=not args.no_discover,
    )
    return run_tui(args.targets, options)
