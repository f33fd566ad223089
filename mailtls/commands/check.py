"""``mailtls check TARGET...``: probe, judge and report, for people and for scripts.

Only argparse is imported at module level (``mailtls check --help`` must start fast and
never import textual); the work, and even pathlib, datetime and typing, are imported where
they are used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mailtls.errors import InputFileError, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import IO, Any

    from mailtls.model import Endpoint, EndpointReport, HostSource, Report
    from mailtls.service import CheckOptions

FORMATS = ("text", "json", "jsonl", "nagios", "prometheus")
FAIL_ON = ("warning", "prompt", "fatal")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="probe a mail host the way iPhone Mail does and judge it by Apple's rules",
        description=(
            "Probe every way iPhone Mail reaches the targets (IMAP 993/143, POP3 995/110, "
            "SMTP 465/587/25, every address), judge each certificate chain the way iOS does, "
            "and report. TARGET is a URL (imaps://host, submission://host:587, ...), a host "
            "name (the whole iPhone sweep; with discovery, also looked up as a mail domain), "
            "an IP address, or an e-mail address (host names found through SRV, MX and the "
            "common names). Exit codes: 0 all trusted and reachable, 1 an iPhone would "
            "prompt or fail, 2 some endpoint could not be checked, 3 bad input."
        ),
    )
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET", help="URL, host, IP or e-mail address"
    )
    parser.add_argument(
        "-f",
        "--file",
        action="append",
        default=[],
        metavar="FILE",
        help="read targets from FILE, one per line, '#' starts a comment ('-' = stdin)",
    )
    parser.add_argument(
        "--address",
        action="append",
        default=[],
        metavar="IP",
        help="probe this address instead of the DNS answers (repeatable); the host name is "
        "still used for SNI and the name check",
    )
    parser.add_argument("--nameserver", metavar="IP[:PORT]", help="send DNS queries to this server")
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="deadline in seconds for a host's DNS lookup and probes together; one host's "
        "sweep ends within it (default 10)",
    )
    parser.add_argument(
        "--ehlo",
        default="mailtls.invalid",
        metavar="NAME",
        help="name to send in SMTP EHLO (default mailtls.invalid)",
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
        help="use these roots as the iPhone's preinstalled store instead of Apple's trust store",
    )
    parser.add_argument(
        "--at",
        metavar="DATETIME",
        help="evaluate at this moment (ISO 8601, e.g. 2027-03-01 or 2027-03-01T12:00Z)",
    )
    parser.add_argument("--ios", metavar="VERSION", help="apply the rules as this iOS version did")
    from mailtls.commands import storeopts

    storeopts.add_arguments(parser, may_fetch=True)
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default text)"
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="prompt",
        help="exit 1 at this level or worse: warning (also expiry soon, TLS 1.0, ...), "
        "prompt (default; includes needs_profile), fatal",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=64,
        metavar="N",
        help="endpoints probed at the same time (default 64)",
    )
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="check only the K-th of N deterministic shares of the targets (1 <= K <= N)",
    )
    history = parser.add_mutually_exclusive_group()
    history.add_argument(
        "--history",
        metavar="PATH",
        help="history database (default $XDG_STATE_HOME/mailtls/history.sqlite3)",
    )
    history.add_argument("--no-history", action="store_true", help="do not record this check")
    parser.add_argument(
        "--no-discover",
        action="store_true",
        help="do not look host names up as mail domains (SRV, MX, common names)",
    )
    parser.add_argument(
        "--no-versions",
        action="store_true",
        help="do not test which TLS versions each endpoint accepts (faster)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="text: also show informational findings"
    )
    parser.add_argument(
        "--compare",
        metavar="BEFORE.json",
        help="after a fix: show before and after side by side, endpoint by endpoint, "
        "against an earlier 'mailtls check --format json' report",
    )
    parser.add_argument("--tui", action="store_true", help="show the check in the terminal UI")
    _allow_intermixed(parser)


def _allow_intermixed(parser: argparse.ArgumentParser) -> None:
    """Targets may come after options too: ``check a.example --format json b.example``.

    argparse stops collecting a ``nargs="*"`` positional at the first option; its
    intermixed mode does not. Only this subcommand's parser is changed.
    """

    class Intermixed(type(parser)):  # type: ignore[misc]
        _inside = False

        def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
            if self._inside:
                return super().parse_known_args(args, namespace)
            self._inside = True
            try:
                return self.parse_known_intermixed_args(args, namespace)
            finally:
                self._inside = False

    parser.__class__ = Intermixed


# --------------------------------------------------------------------------- input


def read_target_file(name: str, stdin: IO[str] | None = None) -> list[str]:
    """Targets from a file: one per line; blank lines and '#' comments are skipped."""
    from pathlib import Path

    if name == "-":
        text = (stdin or sys.stdin).read()
    else:
        path = Path(name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputFileError(f"{name}: no such file") from None
        except IsADirectoryError:
            raise InputFileError(f"{name}: is a directory, not a file of targets") from None
        except OSError as exc:
            raise InputFileError(f"{name}: cannot read ({exc.strerror or exc})") from None
        if b"\0" in data:
            raise InputFileError(f"{name}: a binary file, not a list of targets")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputFileError(f"{name}: not UTF-8 text") from None
    targets = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if line and not line.startswith("#"):
            targets.append(line)
    return targets


def parse_shard(text: str) -> tuple[int, int]:
    """'2/5' -> (2, 5)."""
    try:
        k_text, n_text = text.split("/")
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise UsageError(f"--shard {text!r}: expected K/N, e.g. 1/4") from None
    if n < 1 or not 1 <= k <= n:
        raise UsageError(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def in_shard(target: str, k: int, n: int) -> bool:
    """Stable across runs, machines and Python versions (not ``hash()``)."""
    import hashlib

    digest = hashlib.sha256(target.strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1


def select_shard(targets: Sequence[str], shard: str | None) -> list[str]:
    if shard is None:
        return list(targets)
    k, n = parse_shard(shard)
    return [t for t in targets if in_shard(t, k, n)]


def _existing_file(name: str, flag: str) -> Path:
    from pathlib import Path

    path = Path(name).expanduser()
    if not path.exists():
        raise InputFileError(f"{flag} {name}: no such file")
    if not path.is_file():
        raise InputFileError(f"{flag} {name}: not a file")
    return path


def ip_address(text: str) -> str:
    """An ``--address`` value in canonical form (``[::1]`` -> ``::1``); ValueError if not an IP."""
    import ipaddress

    return str(ipaddress.ip_address(text.strip().strip("[]")))


def build_options(args: argparse.Namespace) -> CheckOptions:
    from pathlib import Path

    from mailtls.service import CheckOptions

    addresses = []
    for text in args.address:
        try:
            addresses.append(ip_address(text))
        except ValueError:
            raise UsageError(f"--address {text!r}: not an IP address") from None
    if not args.timeout > 0:
        raise UsageError(f"--timeout {args.timeout}: must be more than 0 seconds")
    if args.concurrency < 1:
        raise UsageError(f"--concurrency {args.concurrency}: must be at least 1")
    if args.nameserver is not None:
        from mailtls.dns import parse_nameserver

        parse_nameserver(args.nameserver)  # raises UsageError with one line
    from mailtls.commands import storeopts
    from mailtls.moments import parse_moment

    at = parse_moment(args.at) if args.at else None
    history: Path | None
    if args.no_history:
        history = None
    elif args.history:
        history = Path(args.history).expanduser()
    else:
        history = _default_history()
    return CheckOptions(
        address=tuple(addresses),
        nameserver=args.nameserver,
        timeout=args.timeout,
        ehlo_name=args.ehlo,
        ca_files=tuple(_existing_file(f, "--ca-file") for f in args.ca_file),
        system_roots=_existing_file(args.system_roots, "--system-roots")
        if args.system_roots
        else None,
        at=at,
        ios_version=args.ios,
        roots_version=storeopts.choose_version(args, may_fetch=True, at=at),
        concurrency=args.concurrency,
        discover=not args.no_discover,
        check_versions=not args.no_versions,
        history=history,
    )


def _default_history() -> Path | None:
    """The default database; a warning (not a failure) when it cannot be used."""
    from mailtls.history import History, default_path

    path = default_path()
    try:
        History.open(path).close()
    except InputFileError as exc:
        print(f"mailtls: warning: not recording history: {exc}", file=sys.stderr)
        return None
    return path


def collect_targets(args: argparse.Namespace) -> list[str]:
    targets = [t for t in args.targets if t.strip()]
    for name in args.file:
        targets.extend(read_target_file(name))
    targets = list(dict.fromkeys(t.strip() for t in targets))
    if not targets:
        raise UsageError("check: no targets (give TARGET... or -f FILE)")
    return select_shard(targets, args.shard)


# --------------------------------------------------------------------------- progress


class _Observers:
    """Fans the service's callbacks out to several observers."""

    def __init__(self, *observers: Any) -> None:
        self.observers = [o for o in observers if o is not None]

    def on_hosts(self, hosts: Sequence[HostSource]) -> None:
        for o in self.observers:
            o.on_hosts(hosts)

    def on_endpoint_started(self, endpoint: Endpoint) -> None:
        for o in self.observers:
            o.on_endpoint_started(endpoint)

    def on_endpoint_done(self, report: EndpointReport) -> None:
        for o in self.observers:
            o.on_endpoint_done(report)


class ProgressBar:
    """A one-line bar on a terminal (stderr): ``[#####.....] 12/40 endpoints``."""

    WIDTH = 30

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.total = 0
        self.done = 0

    def on_hosts(self, hosts: Sequence[HostSource]) -> None:
        pass

    def on_endpoint_started(self, endpoint: Endpoint) -> None:
        self.total += 1
        self.draw()

    def on_endpoint_done(self, report: EndpointReport) -> None:
        self.done += 1
        self.total = max(self.total, self.done)
        self.draw()

    def draw(self) -> None:
        filled = int(self.WIDTH * self.done / self.total) if self.total else 0
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} endpoints")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r" + " " * (self.WIDTH + 30) + "\r")
        self.stream.flush()


# --------------------------------------------------------------------------- run


def run(args: argparse.Namespace) -> int:
    targets = collect_targets(args)
    options = build_options(args)
    before = read_before_report(args.compare) if getattr(args, "compare", None) else None
    if args.tui:
        from mailtls.tui import run_tui

        return int(run_tui(targets, options) or 0)
    if not targets:  # the shard is empty: nothing to do is not an error
        return 0
    return check_and_print(
        targets, options, args.format, args.fail_on, verbose=args.verbose, before=before
    )


def read_before_report(name: str) -> dict[str, Any]:
    """Load an earlier ``--format json`` report for ``--compare`` (one-line errors)."""
    import json
    from pathlib import Path

    path = Path(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--compare {name}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--compare {name}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"--compare {name}: not JSON (line {exc.lineno}); "
            "save the earlier check with --format json"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        raise UsageError(f"--compare {name}: not a 'mailtls check --format json' report")
    return data


def check_and_print(
    targets: Sequence[str],
    options: CheckOptions,
    output_format: str = "text",
    fail_on: str = "prompt",
    *,
    verbose: bool = False,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    before: dict[str, Any] | None = None,
) -> int:
    """Run the check, write the chosen format to stdout, return the exit code.

    With ``before`` (an earlier JSON report), a before/after table follows: on stdout
    after a text report, on stderr for the machine formats (stdout stays data).
    """
    from mailtls.report.outcome import exit_code
    from mailtls.service import check

    out = stdout or sys.stdout
    err = stderr or sys.stderr
    progress = ProgressBar(err) if err.isatty() and output_format != "jsonl" else None
    lines = None
    if output_format == "jsonl":
        from mailtls.report.json import JsonLinesWriter

        lines = JsonLinesWriter(out)
    # JSON Lines streams: an endpoint is written and let go (memory stays flat however large
    # the fleet); only --compare needs every endpoint at the end.
    keep = lines is None or before is not None
    try:
        report = check(
            targets,
            options,
            observer=_Observers(progress, lines),  # type: ignore[arg-type]
            keep_endpoints=keep,
        )
    finally:
        if progress is not None:
            progress.clear()
    for error in report.errors:
        print(f"mailtls: error: {error}", file=err)
    if report.endpoints or report.findings:
        from mailtls.commands import storeopts

        storeopts.print_hint(report.options.get("trust_store_hint"), err)
    if lines is not None:
        lines.finish(report)
        code = int(exit_code(report, fail_on, tally=lines.tally))
    else:
        code = write_report(report, output_format, fail_on, out, verbose=verbose)
    if before is not None:
        from mailtls.remedy.recheck import compare_with_json
        from mailtls.remedy.recheck import render_text as render_recheck

        table = render_recheck(compare_with_json(before, report))
        stream = out if output_format == "text" else err
        stream.write("\nBefore and after:\n" + table)
    return code


def write_report(
    report: Report, output_format: str, fail_on: str, out: IO[str], *, verbose: bool = False
) -> int:
    from mailtls.report.outcome import exit_code

    if output_format == "json":
        from mailtls.report.json import render as render_json

        out.write(render_json(report, fail_on))
    elif output_format == "jsonl":
        from mailtls.report.json import render_lines

        out.write(render_lines(report))
    elif output_format == "nagios":
        from mailtls.report.nagios import render as render_nagios
        from mailtls.report.nagios import state

        out.write(render_nagios(report))
        return int(state(report))
    elif output_format == "prometheus":
        from mailtls.report.prometheus import render as render_prometheus

        out.write(render_prometheus(report))
    else:
        from mailtls.report.text import render as render_text
        from mailtls.report.text import use_colour

        out.write(render_text(report, colour=use_colour(out), verbose=verbose))
    out.flush()
    return int(exit_code(report, fail_on))
