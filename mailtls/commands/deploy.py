"""``mailtls deploy --cert FULLCHAIN --key KEY``: check the files, print server settings.

The files are checked first (leaf without intermediate, wrong order, key that does not
match); the Dovecot, Postfix and Exim snippets point at the full chain with TLS 1.2 as
the floor. Exit code 1 when the files would break iPhones, 0 otherwise.
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
            "Dovecot, Postfix and Exim pointing at them, with TLS 1.2 as the floor. Exit code "
            "1 if the files would make iPhones warn."
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
        help="a private root that issued the certificate directly (then no intermediate is needed)",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mailtls.analysis.certs import load_certificates
    from mailtls.exitcodes import ExitCode
    from mailtls.remedy.snippets import inspect_deployment, render_snippets, snippets

    roots: list[bytes] = []
    for path in args.ca_file:
        roots.extend(load_certificates(Path(path)))
    check = inspect_deployment(args.cert, args.key, roots=roots)
    out = sys.stdout
    print(f"{args.cert}: {check.certificates} certificate(s)", file=out)
    for number, subject in enumerate(check.subjects, 1):
        print(f"  {number}. {subject}", file=out)
    for problem in check.problems:
        print(f"PROBLEM: {problem}", file=out)
    for note in check.notes:
        print(f"note: {note}", file=out)
    print("", file=out)
    out.write(render_snippets(snippets(args.server or ["all"], args.cert, args.key)))
    ca_flags = "".join(f" --ca-file {path}" for path in args.ca_file)
    print(
        f"Before deploying, judge the chain as an iPhone would: mailtls inspect {args.cert} --host HOST{ca_flags}",
        file=out,
    )
    print(f"After reloading, check from outside: mailtls check HOST{ca_flags}", file=out)
    return ExitCode.OK if check.ok else ExitCode.IPHONE_FAILS
