"""Hand-built model values for renderer tests (no network, no analysis engine).

Provenance: every value here is made up to look like what probe + analysis produce for
the named case; the renderers must not care where a Report came from.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from mailtls.model import (
    Analysis,
    AnchorKind,
    Capabilities,
    Category,
    CertificateInfo,
    Endpoint,
    EndpointReport,
    Finding,
    HostSource,
    Phase,
    ProbeResult,
    Report,
    ResultClass,
    Severity,
    Status,
    Verdict,
)

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def cert(
    index: int,
    cn: str,
    *,
    issuer: str = "CN=Example Issuing CA",
    days_left: float = 60,
    names: tuple[str, ...] = (),
) -> CertificateInfo:
    sha = hashlib.sha256(f"{cn}{index}{days_left}".encode()).hexdigest()
    return CertificateInfo(
        index=index,
        sha256=sha,
        sha1=sha[:40],
        subject=f"CN={cn}",
        issuer=issuer,
        serial="0a1b",
        not_before=NOW - timedelta(days=30),
        not_after=NOW + timedelta(days=days_left),
        san=tuple(f"DNS:{n}" for n in names),
        key_type="RSA",
        key_size=2048,
        signature_algorithm="sha256WithRSAEncryption",
        signature_hash="sha256",
        basic_constraints={"ca": index > 0, "path_length": None, "critical": True},
        eku=("serverAuth",) if index == 0 else None,
        key_usage=("digitalSignature",),
        self_signed=False,
        subject_cn=cn,
    )


HOSTNAME_FINDING = Finding(
    rule_id="ios13_san_only",
    title="Host name not in the certificate",
    category=Category.TRUST,
    severity=Severity.ERROR,
    summary="The certificate there is for server17.hoster.net, not mail.example.com.",
    check_key="SSLHostname",
    result_class=ResultClass.RECOVERABLE,
    cert_index=0,
    evidence={"host": "mail.example.com", "san": ["server17.hoster.net"]},
    user_sees="Cannot Verify Server Identity",
    fix="Get a certificate that names mail.example.com.",
    citation="support.apple.com/103769",
)

EXPIRY_FINDING = Finding(
    rule_id="expires_soon",
    title="The certificate expires soon",
    category=Category.NOTICE,
    severity=Severity.WARNING,
    summary="The certificate expires in 12 days.",
    cert_index=0,
)


def endpoint(
    scheme: str = "imaps",
    host: str = "mail.example.com",
    address: str = "192.0.2.10",
    *,
    verdict: Verdict | None = Verdict.TRUSTED,
    status: Status = Status.OK,
    leaf_cn: str | None = None,
    days_left: float = 60,
    findings: tuple[Finding, ...] = (),
    extra: tuple[Finding, ...] = (),
    port: int | None = None,
) -> EndpointReport:
    from mailtls.model import service_for_scheme

    port = port or service_for_scheme(scheme).default_port
    ep = Endpoint(scheme, host, port, address)
    if status is not Status.OK or verdict is None:
        probe = ProbeResult(
            ep,
            status,
            phase=Phase.CONNECT,
            error=f"{ep.url} [connect]: connection refused by {address}",
            started_at=NOW,
        )
        return EndpointReport(probe, None, extra)
    leaf_name = leaf_cn or host
    chain = (
        cert(0, leaf_name, days_left=days_left, names=(leaf_name,)),
        cert(1, "Example Issuing CA", issuer="CN=Example Root", days_left=900),
    )
    probe = ProbeResult(
        ep,
        Status.OK,
        tls_version="TLSv1.3",
        cipher="TLS_AES_256_GCM_SHA384",
        chain=(b"leaf", b"intermediate"),
        accepted_tls_versions={"TLSv1": False, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": True},
        capabilities=Capabilities(greeting="* OK ready", starttls_offered=True)
        if scheme in ("imap", "pop3", "smtp", "submission")
        else None,
        elapsed_ms=12.5,
        started_at=NOW,
    )
    summaries = {
        Verdict.TRUSTED: "The certificate is valid for this host and trusted.",
        Verdict.PROMPT: "The certificate there is for server17.hoster.net, not mail.example.com.",
        Verdict.NEEDS_PROFILE: "The chain ends in a private root that is not installed.",
        Verdict.FATAL: "The certificate is signed with MD5.",
    }
    analysis = Analysis(
        verdict=verdict,
        anchor_kind=AnchorKind.SYS if verdict is Verdict.TRUSTED else AnchorKind.NONE,
        host=host,
        evaluated_at=NOW,
        ios_version="18",
        chain=chain,
        path=(),
        findings=findings,
        summary=summaries[verdict],
        user_sees="" if verdict is Verdict.TRUSTED else "Cannot Verify Server Identity",
        trust_store="certifi (Mozilla)",
    )
    return EndpointReport(probe, analysis, extra)


def report(
    *endpoints: EndpointReport,
    findings: tuple[Finding, ...] = (),
    errors: tuple[str, ...] = (),
    hosts: tuple[HostSource, ...] = (),
) -> Report:
    return Report(
        targets=("mail.example.com",),
        endpoints=tuple(endpoints),
        started_at=NOW,
        finished_at=NOW + timedelta(seconds=1.5),
        findings=findings,
        hosts=hosts,
        options={
            "address": [],
            "nameserver": None,
            "timeout": 10.0,
            "at": NOW,
            "trust_store": "certifi (Mozilla)",
            "ios_version": "current",
        },
        errors=errors,
    )


def mixed_report() -> Report:
    """One of each: trusted, prompt (wrong host), refused, trusted but expiring."""
    return report(
        endpoint("imaps"),
        endpoint(
            "submission",
            verdict=Verdict.PROMPT,
            leaf_cn="server17.hoster.net",
            findings=(HOSTNAME_FINDING,),
        ),
        endpoint("pop3", verdict=None, status=Status.REFUSED),
        endpoint("smtp", days_left=12, findings=(EXPIRY_FINDING,)),
    )
