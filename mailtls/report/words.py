"""The words people read, shared by the text report and the TUI.

Pure functions over :mod:`mailtls.model` values; no Textual, no I/O, no clock (the
"now" of a chain view is the analysis's ``evaluated_at``). Front ends add colour on
top, but every state is also spelled out in words, so nothing depends on colour alone.
The verdict words themselves are :attr:`mailtls.model.Verdict.label`.

Contract:

* :func:`overview_rank` orders endpoints worst first (fatal, prompt, needs profile,
  could not check, not offered, trusted with warnings, trusted).
* :func:`verdict_label` (the verdict, or why there is none) / :func:`state_label` give
  the short column text.
* :func:`summary_sentences` gives the sentences to read to the user, worst first; the
  first one is *the* summary of the report.
* :func:`certificate_fields` lists the fields of one certificate with the problem
  fields flagged by the findings that point at them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from mailtls.model import (
    Analysis,
    AnchorKind,
    CertificateInfo,
    EndpointReport,
    Finding,
    Report,
    Severity,
    Status,
    Verdict,
)

# --------------------------------------------------------------------------- verdicts

#: One phrase per verdict: what happens on the iPhone.
VERDICT_MEANINGS: dict[Verdict, str] = {
    Verdict.FATAL: "Mail cannot connect; tapping Trust does not help",
    Verdict.PROMPT: 'Mail shows "Cannot Verify Server Identity"',
    Verdict.NEEDS_PROFILE: "Mail warns until the company root is installed and fully trusted",
    Verdict.TRUSTED: "Mail connects without a warning",
}

STATUS_LABELS: dict[Status, str] = {
    Status.OK: "checked",
    Status.NO_TLS: "no TLS offered",
    Status.REFUSED: "not offered (refused)",
    Status.TIMEOUT: "timed out",
    Status.HANDSHAKE_FAILED: "TLS handshake failed",
    Status.PROTOCOL_ERROR: "protocol error",
    Status.DNS_ERROR: "name not found (DNS)",
    Status.UNREACHABLE: "unreachable",
    Status.ERROR: "error",
}

#: Severity words for a column; spelled out, never colour alone.
SEVERITY_LABELS: dict[Severity, str] = {
    Severity.FATAL: "FATAL",
    Severity.ERROR: "ERROR",
    Severity.WARNING: "WARNING",
    Severity.INFO: "INFO",
}

ANCHOR_MEANINGS: dict[AnchorKind, str] = {
    AnchorKind.SYS: "ends in a root the iPhone ships with",
    AnchorKind.USR: "ends in a root installed by a profile (full trust) or MDM",
    AnchorKind.USR_LEAF: "the server certificate itself is trusted on the iPhone",
    AnchorKind.NONE: "does not end in a root the iPhone trusts",
}


_RANK_NOT_OFFERED = 4


def overview_rank(report: EndpointReport) -> int:
    """Lower is worse. Used to sort the overview worst first."""
    verdict = report.verdict
    if verdict is None:
        if report.probe.status in (Status.REFUSED, Status.DNS_ERROR):
            return _RANK_NOT_OFFERED  # the host simply does not offer this service
        return 3
    if verdict is not Verdict.TRUSTED:
        return Verdict.FATAL.rank - verdict.rank  # fatal 0, prompt 1, needs profile 2
    if any(f.severity.rank >= Severity.WARNING.rank for f in endpoint_findings(report)):
        return 5
    return 6


def sort_worst_first(endpoints: Iterable[EndpointReport]) -> list[EndpointReport]:
    return sorted(
        endpoints,
        key=lambda er: (overview_rank(er), er.endpoint.port, er.endpoint.address or ""),
    )


#: Column words for endpoints without a verdict (short: the Problem column says more).
UNCHECKED_LABELS: dict[Status, str] = {
    Status.OK: "NOT JUDGED",
    Status.NO_TLS: "NO TLS",
    Status.REFUSED: "NOT OFFERED",
    Status.TIMEOUT: "TIMED OUT",
    Status.HANDSHAKE_FAILED: "TLS FAILED",
    Status.PROTOCOL_ERROR: "PROTOCOL ERR",
    Status.DNS_ERROR: "NO DNS NAME",
    Status.UNREACHABLE: "UNREACHABLE",
    Status.ERROR: "ERROR",
}


def verdict_label(report: EndpointReport) -> str:
    """The verdict column: TRUSTED, PROMPT, ... or, without a verdict, why (TIMED OUT)."""
    if report.verdict is not None:
        return report.verdict.label
    return UNCHECKED_LABELS[report.probe.status]


def state_label(report: EndpointReport) -> str:
    """What happened on the wire, in words."""
    probe = report.probe
    if probe.status is Status.OK:
        version = f" ({probe.tls_version})" if probe.tls_version else ""
        return f"checked{version}"
    return STATUS_LABELS[probe.status]


def service_label(report: EndpointReport) -> str:
    """``IMAP  993 TLS`` style: protocol, port and how TLS starts."""
    endpoint = report.endpoint
    mode = "STARTTLS" if endpoint.tls_mode.value == "starttls" else "TLS"
    return f"{endpoint.protocol.value.upper()} {endpoint.port} {mode}"


def endpoint_findings(report: EndpointReport) -> list[Finding]:
    """Trust findings and transport findings of one endpoint, worst first."""
    findings: list[Finding] = []
    if report.analysis is not None:
        findings.extend(report.analysis.findings)
    findings.extend(report.findings)
    return sort_findings(findings)


#: Generic "no path to a trusted root" keys: listed after the more specific problems
#: (a wrong host name, a missing intermediate the server should send, an expiry).
_ROOT_ONLY_KEYS = frozenset({"AnchorTrusted", "MissingIntermediate"})
_ROOT_ONLY_RULES = frozenset({"chain_anchor_required"})


def _only_the_root(finding: Finding) -> bool:
    if finding.check_key:
        return finding.check_key in _ROOT_ONLY_KEYS
    return finding.rule_id in _ROOT_ONLY_RULES


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst severity first; the generic "no trusted root" after the specific; trust first.

    When a chain is both untrusted and wrong (say, for another host name), the wrong
    part is what to tell first: installing the root would not cure it. And "the server
    does not send the intermediate" says more than "no path to a root".
    """
    return sorted(
        findings,
        key=lambda f: (
            -f.severity.rank,
            _only_the_root(f),
            f.category.value != "trust",
        ),
    )


def top_finding(report: EndpointReport) -> Finding | None:
    findings = endpoint_findings(report)
    return findings[0] if findings else None


# --------------------------------------------------------------------------- sentences


def _lower_first(sentence: str) -> str:
    """Lower-case the first word if it is an ordinary capitalised word ("The", not "TLS")."""
    sentence = sentence.strip().rstrip(".")
    word = sentence.split(" ", 1)[0]
    if len(word) > 1 and word[0].isupper() and word[1:].islower():
        return sentence[0].lower() + sentence[1:]
    return sentence


def _ports(reports: Sequence[EndpointReport]) -> str:
    ports = sorted({er.endpoint.port for er in reports})
    words = ", ".join(str(p) for p in ports)
    return f"port {words}" if len(ports) == 1 else f"ports {words}"


def _roles(reports: Sequence[EndpointReport]) -> str:
    roles = {er.endpoint.service.role for er in reports}
    if roles == {"incoming", "outgoing"}:
        return "incoming and outgoing mail"
    return f"{roles.pop()} mail"


def _hostname_reason(report: EndpointReport) -> str:
    """ "the certificate there is for server17.hoster.net, not mail.example.com"."""
    analysis = report.analysis
    if analysis is None or not analysis.chain:
        return ""
    leaf = analysis.chain[0]
    host = report.endpoint.host
    names = [n.split(":", 1)[1] for n in leaf.san if n.startswith(("DNS:", "IP:"))]
    if names:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        return f"the certificate there is for {shown}, not {host}"
    if leaf.subject_cn:
        return (
            f"the certificate there names {leaf.subject_cn} only in its subject CN, "
            "which iOS ignores"
        )
    return ""


def _reason(report: EndpointReport) -> str:
    """Why: the worst finding's summary, else the analysis's read-out sentence."""
    finding = top_finding(report)
    if finding is not None and finding.check_key == "SSLHostname":
        said = _hostname_reason(report)
        if said:
            return said
    if finding is not None and finding.summary:
        return _lower_first(finding.summary)
    analysis = report.analysis
    if analysis is not None and analysis.summary and analysis.verdict is not Verdict.TRUSTED:
        return _lower_first(analysis.summary)
    return ""


def group_sentence(reports: Sequence[EndpointReport]) -> str:
    """One sentence for endpoints that share the same verdict and reason."""
    first = reports[0]
    where = f"{_roles(reports)} ({_ports(reports)})"
    reason = _reason(first)
    verdict = first.verdict
    if verdict is Verdict.FATAL:
        head = f"The iPhone cannot use {where}, not even after tapping Trust"
    elif verdict is Verdict.PROMPT:
        head = f"The iPhone will warn on {where}"
    elif verdict is Verdict.NEEDS_PROFILE:
        head = f"The iPhone will warn on {where} until the company root certificate is installed and trusted"
    elif verdict is Verdict.TRUSTED:
        head = f"{where[0].upper()}{where[1:]} works without a warning"
        warning = top_finding(first)
        if warning is None or warning.severity.rank < Severity.WARNING.rank:
            return head + "."
    else:
        status = first.probe.status
        if status in (Status.REFUSED, Status.DNS_ERROR):
            why = (
                "the connection was refused" if status is Status.REFUSED else "no such name in DNS"
            )
            return f"{where[0].upper()}{where[1:]} is not offered by this host ({why})."
        detail = first.probe.error or STATUS_LABELS[status]
        return f"{where[0].upper()}{where[1:]} could not be checked: {_lower_first(detail)}."
    return f"{head}: {reason}." if reason else f"{head}."


def summary_sentences(report: Report, *, retry_hint: str = "") -> list[str]:
    """Sentences to read to the user, worst first; groups endpoints with the same story.
    ``retry_hint`` ends the "nothing could be checked" sentence (e.g. the key to press)."""
    groups: dict[tuple[int, str | None, str, str], list[EndpointReport]] = {}
    endpoints = sort_worst_first(report.endpoints)
    offered = [er for er in endpoints if overview_rank(er) != _RANK_NOT_OFFERED]
    for er in offered or endpoints:  # ports the host does not offer: only if nothing else
        finding = top_finding(er)
        key = (
            overview_rank(er),
            er.verdict.value if er.verdict else er.probe.status.value,
            finding.rule_id if finding else "",
            _reason(er),
        )
        groups.setdefault(key, []).append(er)
    sentences = [group_sentence(members) for members in groups.values()]
    if endpoints and all(er.analysis is None for er in endpoints):
        sentences.append(
            "No certificate could be checked: check the host name and address, and that the "
            f"mail server is running and reachable from here{retry_hint}."
        )
    if not sentences:
        if report.errors:
            return [f"Nothing was checked: {report.errors[0]}"]
        return ["Nothing was checked."]
    return sentences


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class CertField:
    """One row of the chain view."""

    key: str  # stable id: "san", "validity", "key", "signature", ...
    label: str
    value: str
    problems: tuple[Finding, ...] = ()

    @property
    def is_problem(self) -> bool:
        return bool(self.problems)


#: Apple check keys -> the certificate field they judge.
CHECK_KEY_FIELDS: dict[str, str] = {
    "SSLHostname": "san",
    "TemporalValidity": "validity",
    "OtherTrustValidityPeriod": "validity",
    "SystemTrustValidityPeriod": "validity",
    "ValidityPeriodMaximums": "validity",
    "KeySize": "key",
    "WeakKeySize": "key",
    "SignatureHashAlgorithms": "signature",
    "WeakSignature": "signature",
    "BasicConstraints": "basic_constraints",
    "BasicConstraintsCA": "basic_constraints",
    "BasicConstraintsPathLen": "basic_constraints",
    "KeyUsage": "key_usage",
    "ExtendedKeyUsage": "eku",
    "ServerAuthEKU": "eku",
    "AnchorTrusted": "issuer",
    "MissingIntermediate": "issuer",
    "IdLinkage": "issuer",
    "NonEmptySubject": "subject",
    "CriticalExtensions": "extensions",
    "DuplicateExtension": "extensions",
    "UnparseableExtension": "extensions",
}

#: Fallback when a finding has no check key: words in the rule id -> field.
_RULE_WORDS: tuple[tuple[str, str], ...] = (
    ("san", "san"),
    ("hostname", "san"),
    ("ip_address", "san"),
    ("validity", "validity"),
    ("expir", "validity"),
    ("temporal", "validity"),
    ("key_size", "key"),
    ("weak_key", "key"),
    ("sha", "signature"),
    ("signature", "signature"),
    ("basic_constraints", "basic_constraints"),
    ("keycertsign", "key_usage"),
    ("eku", "eku"),
    ("anchor", "issuer"),
    ("intermediate", "issuer"),
    ("self_signed", "issuer"),
)


def finding_field(finding: Finding) -> str | None:
    """The certificate field a finding is about, if any."""
    if finding.check_key and finding.check_key in CHECK_KEY_FIELDS:
        return CHECK_KEY_FIELDS[finding.check_key]
    rule = finding.rule_id.lower()
    for word, field_key in _RULE_WORDS:
        if word in rule:
            return field_key
    return None


def spaced_hex(hex_digest: str) -> str:
    """``2B C6 37 ...``: a fingerprint as the iPhone's certificate details print it."""
    upper = hex_digest.upper()
    return " ".join(upper[i : i + 2] for i in range(0, len(upper), 2))


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "unknown"


def validity_text(cert: CertificateInfo, at: datetime | None) -> str:
    """``2025-01-01 → 2026-01-01 (365 days), expired 3 days ago``."""
    days = cert.validity_days
    if days is None and cert.not_before and cert.not_after:
        days = (cert.not_after - cert.not_before).total_seconds() / 86400
    length = f" ({days:.0f} days)" if days is not None else ""
    text = f"{_date(cert.not_before)} to {_date(cert.not_after)}{length}"
    if at is not None and cert.not_after is not None and cert.not_before is not None:
        if at > cert.not_after:
            ago = (at - cert.not_after).days
            text += f"; EXPIRED {ago} day{'s' if ago != 1 else ''} ago"
        elif at < cert.not_before:
            text += "; NOT YET VALID"
        else:
            left = (cert.not_after - at).days
            text += f"; {left} day{'s' if left != 1 else ''} left"
    return text


def key_text(cert: CertificateInfo) -> str:
    return f"{cert.key_type} {cert.key_size} bits" if cert.key_size else cert.key_type


def basic_constraints_text(cert: CertificateInfo) -> str:
    bc = cert.basic_constraints
    if bc is None:
        return "(no extension)"
    parts = ["CA:TRUE" if bc.get("ca") else "CA:FALSE"]
    if bc.get("path_length") is not None:
        parts.append(f"path length {bc['path_length']}")
    if bc.get("critical"):
        parts.append("critical")
    return ", ".join(parts)


def _names(values: tuple[str, ...] | None, empty: str) -> str:
    if values is None:
        return empty
    return ", ".join(values) if values else "(empty)"


def _san_text(cert: CertificateInfo) -> str:
    if cert.san:
        return ", ".join(cert.san)
    if cert.index == 0:
        return "(none: iOS never uses the CN, so no host name matches)"
    return "(none)"


def certificate_role(cert: CertificateInfo, chain_length: int) -> str:
    if cert.index == 0:
        return "server certificate"
    if cert.self_signed:
        return "root"
    return "intermediate" if cert.index < chain_length else "certificate"


def certificate_fields(
    cert: CertificateInfo, findings: Iterable[Finding], at: datetime | None
) -> list[CertField]:
    """The fields that matter for iOS, with the findings that point at each one."""
    by_field: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.cert_index is not None and finding.cert_index != cert.index:
            continue
        field_key = finding_field(finding)
        if field_key is None:
            continue
        if finding.cert_index is None and field_key not in ("san", "issuer"):
            continue  # a whole-chain finding only marks the fields every chain has
        if finding.cert_index is None and field_key == "san" and cert.index != 0:
            continue
        if finding.cert_index is None and field_key == "issuer" and cert.index != 0:
            continue
        by_field.setdefault(field_key, []).append(finding)
    signature = cert.signature_algorithm
    rows = [
        ("subject", "Subject", cert.subject or "(empty)"),
        ("issuer", "Issuer", cert.issuer or "(empty)"),
        ("san", "Names (SAN)", _san_text(cert)),
        ("validity", "Valid", validity_text(cert, at)),
        ("key", "Key", key_text(cert)),
        ("signature", "Signature", signature + (" (self-signed)" if cert.self_signed else "")),
        ("basic_constraints", "Basic constr.", basic_constraints_text(cert)),
        ("key_usage", "Key usage", _names(cert.key_usage, "(no extension)")),
        ("eku", "Ext. key usage", _names(cert.eku, "(no extension)")),
        ("sha256", "SHA-256", spaced_hex(cert.sha256)),
        ("sha1", "SHA-1", spaced_hex(cert.sha1)),
    ]
    fields = [
        CertField(key, label, value, tuple(by_field.get(key, ()))) for key, label, value in rows
    ]
    if cert.parse_errors:
        fields.append(CertField("parse_errors", "Not readable", "; ".join(cert.parse_errors)))
    extension_problems = tuple(by_field.get("extensions", ()))
    if extension_problems:
        names = ", ".join(
            f"{e.get('name') or e.get('oid')}{' (critical)' if e.get('critical') else ''}"
            for e in cert.extensions
        )
        fields.append(CertField("extensions", "Extensions", names or "?", extension_problems))
    return fields


def path_lines(analysis: Analysis) -> list[str]:
    """The path iOS would build, leaf first, one line per certificate."""
    lines = []
    for position, element in enumerate(analysis.path):
        where = (
            f"sent by the server as #{element.index}"
            if element.index is not None
            else f"not sent; found in: {element.source}"
        )
        arrow = "  " * position + ("└ " if position else "")
        lines.append(f"{arrow}{element.subject}  [{where}]")
    anchor = ANCHOR_MEANINGS[analysis.anchor_kind]
    lines.append(f"Anchor: {analysis.anchor_kind.value}: the path {anchor}.")
    return lines


# --------------------------------------------------------------------------- findings


def evidence_lines(finding: Finding) -> list[str]:
    lines = []
    for key, value in finding.evidence.items():
        if isinstance(value, list | tuple):
            shown = ", ".join(str(v) for v in value) or "(none)"
        elif isinstance(value, datetime):
            shown = _date(value)
        else:
            shown = str(value)
        lines.append(f"{key.replace('_', ' ')}: {shown}")
    return lines


def report_findings(report: Report) -> list[tuple[EndpointReport | None, Finding]]:
    """Every finding of the report once, worst first, with the endpoint it belongs to."""
    seen: set[tuple[str, str, int | None]] = set()
    out: list[tuple[EndpointReport | None, Finding]] = []
    for er in sort_worst_first(report.endpoints):
        for finding in endpoint_findings(er):
            key = (finding.rule_id, finding.summary, finding.cert_index)
            if key in seen:
                continue
            seen.add(key)
            out.append((er, finding))
    for finding in sort_findings(report.findings):
        out.append((None, finding))
    return out


def endpoints_with_finding(report: Report, finding: Finding) -> list[EndpointReport]:
    return [
        er
        for er in report.endpoints
        if any(
            f.rule_id == finding.rule_id and f.summary == finding.summary
            for f in endpoint_findings(er)
        )
    ]
