"""``mailtls history TARGET...``: when did each endpoint's certificate change?

Reads the database ``mailtls check`` writes (``--history PATH`` or the XDG default) and
shows, per endpoint (URL and address), the periods during which it served the same leaf.
"""

from __future__ import annotations

import argparse
import sys
from typing import IO, Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="show when each endpoint's certificate changed (from earlier checks)",
        description=(
            "Show, for each endpoint of TARGET recorded by earlier 'mailtls check' runs, the "
            "periods during which it served the same leaf certificate, and when it changed. "
            "TARGET is a host name or a URL (one service only)."
        ),
    )
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET", help="host name or URL (none: list the hosts)"
    )
    parser.add_argument(
        "--history",
        metavar="PATH",
        help="history database (default $XDG_STATE_HOME/mailtls/history.sqlite3)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--prune",
        type=int,
        metavar="DAYS",
        help="delete the checks recorded more than DAYS days ago and compact the database "
        "(the last certificate seen per endpoint is kept, so a later check still notices a "
        "change); for a cron job beside 'mailtls check'",
    )


def run(args: argparse.Namespace, stdout: IO[str] | None = None) -> int:
    from pathlib import Path

    from mailtls.errors import UsageError
    from mailtls.history import History, default_path, periods
    from mailtls.model import Endpoint
    from mailtls.targets import parse_target

    out = stdout or sys.stdout
    path = Path(args.history).expanduser() if args.history else default_path()
    if getattr(args, "prune", None) is not None:
        if args.targets:
            raise UsageError("history --prune: give no TARGET (it prunes every host)")
        return _prune(path, args.prune, args.format, out)
    selections: list[tuple[str, str, str | None]] = []
    for text in args.targets:
        target = parse_target(text)
        if target.kind == "email":
            raise UsageError(f"history {text!r}: give a host name or URL, not an e-mail address")
        url = None
        if target.kind == "url" or target.port is not None:
            scheme = target.schemes[0]
            from mailtls.model import service_for_scheme

            port = target.port or service_for_scheme(scheme).default_port
            url = Endpoint(scheme, target.host, port).url
        selections.append((text, target.host, url))
    with History.open(path, create=False) as history:
        if not selections:
            return _list_hosts(history.hosts(), str(path), args.format, out)
        found = [(text, periods(history.rows(host, url))) for text, host, url in selections]
    if args.format == "json":
        import json

        from mailtls.serialize import to_jsonable

        data = {
            "database": str(path),
            "targets": [{"target": text, "periods": to_jsonable(p)} for text, p in found],
        }
        out.write(json.dumps(data, indent=2) + "\n")
        return 0
    for text, target_periods in found:
        out.write(render_periods(text, target_periods, str(path)))
    return 0


def _prune(path: Any, days: int, output_format: str, out: IO[str]) -> int:
    from datetime import UTC, datetime, timedelta

    from mailtls.errors import UsageError
    from mailtls.history import History

    if days < 0:
        raise UsageError(f"history --prune {days}: DAYS must be 0 or more")
    before = datetime.now(UTC) - timedelta(days=days)
    size_before = path.stat().st_size if path.exists() else 0
    with History.open(path, create=False) as history:
        removed = history.prune(before)
    size_after = path.stat().st_size
    if output_format == "json":
        import json

        data = {
            "database": str(path),
            "pruned_before": before.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "removed_checks": removed,
            "bytes_before": size_before,
            "bytes_after": size_after,
        }
        out.write(json.dumps(data, indent=2) + "\n")
        return 0
    noun = "check" if removed == 1 else "checks"
    out.write(
        f"Removed {removed} endpoint {noun} recorded before {before:%Y-%m-%d %H:%M} UTC from "
        f"{path} ({size_before / 1024:.0f} KiB -> {size_after / 1024:.0f} KiB).\n"
    )
    return 0


def _list_hosts(hosts: list[Any], database: str, output_format: str, out: IO[str]) -> int:
    if output_format == "json":
        import json

        from mailtls.serialize import to_jsonable

        items = [{"host": h, "checks": n, "last_checked": to_jsonable(t)} for h, n, t in hosts]
        out.write(json.dumps({"database": database, "hosts": items}, indent=2) + "\n")
        return 0
    if not hosts:
        out.write(f"No checks recorded in {database}.\n")
        return 0
    out.write(f"Hosts recorded in {database}:\n")
    for host, count, last in hosts:
        noun = "check" if count == 1 else "checks"
        out.write(f"  {host}  ({count} endpoint {noun}, last {last:%Y-%m-%d %H:%M} UTC)\n")
    return 0


def render_periods(target: str, target_periods: list[Any], database: str) -> str:
    if not target_periods:
        return f"No checks of {target} recorded in {database}.\n"
    lines = [f"History of {target} ({database})"]
    last_key = None
    previous_leaf: str | None = None
    for period in target_periods:
        key = (period.url, period.address)
        if key != last_key:
            lines.append("")
            lines.append(f"{period.url} at {period.address or '(unresolved)'}")
            last_key = key
            previous_leaf = None
        span = f"{period.first_seen:%Y-%m-%d %H:%M} .. {period.last_seen:%Y-%m-%d %H:%M} UTC"
        if period.leaf_sha256:
            what = f"leaf {period.leaf_sha256[:16]}…  {', '.join(period.verdicts) or '-'}"
        else:
            what = f"no certificate ({', '.join(period.statuses)})"
        changed = ""
        if period.leaf_sha256 and previous_leaf and period.leaf_sha256 != previous_leaf:
            changed = "  <- certificate changed"
        noun = "check" if period.checks == 1 else "checks"
        lines.append(f"  {span}  {what}  ({period.checks} {noun}){changed}")
        if period.leaf_sha256:
            previous_leaf = period.leaf_sha256
    return "\n".join(lines) + "\n"
