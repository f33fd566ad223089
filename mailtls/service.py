"""The ``check`` use case: from target texts to a :class:`~mailtls.model.Report`.

``check(targets, options)`` parses every target (a bad one becomes a line in
``Report.errors`` and never loses the others), finds host names for e-mail addresses and
mail domains (SRV, MX, common names), resolves every A/AAAA address (or uses
``--address``), probes every address x every scheme concurrently, judges each captured
chain the way iOS does (trust stores loaded once, on a thread, while the probes run; each
distinct (chain, host) judged once), adds transport findings, and then the findings that
need more than one endpoint: CONSISTENCY (one host serving different leaves), DISCOVERY
(does the certificate served at each discovered name cover it) and history (the leaf
changed since the last check).

Time: ``timeout`` bounds discovery, and then each host's address lookup plus the probes
of its endpoints together (a probe gets what the lookup left, at least 0.5 s), counted
from when that host's turn comes. One host's sweep therefore ends within ``timeout``;
a batch larger than ``concurrency`` runs in waves, each endpoint within the same bound.
Every host runs in its own pipeline (resolve, probe, judge), with at most
``concurrency`` lookups and ``concurrency`` probes in flight.

Discovery rules (the issue leaves bare domains open; this is the decision):

* ``user@example.com``: only the discovered names are probed (the domain of an address is
  rarely a mail host itself).
* a bare name (``example.com`` or ``mail.example.com``): the name itself gets the iPhone
  sweep, and with discovery on mailtls also looks the name up as a mail domain and probes
  whatever SRV/MX/common names it finds. Single-label names (``localhost``), names under
  ``.localhost`` and IP literals are never looked up as domains.
* discovery is skipped entirely with ``--address`` (the admin tests one server) or
  ``--no-discover``.

The front ends (CLI, TUI) watch progress through a :class:`CheckObserver`; callbacks run
on the thread that called :func:`check`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The cross-endpoint findings are judged in analysis; their rule ids stay importable here.
from mailtls.analysis.rules.across_hosts import (
    RULE_ANALYSIS_ERROR as RULE_ANALYSIS_ERROR,
)
from mailtls.analysis.rules.across_hosts import (
    RULE_CONSISTENCY as RULE_CONSISTENCY,
)
from mailtls.analysis.rules.across_hosts import (
    RULE_DISCOVERY_COVERED as RULE_DISCOVERY_COVERED,
)
from mailtls.analysis.rules.across_hosts import (
    RULE_DISCOVERY_FAILED as RULE_DISCOVERY_FAILED,
)
from mailtls.analysis.rules.across_hosts import (
    RULE_DISCOVERY_NOT_COVERED as RULE_DISCOVERY_NOT_COVERED,
)
from mailtls.analysis.rules.across_hosts import (
    RULE_DOMAIN_NOT_A_HOST as RULE_DOMAIN_NOT_A_HOST,
)
from mailtls.analysis.rules.across_hosts import (
    analysis_error_finding,
    consistency_findings,
    discovery_failed_finding,
    discovery_findings,
    domain_without_address_finding,
)
from mailtls.model import (
    IPHONE_SWEEP,
    Analysis,
    Endpoint,
    EndpointReport,
    Finding,
    HostSource,
    Phase,
    ProbeResult,
    Report,
    Status,
    service_for_scheme,
)

if TYPE_CHECKING:
    from mailtls.history import History

#: RFC 5321 Domain or address literal, as accepted for --ehlo.
_EHLO_NAME = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"|\[(?:[0-9.]+|IPv6:[0-9A-Fa-f:.]+)\]"
)


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Everything a check needs besides the targets. Frozen: front ends build one."""

    address: tuple[str, ...] = ()  # probe these addresses instead of DNS answers
    nameserver: str | None = None  # "IP[:PORT]"; None = the system resolver
    timeout: float = 10.0  # seconds for one host's lookup + probes (see module docstring)
    ehlo_name: str = "mailtls.invalid"
    ca_files: tuple[Path, ...] = ()  # roots installed on the iPhone with full trust (USR)
    system_roots: Path | None = None  # replaces Apple's trust store
    roots_version: int | None = None  # a cached release of Apple's store; None = the current
    at: datetime | None = None  # evaluate at this moment instead of now
    ios_version: str | None = None  # None = current iOS
    concurrency: int = 64
    discover: bool = True
    check_versions: bool = True  # also test which TLS versions each endpoint accepts
    history: Path | None = None  # history database; None = do not record or compare


class CheckObserver:
    """Progress callbacks of :func:`check`. Every method is an optional no-op."""

    def on_hosts(self, hosts: Sequence[HostSource]) -> None:
        """The host names that will be probed, with where each came from."""

    def on_endpoint_started(self, endpoint: Endpoint) -> None:
        """An endpoint is about to be probed (called for every endpoint up front)."""

    def on_endpoint_done(self, report: EndpointReport) -> None:
        """One endpoint is probed and judged (in completion order)."""


def check(
    targets: Sequence[str],
    options: CheckOptions,
    *,
    observer: CheckObserver | None = None,
    now: datetime | None = None,
    keep_endpoints: bool = True,
) -> Report:
    """Check every target; never raises for a bad target or an unreachable endpoint.

    ``keep_endpoints=False`` streams: each endpoint goes to the observer and is let go once
    its host is finished (its cross-endpoint findings made, its history rows written), so
    memory does not grow with the fleet; the report then lists no endpoints (the observer
    keeps what it needs, e.g. :class:`mailtls.report.outcome.Tally` for the exit code).
    """
    # The report leaves the loop in a box, not as the main task's result: Python 3.11's
    # asyncio.run formats repr() of that task (result included) while restoring the SIGINT
    # handler, which costs time and memory in O(report size) for a fleet.
    box: list[Report] = []

    async def main() -> None:
        box.append(
            await check_async(
                targets, options, observer=observer, now=now, keep_endpoints=keep_endpoints
            )
        )

    asyncio.run(main())
    return box[0]


async def check_async(
    targets: Sequence[str],
    options: CheckOptions,
    *,
    observer: CheckObserver | None = None,
    now: datetime | None = None,
    keep_endpoints: bool = True,
) -> Report:
    """The same as :func:`check`, as a coroutine (e.g. several checks gathered in one loop,
    as ``mailtls demo`` does)."""
    check = _Check(targets, options, observer or CheckObserver(), now, keep_endpoints)
    return await check.run()


# --------------------------------------------------------------------------- planning


class _HostPlan:
    """One host name to probe: which schemes, on which port (None: the default)."""

    __slots__ = ("domain_only_if_resolves", "host", "is_ip", "services")

    def __init__(self, host: str, *, is_ip: bool = False) -> None:
        self.host = host
        self.services: dict[tuple[str, int], None] = {}  # (scheme, port), in order
        self.is_ip = is_ip
        #: A bare domain that discovery found mail hosts for: when the name itself has no
        #: address, it is dropped with a note instead of seven DNS errors.
        self.domain_only_if_resolves = False


def _default_port(scheme: str) -> int:
    return service_for_scheme(scheme).default_port


def _looks_like_domain(host: str) -> bool:
    name = host.rstrip(".").lower()
    return "." in name and not (name == "localhost" or name.endswith(".localhost"))


class _Check:
    def __init__(
        self,
        targets: Sequence[str],
        options: CheckOptions,
        observer: CheckObserver,
        now: datetime | None,
        keep_endpoints: bool = True,
    ) -> None:
        self.targets = tuple(t.strip() for t in targets if t.strip())
        self.options = options
        self.observer = observer
        self.started_at = (now or datetime.now(UTC)).astimezone(UTC)
        self.at = options.at or self.started_at
        self.errors: list[str] = []
        self.hosts: list[HostSource] = []
        self.known_sources: set[HostSource] = set()
        self.problems: list[Finding] = []  # discovery that found nothing or failed
        self.plans: dict[str, _HostPlan] = {}
        self.done: list[EndpointReport] = []
        self.keep_endpoints = keep_endpoints
        # Streaming (keep_endpoints=False): a host's endpoints until the host is finished,
        # then only its cross-endpoint findings and, briefly, its history rows.
        self.pending: dict[str, list[EndpointReport]] = {}
        self.consistency: dict[str, tuple[Finding, ...]] = {}
        self.discovered: dict[str, tuple[Finding, ...]] = {}
        self.unrecorded: list[EndpointReport] = []
        self.found_by: dict[str, list[HostSource]] = {}  # discovered names, by host
        self.history: History | None = None
        self.store_labels: dict[str, str] = {}
        self.store_facts: dict[str, Any] = {}
        self._stores: asyncio.Task[tuple[Any, Any]]

    def _check_ios_version(self) -> None:
        """A bad --ios is bad input: one line before anything is probed."""
        if self.options.ios_version is None:
            return
        from mailtls.analysis.registry import parse_ios_version
        from mailtls.errors import UsageError

        try:
            parse_ios_version(self.options.ios_version)
        except ValueError as exc:
            raise UsageError(f"--ios: {exc}") from None

    def _check_ehlo_name(self) -> None:
        """The EHLO argument goes on the wire: a domain or an address literal, nothing else
        (RFC 5321 §4.1.1.1), so no option can smuggle a command into the SMTP dialog."""
        name = self.options.ehlo_name
        if not _EHLO_NAME.fullmatch(name) or len(name) > 255:
            from mailtls.errors import UsageError

            raise UsageError(
                f"--ehlo {name!r}: not a domain or address literal (e.g. client.example.com "
                "or [192.0.2.1])"
            )

    async def run(self) -> Report:
        self._check_ios_version()
        self._check_ehlo_name()
        # The stores load on a thread while the first probes are out (:meth:`_load_stores`).
        self._stores = asyncio.create_task(asyncio.to_thread(self._load_stores))
        work = asyncio.create_task(self._plan_and_probe())
        # A bad root file is bad input: one line, and whatever was started is abandoned.
        user_files = bool(self.options.ca_files or self.options.system_roots)
        try:
            if user_files:
                await asyncio.wait((self._stores, work), return_when=asyncio.FIRST_COMPLETED)
                if self._stores.done():
                    self._stores.result()
            await work
            await self._stores
            self.done.sort(key=lambda r: _endpoint_order(r.endpoint))
            findings = tuple(self.problems) + self._cross_endpoint_findings()
            report = Report(
                targets=self.targets,
                endpoints=tuple(self.done),
                started_at=self.started_at,
                finished_at=datetime.now(UTC),
                findings=findings,
                hosts=tuple(self.hosts),
                options=self._effective_options(),
                errors=tuple(self.errors),
            )
            if self.history is not None:
                if self.keep_endpoints:
                    self.history.record(report)
                else:
                    self._record_finished(at_least=1)
            return report
        finally:
            if not work.done():
                work.cancel()
                with contextlib.suppress(BaseException):
                    await work
            # Not cancelled: its thread would run on regardless. Nothing outlives the check.
            with contextlib.suppress(Exception):
                await self._stores
            if self.history is not None:
                self.history.close()

    async def _plan_and_probe(self) -> None:
        await self._plan()
        for source in self.hosts:  # complete now: probing starts below
            if source.source != "argument":
                self.found_by.setdefault(source.host, []).append(source)
        self.observer.on_hosts(tuple(self.hosts))
        self._open_history()
        await self._probe_all(_Judge(self))

    # ----------------------------------------------------------------- trust stores

    async def stores(self) -> tuple[Any, Any]:
        """The (system, user) stores, once loaded."""
        return await self._stores

    # ----------------------------------------------------------------- targets and DNS

    async def _plan(self) -> None:
        from mailtls.errors import MailtlsError
        from mailtls.targets import parse_target

        domains: list[str] = []
        seen: set[str] = set()
        for text in self.targets:
            if text in seen:
                continue
            seen.add(text)
            try:
                target = parse_target(text)
            except MailtlsError as exc:
                self.errors.append(str(exc))
                continue
            if target.kind == "email":
                if self.options.address:
                    self.errors.append(
                        f"{text}: --address needs a host name or URL, not an e-mail address"
                    )
                    continue
                domains.append(target.host)
                continue
            schemes = tuple(target.schemes) or IPHONE_SWEEP
            services = [(s, target.port or _default_port(s)) for s in schemes]
            self._add_plan(target.host, services, target.is_ip)
            self._add_source(HostSource(target.host, "argument", schemes, target.port))
            if (
                target.kind == "host"
                and target.port is None
                and self.options.discover
                and not self.options.address
                and not target.is_ip
                and _looks_like_domain(target.host)
            ):
                domains.append(target.host)
        if domains:
            await self._discover(domains)

    def _add_plan(
        self, host: str, services: Sequence[tuple[str, int]], is_ip: bool = False
    ) -> None:
        plan = self.plans.setdefault(host, _HostPlan(host, is_ip=is_ip))
        for service in services:
            plan.services.setdefault(service, None)

    def _add_source(self, source: HostSource) -> None:
        if source not in self.known_sources:
            self.known_sources.add(source)
            self.hosts.append(source)

    async def _discover(self, domains: list[str]) -> None:
        from mailtls.dns import discover

        nameserver = self.options.nameserver
        slots = asyncio.Semaphore(max(1, self.options.concurrency))

        async def one(domain: str) -> list[HostSource] | str:
            try:
                async with slots:
                    return list(
                        await asyncio.wait_for(
                            discover(domain, nameserver, self._dns_timeout()),
                            self.options.timeout,
                        )
                    )
            except TimeoutError:
                return f"{domain}: DNS discovery ran out of time"
            except Exception as exc:  # one failed lookup never loses the others
                return f"{domain}: DNS discovery failed: {exc}"

        for domain, found in zip(
            domains, await asyncio.gather(*(one(d) for d in domains)), strict=True
        ):
            if isinstance(found, str):
                self.problems.append(discovery_failed_finding(domain, found))
                continue
            if not found and domain not in self.plans:
                self.problems.append(
                    discovery_failed_finding(
                        domain,
                        f"{domain}: no mail host found (no SRV or MX record, and none of "
                        "imap., mail., pop., smtp. resolves)",
                    )
                )
            if found and domain in self.plans:
                self.plans[domain].domain_only_if_resolves = True
            for source in found:
                schemes = tuple(source.schemes) or IPHONE_SWEEP
                self._add_plan(source.host, [(s, source.port or _default_port(s)) for s in schemes])
                self._add_source(source)

    def _dns_timeout(self) -> float:
        """Each DNS query may take at most 5 s, and never more than --timeout."""
        return max(0.1, min(5.0, self.options.timeout))

    async def _addresses(self, plan: _HostPlan) -> list[str] | str:
        """The addresses to probe for a host, or a one-line DNS error."""
        if self.options.address:
            return list(dict.fromkeys(self.options.address))
        if plan.is_ip:
            return [plan.host]
        from mailtls.dns import resolve_addresses

        try:
            found = await asyncio.wait_for(
                resolve_addresses(plan.host, self.options.nameserver, self._dns_timeout()),
                self.options.timeout,
            )
        except TimeoutError:
            return f"{plan.host}: DNS lookup ran out of time"
        except Exception as exc:  # DnsLookupError and anything dnspython raises
            return str(exc) or f"{plan.host}: DNS lookup failed ({type(exc).__name__})"
        if not found:
            return f"{plan.host}: the name has no A or AAAA address"
        return list(dict.fromkeys(found))

    # ----------------------------------------------------------------- probing

    async def _probe_all(self, judge: _Judge) -> None:
        """Every host in its own pipeline: resolve, then probe its endpoints, then judge.

        Hosts are resolved and endpoints probed at most ``concurrency`` at a time (one
        semaphore each), so a large batch starts probing while later names still resolve,
        and sockets in flight stay bounded. A host's pipeline starts only when fewer than
        ``HOSTS_AHEAD`` x ``concurrency`` hosts are under way: without that bound every
        host of a fleet resolved at once and queued all its endpoints for the probe slots,
        a few KiB each: memory must not grow with the fleet.
        """
        from mailtls.probe import ProbeOptions

        base = _probe_options(ProbeOptions, self.options, self.options.timeout)
        width = max(1, self.options.concurrency)
        dns_slots = asyncio.Semaphore(width)
        probe_slots = asyncio.Semaphore(width)
        host_slots = asyncio.Semaphore(self.HOSTS_AHEAD * width)

        def release(_task: object) -> None:
            host_slots.release()

        async with asyncio.TaskGroup() as group:
            for plan in self.plans.values():
                await host_slots.acquire()
                task = group.create_task(self._host(plan, judge, base, dns_slots, probe_slots))
                task.add_done_callback(release)

    #: Hosts under way at once, in multiples of --concurrency (see :meth:`_probe_all`).
    HOSTS_AHEAD = 2

    async def _host(
        self,
        plan: _HostPlan,
        judge: _Judge,
        base: Any,
        dns_slots: asyncio.Semaphore,
        probe_slots: asyncio.Semaphore,
    ) -> None:
        async with dns_slots:
            dns_started = time.monotonic()
            answer = await self._addresses(plan)
            dns_seconds = time.monotonic() - dns_started
        if isinstance(answer, str):
            await self._unresolved(plan, answer, dns_seconds, judge)
        else:
            # One host's lookup and probes together stay within --timeout.
            options = _with_deadline(base, self.options.timeout - dns_seconds)
            endpoints = [
                Endpoint(scheme, plan.host, port, address)
                for scheme, port in plan.services
                for address in answer
            ]
            await asyncio.gather(
                *(self._endpoint(e, judge, options, probe_slots) for e in endpoints)
            )
        if not self.keep_endpoints:
            self._host_finished(plan.host)
            judge.forget(plan.host)

    async def _unresolved(
        self, plan: _HostPlan, answer: str, dns_seconds: float, judge: _Judge
    ) -> None:
        """A host whose lookup failed: each of its endpoints reports the DNS error."""
        if plan.domain_only_if_resolves:
            self.problems.append(domain_without_address_finding(plan.host, answer))
            return
        for scheme, port in plan.services:
            endpoint = Endpoint(scheme, plan.host, port)
            self.observer.on_endpoint_started(endpoint)
            result = ProbeResult(
                endpoint,
                Status.DNS_ERROR,
                phase=Phase.DNS,
                error=answer,
                started_at=datetime.now(UTC),
                elapsed_ms=round(dns_seconds * 1000, 1),
            )
            self._finish(await judge.judge(result))

    async def _endpoint(
        self, endpoint: Endpoint, judge: _Judge, options: Any, slots: asyncio.Semaphore
    ) -> None:
        from mailtls.probe import probe_endpoint

        async with slots:
            self.observer.on_endpoint_started(endpoint)
            result = await probe_endpoint(endpoint, options)
        self._finish(await judge.judge(result))

    def _finish(self, report: EndpointReport) -> None:
        if self.history is not None and report.analysis is not None:
            from mailtls.history import leaf_changed_finding

            key = (report.endpoint.url, report.endpoint.address or "")
            previous = self.history.latest([key]).get(key)
            finding = leaf_changed_finding(previous, report)
            if finding is not None:
                report = replace(report, findings=(*report.findings, finding))
        if self.keep_endpoints:
            self.done.append(report)
        else:
            self.pending.setdefault(report.endpoint.host, []).append(report)
        self.observer.on_endpoint_done(report)

    # ----------------------------------------------------------------- cross-endpoint

    #: Endpoints whose history rows a streamed check writes in one transaction.
    HISTORY_BATCH = 512

    def _host_finished(self, host: str) -> None:
        """Streaming: a host's endpoints are all done. Its cross-endpoint findings are made
        now (they never look beyond one host), its rows queued for the history, and its
        endpoint reports let go."""
        reports = sorted(self.pending.pop(host, ()), key=lambda r: _endpoint_order(r.endpoint))
        consistency = consistency_findings(reports)
        found_by = self.found_by.get(host)
        discovered = discovery_findings(found_by, reports) if found_by else ()
        if consistency:  # most hosts have none: nothing is kept for them
            self.consistency[host] = consistency
        if discovered:
            self.discovered[host] = discovered
        if self.history is not None:
            self.unrecorded.extend(reports)
            self._record_finished(at_least=self.HISTORY_BATCH)

    def _record_finished(self, at_least: int) -> None:
        """Write the queued history rows once there are ``at_least`` of them."""
        if self.history is not None and len(self.unrecorded) >= at_least:
            self.history.record_endpoints(self.unrecorded, self.started_at)
            self.unrecorded = []

    def _cross_endpoint_findings(self) -> tuple[Finding, ...]:
        """Consistency findings by host name, then discovery findings in the order the
        hosts were found: the same whether the endpoints were kept or streamed."""
        if self.keep_endpoints:
            return consistency_findings(self.done) + discovery_findings(self.hosts, self.done)
        discovered = dict.fromkeys(s.host for s in self.hosts if s.source != "argument")
        return tuple(
            f for host in sorted(self.consistency) for f in self.consistency[host]
        ) + tuple(f for host in discovered for f in self.discovered.get(host, ()))

    # ----------------------------------------------------------------- stores, history

    def _load_stores(self) -> tuple[Any, Any]:
        """The (system, user) stores; run on a thread, which also imports the engine so
        that the first chain to arrive is not judged with an import on the event loop."""
        import mailtls.analysis.engine  # noqa: F401  (see above)
        from mailtls.analysis import system_store, user_store

        system = system_store(self.options.system_roots, version=self.options.roots_version)
        user = user_store(self.options.ca_files)
        self.store_labels = {
            "system": str(getattr(system, "label", "")),
            "user": str(getattr(user, "label", "")),
        }
        self.store_facts = {
            "source": system.source,
            "version": system.version,
            "roots": len(system),
            "hint": system.hint or None,
        }
        return system, user

    def _open_history(self) -> None:
        if self.options.history is None:
            return
        from mailtls.history import History

        self.history = History.open(self.options.history)

    def _effective_options(self) -> dict[str, Any]:
        o = self.options
        return {
            "address": list(o.address),
            "nameserver": o.nameserver,
            "timeout": o.timeout,
            "ehlo_name": o.ehlo_name,
            "ca_files": [str(p) for p in o.ca_files],
            "system_roots": str(o.system_roots) if o.system_roots else None,
            "at": self.at,
            "ios_version": o.ios_version or "current",
            "concurrency": o.concurrency,
            "discover": o.discover,
            "check_versions": o.check_versions,
            "history": str(o.history) if o.history else None,
            "trust_store": self.store_labels.get("system", ""),
            "trust_store_source": self.store_facts.get("source"),
            "trust_store_version": self.store_facts.get("version"),
            "trust_store_hint": self.store_facts.get("hint"),
            "user_trust_store": self.store_labels.get("user", ""),
        }


def _probe_options(factory: Callable[..., Any], options: CheckOptions, deadline: float) -> Any:
    """The probe layer's options from ours (the probe bounds each endpoint from its start)."""
    from mailtls.probe import Timeouts

    return _with_deadline(
        factory(
            timeouts=Timeouts(),
            deadline=deadline,
            ehlo_name=options.ehlo_name,
            concurrency=max(1, options.concurrency),
            check_versions=options.check_versions,
            nameserver=options.nameserver,
        ),
        deadline,
    )


def _with_deadline(probe_options: Any, seconds: float) -> Any:
    """The same options with this deadline (at least 0.5 s), phase timeouts capped by it."""
    deadline = max(0.5, seconds)
    timeouts = probe_options.timeouts
    return replace(
        probe_options,
        deadline=deadline,
        timeouts=replace(
            timeouts,
            connect=min(timeouts.connect, deadline),
            greeting=min(timeouts.greeting, deadline),
            starttls=min(timeouts.starttls, deadline),
            handshake=min(timeouts.handshake, deadline),
        ),
    )


class _Judge:
    """Turns one ProbeResult into an EndpointReport; the stores are awaited once.

    The analysis depends only on (chain, host) within one check (same time, stores and iOS
    version), so the seven endpoints of a host serving one chain are judged once.
    """

    def __init__(self, check: _Check) -> None:
        self.check = check
        self.cache: dict[str, dict[tuple[bytes, ...], Analysis]] = {}  # host -> chain -> it
        # One copy of each chain's bytes, shared by the endpoints serving it: across the
        # whole check when it keeps its endpoints, within a host when it streams.
        self.chains: dict[tuple[bytes, ...], tuple[bytes, ...]] = {}
        self.host_chains: dict[str, dict[tuple[bytes, ...], tuple[bytes, ...]]] = {}

    def forget(self, host: str) -> None:
        """A streamed check's host is finished: its analyses and chains are not needed again
        (no other host has its name)."""
        self.cache.pop(host, None)
        self.host_chains.pop(host, None)

    async def judge(self, result: ProbeResult) -> EndpointReport:
        from mailtls.analysis import analyze_chain, transport_findings

        findings: list[Finding] = []
        try:
            findings.extend(transport_findings(result))
        except Exception as exc:
            findings.append(_analysis_error(result, "transport findings", exc))
        if result.status is not Status.OK or not result.chain:
            return EndpointReport(result, None, tuple(findings))
        # Endpoints serving the same chain share one copy of its bytes (fleet memory).
        host = result.endpoint.host
        shared = self.chains if self.check.keep_endpoints else self.host_chains.setdefault(host, {})
        chain = shared.setdefault(result.chain, result.chain)
        if chain is not result.chain:
            result = replace(result, chain=chain)
        analyses = self.cache.setdefault(host, {})
        try:
            analysis = analyses.get(chain)
            if analysis is None:
                system, user = await self.check.stores()
                analysis = analyze_chain(
                    list(result.chain),
                    result.endpoint.host,
                    at=self.check.at,
                    system=system,
                    user=user,
                    ios_version=self.check.options.ios_version,
                )
                analyses[chain] = analysis
        except Exception as exc:  # one broken rule never loses the report
            findings.append(_analysis_error(result, "the chain analysis", exc))
            return EndpointReport(result, None, tuple(findings))
        return EndpointReport(result, analysis, tuple(findings))


def _analysis_error(result: ProbeResult, what: str, exc: BaseException) -> Finding:
    return analysis_error_finding(result.endpoint.url, what, exc)


def _endpoint_order(endpoint: Endpoint) -> tuple[str, int, int, str]:
    try:
        rank = IPHONE_SWEEP.index(service_for_scheme(endpoint.scheme).scheme)
    except (KeyError, ValueError):
        rank = len(IPHONE_SWEEP)
    return (endpoint.host, rank, endpoint.port, endpoint.address or "")
