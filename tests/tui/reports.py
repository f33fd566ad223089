"""Finished reports for the TUI tests, built without any network.

Provenance: every chain comes from the lab's scenario catalogue
(``mailtls.lab.scenarios.build_scenario(name, now=FIXTURE_DATE)``: public lab keys, fixed
serials, deterministic signatures), so fingerprints and dates are byte-stable and the
SVG snapshots do not drift. Each chain is judged by the real engine
(``mailtls.analysis.analyze_chain``) at the scenario's reference moment, against the
default system store, optionally with the scenario's root installed on the phone (USR).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mailtls.analysis.engine import analyze_chain
from mailtls.analysis.stores import TrustStore, system_store
from mailtls.lab.scenarios import FIXTURE_DATE, build_scenario
from mailtls.model import (
    Analysis,
    AnchorKind,
    Endpoint,
    EndpointReport,
    HostSource,
    ProbeResult,
    Report,
    Status,
)
from mailtls.service import consistency_findings

AT = FIXTURE_DATE


def analyse(scenario_name: str, chain: list[bytes], host: str, *, root_installed: bool) -> Analysis:
    """Judge a scenario's chain with the real engine, with or without its root on the phone."""
    scenario = build_scenario(scenario_name, now=AT)
    user = None
    if root_installed and scenario.root_pem is not None:
        root = x509.load_pem_x509_certificate(scenario.root_pem).public_bytes(Encoding.DER)
        user = TrustStore("lab root installed with full trust", AnchorKind.USR, (root,))
    return analyze_chain(chain, host, at=AT, system=_system_store(), user=user)


def _system_store() -> TrustStore:
    """The default roots under a fixed label: the snapshots must not show certifi's version
    (a fresh machine may install a newer certifi, which would change nothing else)."""
    return TrustStore(SYSTEM_LABEL, AnchorKind.SYS, system_store(None).certificates)


SYSTEM_LABEL = "certifi (Mozilla's root list; a stand-in for Apple's system store)"


def chain_der(scenario_name: str) -> list[bytes]:
    scenario = build_scenario(scenario_name, now=AT)
    return [
        cert.public_bytes(Encoding.DER)
        for cert in x509.load_pem_x509_certificates(scenario.chain_pem)
    ]


def endpoint_report(
    scheme: str,
    scenario_name: str | None,
    *,
    host: str | None = None,
    port: int | None = None,
    address: str = "127.0.0.1",
    status: Status = Status.OK,
    error: str | None = None,
    root_installed: bool = False,
) -> EndpointReport:
    """One endpoint serving a scenario's chain (or failing with ``status``)."""
    from mailtls.model import service_for_scheme

    service = service_for_scheme(scheme)
    scenario = build_scenario(scenario_name, now=AT) if scenario_name else None
    name = host or (scenario.host if scenario else "mail.example.test")
    endpoint = Endpoint(scheme, name, port or service.default_port, address)
    if scenario is None or status is not Status.OK:
        probe = ProbeResult(endpoint, status, error=error, elapsed_ms=1.0)
        return EndpointReport(probe, None)
    chain = chain_der(scenario.name)
    probe = ProbeResult(
        endpoint, Status.OK, tls_version="TLSv1.3", chain=tuple(chain), elapsed_ms=1.0
    )
    return EndpointReport(probe, analyse(scenario.name, chain, name, root_installed=root_installed))


def make_report(
    endpoints: Mapping[str, str | None] | list[EndpointReport],
    *,
    target: str = "mail.example.test",
) -> Report:
    """A finished report: ``{"imaps": "good-private-with-root", "submission": "wrong-host"}``."""
    if isinstance(endpoints, Mapping):
        reports = [
            endpoint_report(scheme, scenario)
            if scenario
            else endpoint_report(scheme, None, status=Status.REFUSED, error="connection refused")
            for scheme, scenario in endpoints.items()
        ]
    else:
        reports = list(endpoints)
    return Report(
        targets=(target,),
        endpoints=tuple(reports),
        findings=consistency_findings(reports),  # the service's cross-endpoint findings
        started_at=AT,
        finished_at=AT + timedelta(seconds=2),
        hosts=(HostSource(target, "argument"),),
        options={"at": AT},
    )


def wrong_host_report() -> Report:
    """The shared-hosting classic: IMAP needs the company root, SMTP serves another name."""
    return make_report(
        {
            "imaps": "good-private-with-root",
            "submission": "wrong-host",
            "submissions": "wrong-host",
            "pop3s": None,
        }
    )
