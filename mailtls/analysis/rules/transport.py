"""Transport findings (ios-trust-rules.md §1f): separate from trust, never change the verdict.

Judged from a :class:`mailtls.model.ProbeResult` (data only; this module never probes).
"""

from __future__ import annotations

from mailtls.analysis.registry import ALL_KINDS, RULES, Rule, register
from mailtls.model import Category, Finding, ProbeResult, Severity, Status, TlsMode

_OLD_TLS = ("TLSv1", "TLSv1.1")
_MODERN_TLS = ("TLSv1.2", "TLSv1.3")

for _rule in (
    Rule(
        id="tls10_11_deprecated",
        title="Only old TLS versions (1.0/1.1)",
        checks="The server negotiates or accepts TLS 1.0/1.1. Apple deprecated them in iOS 15 and will remove them; when iOS Mail stops accepting them is not documented.",
        check_key=None,
        result_class=None,
        applies_to=ALL_KINDS,
        since="iOS 15 (deprecation)",
        citation="ios-trust-rules.md §1f tls10_11_deprecated; Apple developer news, September 2021",
        fix="Enable TLS 1.2 and 1.3 on the server (Dovecot ssl_min_protocol = TLSv1.2; Postfix smtpd_tls_protocols = >=TLSv1.2).",
        user_sees="Today usually nothing; a future iOS may fail to connect.",
        category=Category.TRANSPORT,
        severity=Severity.WARNING,
        remedy="upgrade_tls",
    ),
    Rule(
        id="starttls_not_offered",
        title="STARTTLS not offered",
        checks="On a STARTTLS port (143, 110, 587, 25) the server does not offer STARTTLS, or refuses it.",
        check_key=None,
        result_class=None,
        applies_to=ALL_KINDS,
        since="—",
        citation="RFC 3207 (SMTP), RFC 2595 (IMAP/POP3), RFC 8314 §3",
        fix="Enable STARTTLS on this port, or configure the iPhone for the implicit-TLS port (993, 995, 465).",
        user_sees="With 'Use SSL' on, Mail cannot connect on this port.",
        category=Category.TRANSPORT,
        severity=Severity.ERROR,
        remedy="upgrade_tls",
    ),
    Rule(
        id="auth_before_starttls",
        title="Login offered before TLS",
        checks="Before STARTTLS, the server offers AUTH mechanisms or a plaintext LOGIN/USER command.",
        check_key=None,
        result_class=None,
        applies_to=ALL_KINDS,
        since="—",
        citation="RFC 8314 §3; RFC 3501 §6.2.3 (LOGINDISABLED); RFC 3207 §4",
        fix="Offer authentication only after TLS (Dovecot disable_plaintext_auth = yes; Postfix smtpd_tls_auth_only = yes).",
        user_sees="Nothing; a misconfigured client could send the password unencrypted.",
        category=Category.TRANSPORT,
        severity=Severity.WARNING,
        remedy=None,
    ),
    Rule(
        id="starttls_injection",
        title="Plaintext injected after STARTTLS",
        checks="The server sent bytes after its STARTTLS go-ahead and before the TLS handshake (the STARTTLS command-injection class).",
        check_key=None,
        result_class=None,
        applies_to=ALL_KINDS,
        since="—",
        citation="CVE-2011-0411 class; RFC 3207 §4.2",
        fix="Update the mail server software; check proxies in front of it.",
        user_sees="Possibly nothing; an attacker could inject commands into the session.",
        category=Category.TRANSPORT,
        severity=Severity.ERROR,
        remedy=None,
    ),
):
    register(_rule)


def _finding(
    rule_id: str, summary: str, evidence: dict[str, object], severity: Severity | None = None
) -> Finding:
    meta = RULES[rule_id]
    return Finding(
        rule_id=meta.id,
        title=meta.title,
        category=Category.TRANSPORT,
        severity=severity or meta.severity,
        summary=summary,
        evidence=dict(evidence),
        user_sees=meta.user_sees,
        fix=meta.fix,
        citation=meta.citation,
        remedy=meta.remedy,
    )


def transport_findings(probe: ProbeResult) -> list[Finding]:
    """Transport items of one probe: old TLS, STARTTLS missing, AUTH before TLS, injection."""
    findings: list[Finding] = []
    endpoint = probe.endpoint
    accepted = {v for v, ok in probe.accepted_tls_versions.items() if ok}
    if probe.tls_version in _OLD_TLS or (accepted and not accepted & set(_MODERN_TLS)):
        findings.append(
            _finding(
                "tls10_11_deprecated",
                f"{endpoint.url} only speaks {probe.tls_version or ', '.join(sorted(accepted))}, which Apple has deprecated since iOS 15.",
                {"negotiated": probe.tls_version, "accepted": sorted(accepted)},
            )
        )
    elif accepted & set(_OLD_TLS):
        findings.append(
            _finding(
                "tls10_11_deprecated",
                f"{endpoint.url} still accepts {', '.join(sorted(accepted & set(_OLD_TLS)))} besides newer versions.",
                {"negotiated": probe.tls_version, "accepted": sorted(accepted)},
                severity=Severity.INFO,
            )
        )
    caps = probe.capabilities
    starttls = endpoint.tls_mode is TlsMode.STARTTLS
    if starttls and (
        probe.status is Status.NO_TLS or (caps is not None and caps.starttls_offered is False)
    ):
        findings.append(
            _finding(
                "starttls_not_offered",
                f"{endpoint.url} does not offer STARTTLS, so the iPhone cannot encrypt this connection.",
                {"status": probe.status.value, "error": probe.error},
            )
        )
    if caps is not None and starttls:
        login_blocked = caps.login_disabled is True
        if caps.auth_before_tls or (caps.plaintext_login_offered and not login_blocked):
            findings.append(
                _finding(
                    "auth_before_starttls",
                    f"{endpoint.url} offers login before TLS ({', '.join(caps.auth_before_tls) or 'plaintext LOGIN/USER'}).",
                    {
                        "auth_before_tls": list(caps.auth_before_tls),
                        "plaintext_login_offered": caps.plaintext_login_offered,
                    },
                )
            )
        if caps.injected_plaintext:
            findings.append(
                _finding(
                    "starttls_injection",
                    f"{endpoint.url} sent data after its STARTTLS go-ahead and before the TLS handshake.",
                    {"injected_plaintext": True},
                )
            )
    return findings
