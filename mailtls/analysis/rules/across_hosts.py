"""Across hosts, addresses and discovered names: findings made from the reports of several
endpoints of one host, from DNS discovery, and when the service could not finish a report.

Pure functions of :class:`mailtls.model.EndpointReport` values (the service decides when to
call them; a streamed check calls them once per finished host). None changes a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

from mailtls.analysis.registry import ALL_KINDS, RULES, Rule, register
from mailtls.model import Category, EndpointReport, Finding, HostSource, Severity, Verdict

RULE_CONSISTENCY = "consistency_leaf_differs"
RULE_DISCOVERY_COVERED = "discovery_name_covered"
RULE_DISCOVERY_NOT_COVERED = "discovery_name_not_covered"
RULE_DISCOVERY_FAILED = "discovery_failed"
RULE_DOMAIN_NOT_A_HOST = "discovery_domain_not_a_host"
RULE_ANALYSIS_ERROR = "internal_analysis_error"

#: Findings of the trust engine that mean "the name is not in the certificate".
HOSTNAME_CHECK_KEY = "SSLHostname"
HOSTNAME_RULES = frozenset({"ios13_san_only", "hostname_match", "ip_address_names"})


def _register(rule_id: str, title: str, checks: str, category: Category, **kw: object) -> Rule:
    return register(
        Rule(
            id=rule_id,
            title=title,
            checks=checks,
            check_key=kw.pop("check_key", None),  # type: ignore[arg-type]
            result_class=None,
            applies_to=ALL_KINDS,
            since="—",
            citation=str(kw.pop("citation")),
            fix=str(kw.pop("fix", "")),
            user_sees=str(kw.pop("user_sees", "")),
            category=category,
            severity=kw.pop("severity"),  # type: ignore[arg-type]
            remedy=None,
            note=str(kw.pop("note", "")),
        )
    )


_CONSISTENCY = _register(
    RULE_CONSISTENCY,
    "Addresses or ports of one host serve different certificates",
    "The addresses (IPv4, IPv6) and ports of one host name must serve the same server "
    "certificate: an exception the user stored by tapping Trust covers one exact certificate. "
    "Info when every certificate is trusted, a warning when all prompt, an error when the "
    "verdicts differ (the prompt comes and goes).",
    Category.CONSISTENCY,
    severity=Severity.WARNING,
    citation="ios-trust-rules.md §2 (an exception covers one exact certificate)",
    fix=(
        "Install the same certificate and chain on every node, address and "
        "service of this host (a load-balancer node or the IPv6 listener is "
        "often still on the old or self-signed certificate)."
    ),
    user_sees=(
        "A separate 'Cannot Verify Server Identity' prompt for each certificate; "
        "tapping Trust for one does not cover the others."
    ),
)
_register(
    RULE_DISCOVERY_COVERED,
    "Discovered name is in the certificate",
    "A host name found through the domain's DNS records (SRV, MX, common names) is covered "
    "by the certificate served there.",
    Category.DISCOVERY,
    severity=Severity.INFO,
    citation="RFC 6186; RFC 8314 §5.1",
)
_register(
    RULE_DISCOVERY_NOT_COVERED,
    "Discovered name is not in the certificate",
    "A host name found through the domain's DNS records (SRV, MX, common names) is not "
    "covered by the certificate served there: an iPhone set up with that name (as the "
    "records suggest) fails the host name check.",
    Category.DISCOVERY,
    severity=Severity.ERROR,
    check_key=HOSTNAME_CHECK_KEY,
    citation="ios-trust-rules.md ios13_san_only; RFC 6186 / RFC 8314 §5.1",
    fix="Add the name to the certificate's subject alternative names, or point the DNS "
    "records at a name the certificate covers.",
    user_sees="An iPhone set up with the discovered name shows 'Cannot Verify Server Identity'.",
)
_register(
    RULE_DISCOVERY_FAILED,
    "No mail host found for the domain",
    "DNS discovery for a mail domain failed, ran out of time or found no mail host (no SRV or "
    "MX record, and none of imap., mail., pop., smtp. resolves): nothing could be checked.",
    Category.DISCOVERY,
    severity=Severity.ERROR,
    citation="RFC 6186; RFC 8314 §5.1",
    fix="Check the domain's SRV and MX records, or name the mail host directly.",
)
_register(
    RULE_DOMAIN_NOT_A_HOST,
    "The domain itself is not a host",
    "A bare domain given as a target has no address of its own; only the mail hosts found in "
    "its DNS records are probed.",
    Category.DISCOVERY,
    severity=Severity.INFO,
    citation="RFC 6186; RFC 8314 §5.1",
)
_ANALYSIS_ERROR = _register(
    RULE_ANALYSIS_ERROR,
    "mailtls could not finish the analysis",
    "The transport findings or the chain analysis of an endpoint raised an error; the "
    "report keeps the probe result and says so instead of losing the endpoint.",
    Category.NOTICE,
    severity=Severity.ERROR,
    citation="mailtls (a bug in mailtls, not a server problem)",
    note="Should never appear; please report it with the output of --debug.",
)


def analysis_error_finding(url: str, what: str, exc: BaseException) -> Finding:
    """``what`` (e.g. "the chain analysis") failed for the endpoint at ``url``."""
    return Finding(
        rule_id=_ANALYSIS_ERROR.id,
        title=_ANALYSIS_ERROR.title,
        category=_ANALYSIS_ERROR.category,
        severity=_ANALYSIS_ERROR.severity,
        summary=f"{url}: {what} failed ({type(exc).__name__}: {exc}); "
        "this is a bug in mailtls, please report it.",
        evidence={"exception": type(exc).__name__, "message": str(exc)},
        citation=_ANALYSIS_ERROR.citation,
    )


def _leaf(report: EndpointReport) -> tuple[str, str] | None:
    """(sha256, subject) of the leaf an endpoint served, when it served one."""
    if report.analysis is not None and report.analysis.chain:
        leaf = report.analysis.chain[0]
        return leaf.sha256, leaf.subject
    return None


def _where(reports: Sequence[EndpointReport]) -> str:
    """'127.0.0.1 ports 993, 587; ::1 port 993' for a group of endpoints."""
    by_address: dict[str, list[str]] = {}
    for r in reports:
        by_address.setdefault(r.endpoint.address or "?", []).append(str(r.endpoint.port))
    parts = []
    for address, ports in by_address.items():
        unique = list(dict.fromkeys(ports))
        word = "port" if len(unique) == 1 else "ports"
        parts.append(f"{address} {word} {', '.join(unique)}")
    return "; ".join(parts)


def consistency_findings(reports: Sequence[EndpointReport]) -> tuple[Finding, ...]:
    """One finding per host whose addresses/ports serve more than one leaf certificate."""
    by_host: dict[str, list[EndpointReport]] = {}
    for r in reports:
        if _leaf(r) is not None:
            by_host.setdefault(r.endpoint.host, []).append(r)
    findings = []
    for host, group in by_host.items():
        leaves: dict[str, list[EndpointReport]] = {}
        for r in group:
            leaf = _leaf(r)
            assert leaf is not None
            leaves.setdefault(leaf[0], []).append(r)
        if len(leaves) < 2:
            continue
        ordered = sorted(leaves.items(), key=lambda kv: -len(kv[1]))
        verdicts = {r.verdict for r in group}
        if verdicts == {Verdict.TRUSTED}:
            severity = Severity.INFO
            user_sees = "Nothing today: every certificate is trusted."
        elif len(verdicts) > 1:
            severity = Severity.ERROR
            user_sees = (
                "The prompt comes and goes: it depends on which address or port the iPhone "
                "happens to reach."
            )
        else:
            severity = Severity.WARNING
            user_sees = (
                "A separate 'Cannot Verify Server Identity' prompt for each certificate; "
                "tapping Trust for one does not cover the others."
            )
        parts = []
        for sha256, members in ordered:
            subject = _leaf(members[0])[1] if _leaf(members[0]) else ""  # type: ignore[index]
            verdict = members[0].verdict
            parts.append(
                f"{_where(members)} serve{'s' if len(members) == 1 else ''} "
                f"{subject or 'a certificate'} ({sha256[:12]}, {verdict or 'no verdict'})"
            )
        findings.append(
            Finding(
                rule_id=_CONSISTENCY.id,
                title=_CONSISTENCY.title,
                category=_CONSISTENCY.category,
                severity=severity,
                summary=f"{host} serves {len(leaves)} different certificates: "
                + "; whereas ".join(parts)
                + ".",
                evidence={
                    "host": host,
                    "certificates": [
                        {
                            "sha256": sha256,
                            "subject": _leaf(members[0])[1],  # type: ignore[index]
                            "verdicts": sorted({str(m.verdict) for m in members}),
                            "endpoints": [
                                {
                                    "url": m.endpoint.url,
                                    "address": m.endpoint.address,
                                    "port": m.endpoint.port,
                                }
                                for m in members
                            ],
                        }
                        for sha256, members in ordered
                    ],
                },
                user_sees=user_sees,
                fix=_CONSISTENCY.fix,
                citation=_CONSISTENCY.citation,
            )
        )
    return tuple(findings)


def domain_without_address_finding(domain: str, reason: str) -> Finding:
    """A bare domain that is not itself a host: only its discovered mail hosts are probed."""
    meta = RULES[RULE_DOMAIN_NOT_A_HOST]
    return Finding(
        rule_id=meta.id,
        title=meta.title,
        category=meta.category,
        severity=meta.severity,
        summary=f"{domain} has no address of its own ({reason}); only the mail hosts found "
        "in its DNS records were probed.",
        evidence={"domain": domain, "reason": reason},
        citation=meta.citation,
    )


def discovery_failed_finding(domain: str, reason: str) -> Finding:
    """Discovery for a domain failed or found nothing: nothing could be checked there."""
    meta = RULES[RULE_DISCOVERY_FAILED]
    return Finding(
        rule_id=meta.id,
        title=meta.title,
        category=meta.category,
        severity=meta.severity,
        summary=reason,
        evidence={"domain": domain},
        fix=meta.fix,
        citation=meta.citation,
    )


def _name_covered(report: EndpointReport) -> bool:
    assert report.analysis is not None
    return not any(
        f.check_key == HOSTNAME_CHECK_KEY or f.rule_id in HOSTNAME_RULES
        for f in report.analysis.findings
    )


def _leaf_dns_names(report: EndpointReport) -> list[str]:
    if report.analysis is None or not report.analysis.chain:
        return []
    return [n[4:] for n in report.analysis.chain[0].san if n.startswith("DNS:")]


def discovery_findings(
    hosts: Sequence[HostSource], reports: Sequence[EndpointReport]
) -> tuple[Finding, ...]:
    """For each discovered host name: does the certificate served there cover it?"""
    sources: dict[str, list[str]] = {}
    for source in hosts:
        if source.source != "argument":
            sources.setdefault(source.host, []).append(source.source)
    covered, not_covered = RULES[RULE_DISCOVERY_COVERED], RULES[RULE_DISCOVERY_NOT_COVERED]
    findings = []
    for host, origins in sources.items():
        judged = [r for r in reports if r.endpoint.host == host and r.analysis is not None]
        if not judged:
            continue
        uncovered = [r for r in judged if not _name_covered(r)]
        origin = ", ".join(dict.fromkeys(origins))
        if not uncovered:
            findings.append(
                Finding(
                    rule_id=covered.id,
                    title=covered.title,
                    category=covered.category,
                    severity=covered.severity,
                    summary=f"{host} (from {origin}) is covered by the certificate served "
                    f"there ({_where(judged)}).",
                    evidence={"host": host, "sources": origins, "covered": True},
                    citation=covered.citation,
                )
            )
            continue
        names = _leaf_dns_names(uncovered[0])
        served = f"it is for {', '.join(names[:4])}" if names else "it names no DNS host"
        findings.append(
            Finding(
                rule_id=not_covered.id,
                title=not_covered.title,
                category=not_covered.category,
                severity=not_covered.severity,
                summary=f"{host} (from {origin}) is not covered by the certificate served "
                f"at {_where(uncovered)}: {served}.",
                evidence={
                    "host": host,
                    "sources": origins,
                    "covered": False,
                    "certificate_names": names,
                    "endpoints": [
                        r.endpoint.url + " " + (r.endpoint.address or "") for r in uncovered
                    ],
                },
                check_key=not_covered.check_key,
                user_sees=(
                    f"An iPhone set up with {host} (as the DNS records suggest) shows "
                    "'Cannot Verify Server Identity'."
                ),
                fix=(
                    f"Add {host} to the certificate's subject alternative names, or point "
                    f"the DNS records ({origin}) at a name the certificate covers."
                ),
                citation=not_covered.citation,
            )
        )
    return tuple(findings)
