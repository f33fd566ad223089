"""``mailtls deploy --cert FULLCHAIN --key KEY``: check the files, print server settings.

The files are checked first (leaf without intermediate, wrong order, key that does not
match), and the whole chain is judged as an iPhone does, with Apple's trust store (the
cached one, or the release ``--roots-version`` names; never fetched) and the roots of
``--ca-file`` as installed on the iPhone; the Dovecot, Postfix and Exim snippets point at
the full chain with TLS 1.2 as the floor. Exit code 1 when the files would break iPhones
or the iPhone would not trust the chain, 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "deploy",
        help="check a certificate + key and print Dovecot/Postfix/Exim settings for them",
        description=(
            "Check the full-chain file and key you are about to deploy (the most common error: "
            "the server certificate without its intermediate), then print configuration for "
            "Dovecot, Postfix and Exim pointing at them, with TLS 1.2 as the floor. The chain "
            "is judged as an iPhone does, with Apple's trust store and the --ca-file roots. "
            "Exit code 1 if the files would make iPhones warn."
        ),
    )
    parser.add_argument("--cert", required=True, metavar="FULLCHAIN", help="full-chain PEM file")
    parser.add_argument("--key", required=True, metavar="KEY", help="private key PEM file")
    parser.add_argument(
        "--server",
        action="append",
        choices=("dovecot", "postfix", "exim", "all"),
        metavar="NAME",
        help="dovecot, postfix, exim or all (default all; repeatable)",
    )
    parser.add_argument(
        "--ca-file",
        action="append",
        default=[],
        metavar="ROOT.pem",
        help="a private root installed on the iPhones (if it issued the certificate directly, no intermediate is needed)",
    )
    parser.add_argument(
        "--at",
        metavar="DATETIME",
        help="judge the chain at this moment (ISO 8601, e.g. 2027-03-01; default now)",
    )
    from mailtls.commands import storeopts

    storeopts.add_arguments(parser, may_fetch=False)


def verdict_word(verdict: object) -> str:
    """``needs_profile`` -> ``NEEDS PROFILE``: the verdict's own name, said loud."""
    return str(verdict).replace("_", " ").upper()


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime
    from pathlib import Path

    from mailtls.analysis import system_store, user_store
    from mailtls.analysis.certs import load_certificates
    from mailtls.commands import storeopts
    from mailtls.exitcodes import ExitCode
    from mailtls.moments import parse_moment
    from mailtls.remedy.snippets import inspect_deployment, render_snippets, snippets

    at = parse_moment(args.at) if args.at else None
    roots: list[bytes] = []
    for path in args.ca_file:
        roots.extend(load_certificates(Path(path)))
    version = storeopts.choose_version(args, may_fetch=False, at=at)
    system = system_store(version=version)
    user = user_store([Path(p) for p in args.ca_file]) or None
    check = inspect_deployment(
        args.cert,
        args.key,
        roots=roots,
        system=system,
        user=user,
        at=at if at is not None else datetime.now(UTC),
    )
    out = sys.stdout
    print(f"{args.cert}: {check.certificates} certificate(s)", file=out)
    for number, subject in enumerate(check.subjects, 1):
        print(f"  {number}. {subject}", file=out)
    for problem in check.problems:
        print(f"PROBLEM: {problem}", file=out)
    for note in check.notes:
        print(f"note: {note}", file=out)
    if check.analysis is not None:
        print(
            f"iPhone verdict: {verdict_word(check.analysis.verdict)} ({system.label}): "
            f"{check.analysis.summary}",
            file=out,
        )
    storeopts.print_hint(system.hint)
    print("", file=out)
    out.write(render_snippets(snippets(args.server or ["all"], args.cert, args.key)))
    ca_flags = "".join(f" --ca-file {path}" for path in args.ca_file)
    print(
        f"Before deploying, judge the chain as an iPhone would: mailtls inspect {args.cert} --host HOST{ca_flags}",
        file=out,
    )
    print(f"After reloading, check from outside: mailtls check HOST{ca_flags}", file=out)
    return ExitCode.OK if check.ok and check.trusted else ExitCode.IPHONE_FAILS
