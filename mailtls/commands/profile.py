"""``mailtls profile ROOT.pem -o FILE.mobileconfig``: a profile that installs a private root.

The root is checked first (self-signed, CA:TRUE, subject CN, SHA-2, RSA ≥ 2048 or
P-256+, valid now) and refused with the reasons otherwise. Optionally the profile also
configures the Mail account (host names, ports, TLS; never a password). The iPhone steps
are printed after the file is written; they come from :mod:`mailtls.remedy.guides`, the
same text the TUI and the runbooks show.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="write a .mobileconfig that installs your private root CA on iPhones",
        description=(
            "Write a configuration profile (.mobileconfig) with your private root CA, so "
            "iPhone Mail can verify a server whose certificate it issued. The root is checked "
            "first and refused with the reason if iOS would not offer it for full trust. "
            "Optionally the profile also sets up the Mail account (no password is stored)."
        ),
    )
    parser.add_argument("root", metavar="ROOT.pem", help="the root CA certificate (PEM or DER)")
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the .mobileconfig file to write"
    )
    parser.add_argument("--name", metavar="TEXT", help="profile name shown on the iPhone")
    parser.add_argument("--org", metavar="TEXT", help="organization shown on the iPhone")
    parser.add_argument(
        "--identifier",
        default="org.mailtls",
        metavar="PREFIX",
        help="reverse-DNS prefix of the profile's identifiers (default org.mailtls)",
    )
    account = parser.add_argument_group("Mail account (optional)")
    incoming = account.add_mutually_exclusive_group()
    incoming.add_argument("--account-imap", metavar="HOST[:PORT]", help="IMAP server (993)")
    incoming.add_argument("--account-pop3", metavar="HOST[:PORT]", help="POP3 server (995)")
    account.add_argument("--account-smtp", metavar="HOST[:PORT]", help="SMTP server (587)")
    account.add_argument("--user", metavar="NAME", help="user name (no password is stored)")
    account.add_argument("--email", metavar="ADDR", help="e-mail address of the account")
    account.add_argument("--description", metavar="TEXT", help="account name shown in Mail")
    account.add_argument(
        "--server-cert",
        metavar="FULLCHAIN",
        help="check first that this server chain is trusted for the account's host names "
        "once the root is installed",
    )
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mailtls.analysis.certs import load_certificates
    from mailtls.errors import UsageError
    from mailtls.exitcodes import ExitCode
    from mailtls.model import Protocol
    from mailtls.remedy import files, guides
    from mailtls.remedy.profile import (
        MailAccount,
        build_profile_with_info,
        common_name,
        parse_server,
        pick_root,
    )

    ders = load_certificates(Path(args.root))
    root_der, note = pick_root(ders, args.root)
    if note:
        print(f"mailtls: {note}", file=sys.stderr)

    account = None
    incoming_text = args.account_imap or args.account_pop3
    if incoming_text or args.account_smtp or args.user or args.email:
        if not incoming_text or not args.account_smtp:
            raise UsageError(
                "an account needs both an incoming server (--account-imap or --account-pop3) "
                "and --account-smtp"
            )
        protocol = Protocol.IMAP if args.account_imap else Protocol.POP3
        account = MailAccount(
            incoming_protocol=protocol,
            incoming=parse_server(incoming_text, protocol.value),
            outgoing=parse_server(args.account_smtp, "smtp"),
            user_name=args.user,
            email_address=args.email,
            description=args.description,
        )

    if args.server_cert:
        if account is None:
            raise UsageError(
                "--server-cert needs the account's host names (--account-imap/-pop3 and --account-smtp)"
            )
        from datetime import UTC, datetime

        from mailtls.remedy.verify import require_trusted

        require_trusted(
            load_certificates(Path(args.server_cert)),
            account.host_names,
            Path(args.root),
            at=datetime.now(UTC),
        )
        print(
            f"mailtls: {args.server_cert} is trusted for {', '.join(account.host_names)} with this root",
            file=sys.stderr,
        )

    cn = common_name(root_der) or ""
    data, info = build_profile_with_info(
        root_der,
        display_name=args.name or (f"{cn} (mail server root)" if cn else "Mail server root"),
        organization=args.org,
        identifier_prefix=args.identifier,
        account=account,
    )
    target = files.write_file(args.output, data, force=args.force)

    out = sys.stdout
    print(f"Wrote {target}", file=out)
    print(f"  root: {info.root_subject}", file=out)
    print(f"  SHA-256: {info.root_sha256}", file=out)
    print(f"  payloads: {', '.join(info.payload_types)}", file=out)
    host = account.incoming.host if account else "HOST"
    fill = {
        "root": str(args.root),
        "profile": str(target),
        "root_name": cn or "the root",
        "host": host,
    }
    print("", file=out)
    out.write(guides.render_text(guides.guide_for("profile"), fill))
    if account is not None:
        print("", file=out)
        print(
            "The account uses these host names; the server certificate must list each of them: "
            + ", ".join(account.host_names),
            file=out,
        )
    return ExitCode.OK
