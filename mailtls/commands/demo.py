"""``mailtls demo``: the first command to run. No server, no network, a few seconds.

It starts the lab (local IMAP and SMTP servers on free loopback ports) once per demo
scenario of the catalogue, each serving a chain the way real servers get it wrong (or
right), runs the real check on them exactly as ``mailtls check`` checks a real host, and
prints the reports with a short introduction saying what to look at.

Offline by construction: every URL names the scenario's host (``mail.example.test``, a
reserved name that never resolves) and the check is pointed at the lab with
``--address``-style options, so nothing is looked up in DNS.

Exit codes follow ``mailtls check`` with one twist: the demo's servers are *meant* to make
an iPhone prompt, so the demo exits 0 when every verdict is the one the scenario catalogue
expects, 1 when one differs (a self-check: a bug somewhere), 2 when an endpoint could not
be checked at all.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailtls.errors import UsageError

if TYPE_CHECKING:
    from mailtls.lab.scenarios import Scenario
    from mailtls.lab.servers import Lab
    from mailtls.model import Report

FORMATS = ("text", "json")
#: Each demo lab serves one endpoint kind, taken in turn from this list, so that a short
#: demo still shows implicit TLS and STARTTLS, incoming and outgoing. ``--sweep`` serves
#: all 7 kinds for every scenario.
DEMO_SCHEMES: tuple[str, ...] = (
    "imaps",
    "submission",
    "imap",
    "submissions",
    "pop3s",
    "smtp",
    "pop3",
)
#: Scenarios the demo judges as if their root were installed on the iPhone with full
#: trust (what the fix looks like); every other scenario is judged with the default stores.
ROOT_INSTALLED: frozenset[str] = frozenset({"good-private"})
#: What the reader should look at, per demo scenario (others fall back to the title).
LOOK_AT: dict[str, str] = {
    "good-private": (
        "what 'fixed' looks like. The server sends its certificate and the intermediate, "
        "and the private root is installed on the iPhone by a profile with full trust "
        "(mailtls check --ca-file): the verdict is trusted, Mail connects without a question."
    ),
    "self-signed-ca": (
        "the classic self-signed server. The verdict is needs_profile: the certificate is "
        "its own CA, so installing it as a profile and enabling full trust (Settings > "
        "General > About > Certificate Trust Settings) makes the prompt go away for good."
    ),
    "missing-intermediate": (
        "the server forgot its intermediate certificate. The verdict is prompt, and "
        "installing the root on the iPhone would not help: the fix is on the server (serve "
        "the full chain file, e.g. fullchain.pem)."
    ),
    "wrong-host": (
        "the certificate is for server17.hoster.example, but the account says "
        "mail.example.test. The verdict is prompt; look at the host-name finding: either "
        "configure the iPhone with the name the certificate has, or get a certificate "
        "for the name the users type."
    ),
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="start local mail servers with sample chains, check them, show the report",
        description=(
            "Start the lab (local IMAP, POP3 and SMTP servers on free 127.0.0.1 ports) with the "
            "catalogue's demo scenarios, check them the way iPhone Mail connects, and print "
            "the reports with what to look at. Offline; takes a few seconds. Exit 0 when "
            "every verdict is the expected one."
        ),
    )
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="demo this scenario instead of the default set (repeatable; see "
        "mailtls lab --list-scenarios)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default text)"
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="serve and check all 7 endpoint kinds for every scenario (default: one each)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="overall deadline of each check in seconds (default 10)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="text: also show informational findings"
    )


@dataclass(frozen=True)
class DemoCase:
    """One scenario served by its own lab and checked."""

    scenario: Scenario
    root_installed: bool
    schemes: tuple[str, ...] = ("imaps",)

    @property
    def anchor_kind(self) -> str:
        return "USR" if self.root_installed else "NONE"

    @property
    def expected_verdict(self) -> str | None:
        return self.scenario.expected_verdict.get(self.anchor_kind)

    @property
    def look_at(self) -> str:
        return LOOK_AT.get(self.scenario.name) or self.scenario.description


@dataclass(frozen=True)
class DemoResult:
    case: DemoCase
    report: Report
    urls: tuple[str, ...]

    def verdicts(self) -> list[str | None]:
        return [str(e.verdict) if e.verdict is not None else None for e in self.report.endpoints]

    def unchecked(self) -> bool:
        return any(e.verdict is None for e in self.report.endpoints) or not self.report.endpoints

    def as_expected(self) -> bool:
        expected = self.case.expected_verdict
        return expected is None or all(v == expected for v in self.verdicts())


# --------------------------------------------------------------------------- running


def plan(names: list[str], now: datetime, *, sweep: bool = False) -> list[DemoCase]:
    from mailtls.lab.scenarios import DEMO_SCENARIOS, build_scenario
    from mailtls.model import IPHONE_SWEEP

    chosen = list(dict.fromkeys(names)) or list(DEMO_SCENARIOS)
    cases = []
    for index, name in enumerate(chosen):
        scenario = build_scenario(name, now=now)  # UsageError names an unknown scenario
        if not getattr(scenario, "openssl_loads", True):
            raise UsageError(
                f"scenario {name} cannot be served (OpenSSL refuses to load its chain); "
                "it exists for mailtls inspect"
            )
        # A scenario that only states what happens with its root installed (e.g. an
        # expired root) is shown that way; the demo set's good-private shows the fix.
        wants_root = name in ROOT_INSTALLED or (
            "NONE" not in scenario.expected_verdict and "USR" in scenario.expected_verdict
        )
        installed = wants_root and scenario.root_pem is not None
        schemes = IPHONE_SWEEP if sweep else (DEMO_SCHEMES[index % len(DEMO_SCHEMES)],)
        cases.append(DemoCase(scenario, installed, tuple(schemes)))
    return cases


def run_cases(
    cases: list[DemoCase],
    *,
    timeout: float,
    now: datetime,
    workdir: Path,
) -> list[DemoResult]:
    """Start one lab per case, check them all concurrently, stop the labs."""
    import contextlib

    from mailtls import aio
    from mailtls.lab.servers import start_lab
    from mailtls.service import CheckOptions, check_async

    with contextlib.ExitStack() as stack:
        labs: list[Lab] = []
        for case in cases:
            scenario = case.scenario
            lab = start_lab(
                scenario.chain_pem,
                scenario.key_pem,
                schemes=case.schemes,
                server_name=scenario.host,
            )
            stack.callback(lab.stop)
            labs.append(lab)
        jobs = []
        for index, (case, lab) in enumerate(zip(cases, labs, strict=True)):
            ca_files: tuple[Path, ...] = ()
            if case.root_installed and case.scenario.root_pem is not None:
                root = workdir / f"{index}-{case.scenario.name}-root.pem"
                root.write_bytes(case.scenario.root_pem)
                ca_files = (root,)
            options = CheckOptions(
                address=(lab.connect_address,),
                timeout=timeout,
                ca_files=ca_files,
                discover=False,
                history=None,
            )
            jobs.append((case, tuple(lab.urls(case.scenario.host)), options))

        async def check_all() -> list[Report]:
            return list(
                await aio.gather(
                    *(check_async(list(urls), options, now=now) for _case, urls, options in jobs)
                )
            )

        reports = aio.run(check_all())
    return [
        DemoResult(case, report, urls)
        for (case, urls, _options), report in zip(jobs, reports, strict=True)
    ]


def run(args: argparse.Namespace) -> int:
    if not args.timeout > 0:
        raise UsageError(f"--timeout {args.timeout}: must be more than 0 seconds")
    import shutil
    import tempfile

    now = datetime.now(UTC).replace(microsecond=0)
    cases = plan(args.scenario, now, sweep=args.sweep)
    workdir = Path(tempfile.mkdtemp(prefix="mailtls-demo-"))
    try:
        results = run_cases(cases, timeout=args.timeout, now=now, workdir=workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.format == "json":
        sys.stdout.write(render_json(results))
    else:
        from mailtls.report.text import use_colour

        text = render_text(results, colour=use_colour(sys.stdout), verbose=args.verbose)
        sys.stdout.write(text)
    return exit_code(results)


def exit_code(results: list[DemoResult]) -> int:
    from mailtls.exitcodes import ExitCode

    if any(r.unchecked() for r in results):
        return ExitCode.UNCHECKED
    if not all(r.as_expected() for r in results):
        return ExitCode.IPHONE_FAILS
    return ExitCode.OK


# --------------------------------------------------------------------------- output


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, width=88, initial_indent=indent, subsequent_indent=indent)


def describe_kind(scheme: str) -> str:
    """ "imaps" -> "imaps (IMAP, implicit TLS, like port 993)"."""
    from mailtls.model import TlsMode, service_for_scheme

    service = service_for_scheme(scheme)
    mode = "implicit TLS" if service.tls_mode is TlsMode.IMPLICIT else "STARTTLS"
    return f"{scheme} ({service.protocol.value.upper()}, {mode}, like port {service.default_port})"


def intro(results: list[DemoResult]) -> list[str]:
    count = len(results)
    servers = "one mail server" if count == 1 else f"{count} mail servers"
    lines = _wrap(
        f"mailtls demo: {servers} now run on this machine (127.0.0.1, free ports), each "
        "presenting a certificate chain the way real servers get it right or wrong. mailtls "
        "checks each one exactly as 'mailtls check' checks a real host: it connects the way "
        "iPhone Mail does (IMAP, POP3 or SMTP; implicit TLS or STARTTLS), captures the chain "
        "and judges it by Apple's rules. Nothing leaves this machine: the host names are "
        "never looked up."
    )
    lines.append("")
    for number, result in enumerate(results, 1):
        case = result.case
        root = "root installed on the iPhone" if case.root_installed else "nothing installed"
        kinds = describe_kind(case.schemes[0]) if len(case.schemes) == 1 else "all 7 kinds"
        lines.append(f"  {number}. {case.scenario.name}: {case.scenario.title}")
        lines.append(f"     served as {kinds}; {root}")
    return lines


def section(number: int, result: DemoResult) -> list[str]:
    case = result.case
    rule = "=" * 88
    lines = [rule, f"{number}. {case.scenario.name}: {case.scenario.title}"]
    root = (
        "yes (judged as with mailtls check --ca-file ROOT)"
        if case.root_installed
        else "no (the iPhone's preinstalled roots only)"
    )
    lines.append(f"   Root installed on the iPhone: {root}")
    lines += _wrap(f"Look at: {case.look_at}", "   ")
    if case.expected_verdict:
        lines.append(f"   Expected verdict: {case.expected_verdict}")
    lines.append(rule)
    return lines


def problems(results: list[DemoResult]) -> list[str]:
    """Endpoints that were not checked or whose verdict is not the expected one."""
    found = []
    for result in results:
        name = result.case.scenario.name
        expected = result.case.expected_verdict
        if not result.report.endpoints:
            found.append(f"{name}: nothing was checked ({'; '.join(result.report.errors)})")
        for endpoint in result.report.endpoints:
            if endpoint.verdict is None:
                reason = endpoint.probe.error or str(endpoint.probe.status)
                found.append(f"{name}: {endpoint.endpoint.url} was not checked: {reason}")
            elif expected and str(endpoint.verdict) != expected:
                found.append(
                    f"{name}: {endpoint.endpoint.url} gave {endpoint.verdict}, "
                    f"the scenario catalogue expects {expected}"
                )
    return found


def self_check_lines(results: list[DemoResult]) -> list[str]:
    found = problems(results)
    if not found:
        return ["Demo self-check: every verdict is the one the scenario catalogue expects."]
    return [
        "Demo self-check FAILED (unless --timeout was made very short, this is a bug in "
        "mailtls: please report it):",
        *(f"  {p}" for p in found),
    ]


def outro() -> list[str]:
    return [
        "Next:",
        "  mailtls lab --list-scenarios          the whole catalogue: every iOS rule, broken and intact",
        "  mailtls lab --scenario wrong-host     serve one; it prints the mailtls check to paste",
        "  mailtls check mail.example.com        your own server: every port iPhone Mail uses",
    ]


def render_text(results: list[DemoResult], *, colour: bool = False, verbose: bool = False) -> str:
    from mailtls.report.text import render

    lines = intro(results)
    for number, result in enumerate(results, 1):
        lines.append("")
        lines += section(number, result)
        lines.append(render(result.report, colour=colour, verbose=verbose).rstrip("\n"))
    lines += ["", *self_check_lines(results), "", *outro()]
    return "\n".join(lines) + "\n"


def render_json(results: list[DemoResult]) -> str:
    from mailtls.report.json import report_to_json

    data = {
        "demo": [
            {
                "scenario": result.case.scenario.name,
                "title": result.case.scenario.title,
                "description": result.case.scenario.description,
                "root_installed": result.case.root_installed,
                "anchor_kind": result.case.anchor_kind,
                "expected_verdict": result.case.expected_verdict,
                "as_expected": result.as_expected(),
                "look_at": result.case.look_at,
                "urls": list(result.urls),
                "report": report_to_json(result.report),
            }
            for result in results
        ],
        "self_check": {
            "ok": not problems(results),
            "problems": problems(results),
        },
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
