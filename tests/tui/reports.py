"""Finished reports for the TUI tests, built without any network.

Provenance: every chain comes from the lab's scenario catalogue
(``mailtls.lab.scenarios.build_scenario(name, now=FIXTURE_DATE)``: public lab keys, fixed
serials, deterministic signatures), so fingerprints and dates are byte-stable and the
SVG snapshots do not drift. The chain is judged by the real engine
(``mailtls.analysis.analyze_chain``) when it is importable; until then by a stand-in that
turns the scenario's documented expectation (verdict and rule ids for an iPhone without
the root, ``expected_verdict["NONE"]``) into an Analysis, so the screens can be tested
while the engine is being written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mailtls.analysis.certs import describe_certificate
from mailtls.lab.scenarios import FIXTURE_DATE, build_scenario
from mailtls.model import (
    Analysis,
    AnchorKind,
    Category,
    Endpoint,
    EndpointReport,
    Finding,
    HostSource,
    PathElement,
    ProbeResult,
    Report,
    ResultClass,
    Severity,
    Status,
    Verdict,
)

AT = FIXTURE_DATE

#: Stand-in words for the rule ids the scenarios name (used only without the engine).
_RULE_WORDS: dict[str, tuple[str, str, str, str]] = {
    # rule_id: (title, check key, summary template, remedy)
    "hostname_match": (
        "Host name not in the certificate",
        "SSLHostname",
        "The certificate is for {names}, not {host}.",
        "reissue",
    ),
    "ios13_san_only": (
        "Host name only in the CN",
        "SSLHostname",
        "The certificate names {host} only in its subject CN, which iOS ignores.",
        "reissue",
    ),
    "chain_anchor_required": (
        "Root not trusted on the iPhone",
        "AnchorTrusted",
        "The chain does not end in a root the iPhone trusts.",
        "profile",
    ),
    "temporal_validity": (
        "Certificate expired",
        "TemporalValidity",
        "The certificate expired on {not_after}.",
        "reissue",
    ),
    "weak_signature_fatal": (
        "MD5 signature",
        "WeakSignature",
        "The server certificate is signed with MD5, which iOS refuses outright.",
        "reissue",
    ),
    "ios13_sha2": (
        "SHA-1 signature",
        "SignatureHashAlgorithms",
        "The server certificate is signed with SHA-1.",
        "reissue",
    ),
}


def _standin_analysis(scenario_name: str, chain: list[bytes], host: str) -> Analysis:
    scenario = build_scenario(scenario_name, now=AT)
    infos = tuple(describe_certificate(der, i) for i, der in enumerate(chain))
    verdict = Verdict(scenario.expected_verdict["NONE"])
    findings = []
    leaf = infos[0]
    for rule in scenario.expected_rules.get("NONE", ()):
        title, key, template, remedy = _RULE_WORDS.get(
            rule, (rule.replace("_", " "), "", "Rule " + rule + " failed.", "reissue")
        )
        missing = rule == "chain_anchor_required" and not leaf.self_signed and len(infos) == 1
        if rule == "chain_anchor_required" and verdict is Verdict.PROMPT and not missing:
            remedy = "stale_exception"
        findings.append(
            Finding(
                rule_id=rule,
                title="Intermediate certificate missing" if missing else title,
                category=Category.TRUST,
                severity=Severity.FATAL if verdict is Verdict.FATAL else Severity.ERROR,
                summary=template.format(
                    names=", ".join(n.removeprefix("DNS:") for n in leaf.san),
                    host=host,
                    not_after=leaf.not_after.date() if leaf.not_after else "?",
                ),
                check_key="MissingIntermediate" if missing else key,
                result_class=ResultClass.FATAL
                if verdict is Verdict.FATAL
                else ResultClass.RECOVERABLE,
                cert_index=None if rule == "chain_anchor_required" else 0,
                evidence={"host": host, "san": list(leaf.san)},
                user_sees='"Cannot Verify Server Identity"',
                fix="Serve the full chain." if missing else "Reissue the certificate.",
                citation="ios-trust-rules.md",
                remedy="full_chain" if missing else remedy,
            )
        )
    anchor = AnchorKind.NONE
    path = tuple(PathElement("presented", info.index, info.sha256, info.subject) for info in infos)
    summary = findings[0].summary if findings else "Everything iOS checks passes."
    return Analysis(
        verdict=verdict,
        anchor_kind=anchor,
        host=host,
        evaluated_at=AT,
        ios_version="18",
        chain=infos,
        path=path,
        findings=tuple(findings),
        summary=summary,
        user_sees='"Cannot Verify Server Identity"' if verdict is not Verdict.TRUSTED else "",
        trust_store="stand-in",
    )


def analyse(
    scenario_name: str, chain: list[bytes], host: str, ca_files: tuple[Path, ...] = ()
) -> Analysis:
    """Judge a scenario's chain: the real engine if present, else the stand-in."""
    try:
        from mailtls.analysis import (  # type: ignore[attr-defined]
            analyze_chain,
            system_store,
            user_store,
        )
    except ImportError:
        return _standin_analysis(scenario_name, chain, host)
    analysis: Analysis = analyze_chain(
        chain, host, at=AT, system=system_store(None), user=user_store(ca_files), ios_version=None
    )
    return analysis


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
    return EndpointReport(probe, analyse(scenario.name, chain, name))


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
        started_at=AT,
        finished_at=AT + timedelta(seconds=2),
        hosts=(HostSource(target, "argument"),),
        options={"at": AT},
    )


def wrong_host_report() -> Report:
    """The shared-hosting classic: IMAP fine (profile), SMTP 587 serves another name."""
    return make_report(
        {
            "imaps": "self-signed-ca",
            "submission": "wrong-host",
            "submissions": "wrong-host",
            "pop3s": None,
        }
    )
