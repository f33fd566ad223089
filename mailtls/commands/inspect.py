"""``mailtls inspect FILE...``: judge a chain from files the way an iPhone would.

For what an admin is about to deploy: the files are read in order and concatenated (PEM
bundles or DER), the first certificate is the server's. Same analysis and the same
``chain``/``findings``/``verdict`` JSON fields as an endpoint of ``mailtls check``.
Exit codes: 0 trusted, 1 the iPhone prompts or fails, 3 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailtls.errors import UsageError

if TYPE_CHECKING:
    from mailtls.analysis.stores import TrustStore
    from mailtls.model import Analysis, CertificateInfo, Finding

FORMATS = ("text", "json")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="judge certificate files the way an iPhone would (before deploying them)",
        description=(
            "Read a certificate chain from files (PEM bundles, DER or PKCS#7, concatenated in the "
            "order given; the first certificate is the server's) and judge it the way iOS "
            "does for iPhone Mail. Exit codes: 0 trusted, 1 the iPhone prompts or fails, "
            "3 bad input."
        ),
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="chain file(s): PEM, DER or PKCS#7 (.p7b)"
    )
    parser.add_argument(
        "--host", metavar="NAME", help="the host name configured in Mail (for the name check)"
    )
    parser.add_argument(
        "--at",
        metavar="DATETIME",
        help="evaluate at this moment (ISO 8601, e.g. 2027-03-01 or 2027-03-01T12:00Z; default now)",
    )
    parser.add_argument(
        "--ca-file",
        action="append",
        default=[],
        metavar="FILE",
        help="a root installed on the iPhone with full trust (PEM or DER; repeatable)",
    )
    parser.add_argument(
        "--system-roots",
        metavar="FILE",
        help="use these roots as the iPhone's system store (e.g. exported from a Mac's System Roots keychain)",
    )
    from mailtls.commands import storeopts

    storeopts.add_arguments(parser, may_fetch=False)
    parser.add_argument(
        "--ios",
        metavar="VERSION",
        help="apply the rules as this iOS version did (default: current)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default text)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also show informational findings"
    )


def run(args: argparse.Namespace) -> int:
    from mailtls.analysis import analyze_chain, load_certificates, system_store, user_store
    from mailtls.exitcodes import ExitCode
    from mailtls.model import Verdict

    chain: list[bytes] = []
    for name in args.files:
        chain.extend(load_certificates(Path(name)))
    from mailtls.moments import parse_moment

    at = parse_moment(args.at) if args.at else datetime.now(UTC)
    from mailtls.commands import storeopts

    version = storeopts.choose_version(args, may_fetch=False, at=at if args.at else None)
    system = system_store(Path(args.system_roots) if args.system_roots else None, version=version)
    user = user_store([Path(p) for p in args.ca_file]) if args.ca_file else None
    host = args.host.strip() if args.host else None
    if host is not None and not host:
        raise UsageError("--host: empty host name")
    analysis = analyze_chain(chain, host, at=at, system=system, user=user, ios_version=args.ios)
    storeopts.print_hint(system.hint)
    if args.format == "json":
        sys.stdout.write(
            json.dumps(
                inspect_to_json(analysis, args.files, store=system), indent=2, ensure_ascii=False
            )
            + "\n"
        )
    else:
        sys.stdout.write(
            render_text(
                analysis, args.files, user_label=user.label if user else None, verbose=args.verbose
            )
        )
    return ExitCode.OK if analysis.verdict is Verdict.TRUSTED else ExitCode.IPHONE_FAILS


def inspect_to_json(
    analysis: Analysis, files: list[str], *, store: TrustStore | None = None
) -> dict[str, Any]:
    """The fields an endpoint of ``check --format json`` has for its chain, plus the files
    and, given the system ``store``, its source and version (as ``check``'s options)."""
    from mailtls import __version__
    from mailtls.serialize import to_jsonable

    return {
        "tool": f"mailtls {__version__}",
        "files": list(files),
        "host": analysis.host or None,
        "chain": to_jsonable(analysis.chain),
        "path": to_jsonable(analysis.path),
        "verdict": str(analysis.verdict),
        "anchor_kind": str(analysis.anchor_kind),
        "trust_store": analysis.trust_store,
        "trust_store_source": store.source if store is not None else None,
        "trust_store_version": store.version if store is not None else None,
        "ios_version": analysis.ios_version,
        "evaluated_at": to_jsonable(analysis.evaluated_at),
        "user_sees": analysis.user_sees,
        "findings": [to_jsonable(f) for f in analysis.findings],
        "summary": analysis.summary,
    }


_MARKS = {"fatal": "✗✗", "error": "✗", "warning": "!", "info": "i"}


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "?"


def _cert_line(cert: CertificateInfo) -> str:
    name = cert.subject_cn or cert.subject or "(no subject)"
    names = [n[4:] if n.startswith("DNS:") else n for n in cert.san]
    key = f"{cert.key_type} {cert.key_size}" if cert.key_size else cert.key_type
    parts = [
        f"valid {_date(cert.not_before)} – {_date(cert.not_after)}",
        key,
        cert.signature_algorithm,
        "CA" if cert.basic_constraints and cert.basic_constraints.get("ca") else "",
        "self-signed" if cert.self_signed else "",
    ]
    line = f"  {cert.index}  {name}  ({'; '.join(p for p in parts if p)})"
    if names:
        line += f"\n       names: {', '.join(names[:8])}{' …' if len(names) > 8 else ''}"
    if cert.parse_errors:
        line += "\n       could not decode: " + "; ".join(cert.parse_errors)
    return line


def _finding_lines(finding: Finding) -> list[str]:
    from mailtls.report.text import finding_tags

    tags = finding_tags(finding)
    lines = [
        f"  {_MARKS.get(str(finding.severity), '-')} {finding.title} [{', '.join(tags)}]",
        f"      {finding.summary}",
    ]
    if finding.user_sees and finding.severity in ("fatal", "error"):
        lines.append(f"      iPhone: {finding.user_sees}")
    if finding.fix and finding.severity != "info":
        lines.append(f"      Fix: {finding.fix}")
    return lines


def render_text(
    analysis: Analysis, files: list[str], *, user_label: str | None = None, verbose: bool = False
) -> str:
    lines = [
        f"mailtls inspect {' '.join(files)}" + (f" --host {analysis.host}" if analysis.host else "")
    ]
    lines.append(f"  evaluated {_date(analysis.evaluated_at)}; iOS {analysis.ios_version}")
    lines.append(f"  system roots: {analysis.trust_store}")
    if user_label:
        lines.append(f"  roots on the iPhone: {user_label}")
    lines += [
        "",
        f"{analysis.verdict.label}: {analysis.summary}",
    ]
    lines.append(f"iPhone: {analysis.user_sees}")
    shown = [
        f for f in analysis.findings if verbose or f.severity != "info" or f.category == "trust"
    ]
    if shown:
        lines += ["", "Findings:"]
        for finding in shown:
            lines.extend(_finding_lines(finding))
    hidden = len(analysis.findings) - len(shown)
    if hidden:
        lines.append(f"  ({hidden} informational finding(s) hidden; use -v to show them)")
    lines += ["", "Chain as given:"]
    lines.extend(_cert_line(c) for c in analysis.chain)
    if analysis.path:
        lines += ["", f"Path the iPhone builds (root kind {analysis.anchor_kind}):"]
        for position, element in enumerate(analysis.path):
            where = f"certificate {element.index}" if element.index is not None else element.source
            lines.append(
                f"  {'  ' * position}{'└ ' if position else ''}{element.subject}  [{where}]"
            )
    return "\n".join(lines) + "\n"
