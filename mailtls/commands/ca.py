"""``mailtls ca init`` and ``mailtls ca issue``: a private CA whose certificates iOS accepts.

``init`` writes ``ca.key`` (0600) and ``ca.pem``; ``issue`` writes ``server.key`` (0600),
``server.pem`` and ``fullchain.pem`` (leaf + root). Nothing is overwritten without
``--force``, and a server certificate is written only after mailtls's trust engine
judged it ``trusted`` for every name with the root installed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ca",
        help="run a small private CA: a root iPhones accept, server certificates they trust",
        description=(
            "A private certificate authority for mail servers. 'init' makes the root (CA:TRUE, "
            "subject CN, SHA-256, RSA-3072 or P-256); 'issue' makes a server certificate with "
            "every host name in the SAN, serverAuth, SHA-256 and at most 825 days."
        ),
    )
    actions = parser.add_subparsers(dest="ca_action", metavar="ACTION", required=True)

    init = actions.add_parser("init", help="create the root CA (ca.key, ca.pem)")
    init.add_argument(
        "directory", nargs="?", default="mailtls-ca", metavar="DIR", help="default ./mailtls-ca"
    )
    init.add_argument("--cn", required=True, metavar="NAME", help="the root's common name")
    init.add_argument("--org", metavar="NAME", help="organization in the root's subject")
    init.add_argument("--ec", action="store_true", help="P-256 key instead of RSA-3072")
    init.add_argument(
        "--days", type=int, default=3650, metavar="N", help="root lifetime (default 3650)"
    )
    init.add_argument("--force", action="store_true", help="replace an existing CA")

    issue = actions.add_parser(
        "issue",
        help="issue a server certificate for NAME... (server.key, server.pem, fullchain.pem)",
        description=(
            "Issue a server certificate with every NAME (DNS names, *.wildcards, IP addresses) "
            "in the SAN. Give every host name the phones use for incoming and outgoing mail; "
            "--names-from takes them from a 'mailtls check --format json' report. The default "
            "lifetime is 397 days: iOS allows at most 825 under a private root, and short "
            "lifetimes limit the damage of a leaked key."
        ),
    )
    issue.add_argument("names", nargs="*", metavar="NAME", help="host names / IP addresses")
    issue.add_argument(
        "--names-from",
        metavar="REPORT.json",
        help="also every host name reached in this 'mailtls check --format json' report "
        "('-' reads it from standard input)",
    )
    issue.add_argument(
        "--ca-dir", default="mailtls-ca", metavar="DIR", help="the CA (default ./mailtls-ca)"
    )
    issue.add_argument(
        "--out",
        default="mailtls-server",
        metavar="DIR",
        help="where to write (default ./mailtls-server)",
    )
    issue.add_argument(
        "--days", type=int, default=397, metavar="N", help="lifetime, at most 825 (default 397)"
    )
    issue.add_argument("--ec", action="store_true", help="P-256 key instead of RSA-2048")
    issue.add_argument(
        "--without-root",
        action="store_true",
        help="fullchain.pem without the root (the leaf alone; see 'mailtls ca issue --help')",
    )
    issue.add_argument("--force", action="store_true", help="replace existing files")


def run(args: argparse.Namespace) -> int:
    if args.ca_action == "init":
        return _init(args)
    return _issue(args)


def _init(args: argparse.Namespace) -> int:
    from mailtls.exitcodes import ExitCode
    from mailtls.remedy.ca import init_ca

    paths = init_ca(
        args.directory,
        cn=args.cn,
        org=args.org,
        key_type="ec" if args.ec else "rsa",
        days=args.days,
        force=args.force,
    )
    out = sys.stdout
    print(f"Wrote {paths.key} (private key, mode 0600: keep it safe, ideally offline)", file=out)
    print(f"Wrote {paths.cert} (the root certificate to install on the phones)", file=out)
    print("", file=out)
    print("Next:", file=out)
    print(f"  mailtls ca issue NAME... --ca-dir {paths.directory}", file=out)
    print(f"  mailtls profile {paths.cert} -o company-root.mobileconfig", file=out)
    return ExitCode.OK


def _issue(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from mailtls.errors import InputFileError, UsageError
    from mailtls.exitcodes import ExitCode
    from mailtls.remedy import guides
    from mailtls.remedy.ca import issue_server_cert
    from mailtls.remedy.names import names_from_report_json

    names = list(args.names)
    if args.names_from:
        source = "standard input" if args.names_from == "-" else args.names_from
        try:
            text = (
                sys.stdin.read()
                if args.names_from == "-"
                else Path(args.names_from).read_text(encoding="utf-8")
            )
            data = json.loads(text)
        except FileNotFoundError:
            raise InputFileError(f"{source}: no such file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputFileError(f"{source}: not a JSON report ({exc})") from None
        names += names_from_report_json(data, source)
    if not names:
        raise UsageError(
            "give the host names the phones use (NAME...), or --names-from REPORT.json"
        )
    paths = issue_server_cert(
        args.ca_dir,
        names,
        out_directory=args.out,
        days=args.days,
        key_type="ec" if args.ec else "rsa",
        force=args.force,
        root_in_fullchain=not args.without_root,
    )
    out = sys.stdout
    print(f"Issued for: {', '.join(paths.names)}", file=out)
    print(f"Valid until: {paths.not_after:%Y-%m-%d %H:%M} UTC", file=out)
    print(f"Wrote {paths.key} (private key, mode 0600)", file=out)
    print(f"Wrote {paths.cert} (the server certificate alone)", file=out)
    print(
        f"Wrote {paths.fullchain} (certificate + "
        + ("nothing else)" if args.without_root else "root: what the server must send)"),
        file=out,
    )
    print("Checked: trusted for every name by mailtls's engine with the root installed.", file=out)
    print("", file=out)
    root = str(Path(args.ca_dir) / "ca.pem")
    values = {
        "names": " ".join(paths.names),
        "ca_dir": str(args.ca_dir),
        "out": str(paths.directory),
        "cert": str(paths.fullchain),
        "key": str(paths.key),
        "root": root,
        "host": next((n for n in paths.names if not n.startswith("*")), paths.names[0]),
    }
    out.write(guides.render_text(guides.guide_for("reissue"), values))
    return ExitCode.OK
