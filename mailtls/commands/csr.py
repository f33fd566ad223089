"""``mailtls csr NAME...``: a key and a CSR for a public CA, and the ACME commands to use."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "csr",
        help="write a key and a certificate signing request with every host name",
        description=(
            "Write server.key (mode 0600) and server.csr with every NAME in the SAN, for a "
            "public CA, and print the certbot and acme.sh commands to get the certificate. "
            "Deploy the FULL chain the CA returns (fullchain.pem), never the certificate alone."
        ),
    )
    parser.add_argument("names", nargs="+", metavar="NAME", help="every host name the phones use")
    parser.add_argument(
        "--out",
        default="mailtls-server",
        metavar="DIR",
        help="where to write (default ./mailtls-server)",
    )
    parser.add_argument("--ec", action="store_true", help="P-256 key instead of RSA-2048")
    parser.add_argument("--force", action="store_true", help="replace existing files")


def run(args: argparse.Namespace) -> int:
    from mailtls.exitcodes import ExitCode
    from mailtls.remedy.csr import make_csr, render_acme_text

    paths = make_csr(
        args.names, out_directory=args.out, key_type="ec" if args.ec else "rsa", force=args.force
    )
    out = sys.stdout
    print(f"Names: {', '.join(paths.names)}", file=out)
    print(f"Wrote {paths.key} (private key, mode 0600)", file=out)
    print(
        f"Wrote {paths.csr} (certificate signing request; checked: signed, every name, this key)",
        file=out,
    )
    for warning in paths.warnings:
        print(f"mailtls: warning: {warning}", file=sys.stderr)
    print("", file=out)
    out.write(
        render_acme_text(
            paths.names,
            csr_path=str(paths.csr),
            key_path=str(paths.key),
            out_directory=str(paths.directory),
        )
    )
    return ExitCode.OK
