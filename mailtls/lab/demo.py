"""The demo as a use case: serve demo scenarios in labs, check them, self-check the verdicts.

:func:`run_demo` starts one lab (local IMAP, POP3 and SMTP servers on free loopback ports)
per scenario, runs the real check on each exactly as ``mailtls check`` checks a real host,
and returns the results; :func:`problems` and :func:`exit_code` are the self-check. The
words people read are in :mod:`mailtls.report.demo`; ``mailtls demo`` is
:mod:`mailtls.commands.demo`.

Offline by construction: every URL names the scenario's host (``mail.example.test``, a
reserved name that never resolves) and the check is pointed at the lab with
``--address``-style options, so nothing is looked up in DNS.

Exit codes follow ``mailtls check`` with one twist: the demo's servers are *meant* to make
an iPhone prompt, so the demo exits 0 when every verdict is the one the scenario catalogue
expects, 1 when one differs (a self-check: a bug somewhere), 2 when an endpoint could not
be checked at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mailtls.errors import UsageError

if TYPE_CHECKING:
    from mailtls.lab.scenarios import Scenario
    from mailtls.lab.servers import Lab
    from mailtls.model import Report

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
    import asyncio
    import contextlib

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
                await asyncio.gather(
                    *(check_async(list(urls), options, now=now) for _case, urls, options in jobs)
                )
            )

        reports = asyncio.run(check_all())
    return [
        DemoResult(case, report, urls)
        for (case, urls, _options), report in zip(jobs, reports, strict=True)
    ]


def run_demo(
    names: list[str], *, now: datetime, timeout: float, sweep: bool = False
) -> list[DemoResult]:
    """Plan, serve and check ``names`` (default: the catalogue's demo set) at ``now``."""
    if not timeout > 0:
        raise UsageError(f"--timeout {timeout}: must be more than 0 seconds")
    import shutil
    import tempfile

    cases = plan(names, now, sweep=sweep)
    workdir = Path(tempfile.mkdtemp(prefix="mailtls-demo-"))
    try:
        return run_cases(cases, timeout=timeout, now=now, workdir=workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------- self-check


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


def exit_code(results: list[DemoResult]) -> int:
    from mailtls.exitcodes import ExitCode

    if any(r.unchecked() for r in results):
        return ExitCode.UNCHECKED
    if not all(r.as_expected() for r in results):
        return ExitCode.IPHONE_FAILS
    return ExitCode.OK
