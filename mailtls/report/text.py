"""``--format text`` (the default): a report a person reads, worst problems first.

Each endpoint starts with its verdict and one sentence a help-desk person can read out,
then the findings (what is wrong, what the iPhone shows, the fix) and the chain as the
server sent it. Colour only when asked for (the caller decides: a terminal and no
``NO_COLOR``); the words carry the meaning without it.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import IO

from mailtls.model import CertificateInfo, EndpointReport, Finding, Report, Severity
from mailtls.report.outcome import (
    Level,
    all_findings,
    endpoint_sentence,
    level,
    summary_sentence,
)
from mailtls.report.words import verdict_label
from mailtls.targets import to_unicode

_COLOURS: dict[Level, str] = {
    Level.FATAL: "1;31",
    Level.PROMPT: "31",
    Level.NEEDS_PROFILE: "33",
    Level.UNCHECKED: "35",
    Level.WARNING: "33",
    Level.TRUSTED: "32",
}
_SEVERITY_MARK: dict[Severity, str] = {
    Severity.FATAL: "✗✗",
    Severity.ERROR: "✗",
    Severity.WARNING: "!",
    Severity.INFO: "·",
}
_SEVERITY_COLOUR: dict[Severity, str] = {
    Severity.FATAL: "1;31",
    Severity.ERROR: "31",
    Severity.WARNING: "33",
    Severity.INFO: "2",
}


def use_colour(stream: IO[str]) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _Painter:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "?"


def _expiry(cert: CertificateInfo, at: datetime) -> str:
    if cert.not_after is None:
        return "no expiry date"
    days = (cert.not_after - at).total_seconds() / 86400
    if days < 0:
        return f"EXPIRED {_date(cert.not_after)}, {int(-days)} days ago"
    return f"expires {_date(cert.not_after)}, in {int(days)} days"


def _cert_line(cert: CertificateInfo, at: datetime) -> str:
    name = cert.subject_cn or cert.subject or "(no subject)"
    dns = [n[4:] for n in cert.san if n.startswith("DNS:")]
    names = f"  names: {', '.join(dns[:5])}{' …' if len(dns) > 5 else ''}" if dns else ""
    return (
        f"{cert.index}  {name}  ({_expiry(cert, at)}; {cert.key_type}"
        f"{' ' + str(cert.key_size) if cert.key_size else ''}; sha256 {cert.sha256[:16]}…)"
        f"{names}"
    )


def finding_tags(finding: Finding) -> list[str]:
    """What a finding line shows in brackets: rule id, Apple's key, result class, certificate."""
    tags = [finding.rule_id]
    if finding.check_key:
        tags.append(finding.check_key)
    if finding.result_class:
        tags.append(str(finding.result_class))
    if finding.cert_index is not None:
        tags.append(f"certificate {finding.cert_index}")
    return tags


def _finding_lines(finding: Finding, paint: _Painter, indent: str) -> list[str]:
    tags = finding_tags(finding)
    mark = paint(_SEVERITY_MARK[finding.severity], _SEVERITY_COLOUR[finding.severity])
    lines = [f"{indent}{mark} {finding.title} [{', '.join(tags)}]"]
    if finding.summary:
        lines.append(f"{indent}    {finding.summary}")
    if finding.user_sees:
        lines.append(f"{indent}    iPhone: {finding.user_sees}")
    if finding.fix:
        lines.append(f"{indent}    Fix: {finding.fix}")
    return lines


def _sorted_findings(findings: tuple[Finding, ...]) -> list[Finding]:
    return sorted(findings, key=lambda f: -f.severity.rank)


def endpoint_lines(report: EndpointReport, paint: _Painter, verbose: bool = False) -> list[str]:
    endpoint_level = level(report)
    label = paint(f"{verdict_label(report):<8}", _COLOURS[endpoint_level])
    probe = report.probe
    facts = [f"at {probe.endpoint.address}" if probe.endpoint.address else ""]
    unicode_host = to_unicode(probe.endpoint.host)
    if unicode_host != probe.endpoint.host:
        facts.insert(0, f"({unicode_host})")
    if probe.tls_version:
        facts.append(probe.tls_version)
    head = f"{label} {paint(probe.endpoint.url, '1')} {' '.join(f for f in facts if f)}"
    lines = [head.rstrip(), f"         {endpoint_sentence(report)}"]
    findings = all_findings(report)
    shown = [f for f in _sorted_findings(findings) if verbose or f.severity is not Severity.INFO]
    for finding in shown:
        lines.extend(_finding_lines(finding, paint, "         "))
    analysis = report.analysis
    if analysis is not None and analysis.chain:
        at = analysis.evaluated_at
        if endpoint_level is Level.TRUSTED and not verbose:
            lines.append(f"         certificate: {_cert_line(analysis.chain[0], at)}")
        else:
            lines.append("         chain as served:")
            lines.extend(f"           {_cert_line(c, at)}" for c in analysis.chain)
    return lines


def _sameness(report: EndpointReport) -> tuple[object, ...] | None:
    """Endpoints with the same chain, verdict and findings are printed in full only once."""
    if report.analysis is None or not report.analysis.chain:
        return None
    return (
        tuple(c.sha256 for c in report.analysis.chain),
        report.analysis.verdict,
        tuple((f.rule_id, f.cert_index, f.summary) for f in report.analysis.findings),
        # transport findings name their endpoint in the summary: compare what they say
        tuple((f.rule_id, f.severity, repr(f.evidence)) for f in report.findings),
    )


def render(report: Report, *, colour: bool = False, verbose: bool = False) -> str:
    paint = _Painter(colour)
    lines: list[str] = []
    targets = ", ".join(report.targets) if report.targets else "(no targets)"
    store = report.options.get("trust_store") or ""
    at = report.options.get("at")
    when = at.strftime("%Y-%m-%d %H:%M UTC") if isinstance(at, datetime) else ""
    lines.append(paint(f"mailtls check {targets}", "1"))
    details = [
        d
        for d in (f"evaluated {when}" if when else "", f"trust store: {store}" if store else "")
        if d
    ]
    if report.options.get("ios_version"):
        details.append(f"iOS {report.options['ios_version']}")
    if details:
        lines.append("  " + "; ".join(details))
    discovered = [h for h in report.hosts if h.source != "argument"]
    if discovered:
        lines.append("")
        lines.append(paint("Host names found in DNS:", "1"))
        for source in discovered:
            services = f" ({', '.join(source.schemes)})" if source.schemes else ""
            port = f" port {source.port}" if source.port else ""
            lines.append(f"  {source.host}{services}{port}  from {source.source}")
    ordered = sorted(report.endpoints, key=lambda e: -level(e))
    shown: dict[tuple[object, ...], str] = {}
    for endpoint_report in ordered:
        lines.append("")
        key = _sameness(endpoint_report)
        if key is not None and key in shown and not verbose:
            lines.extend(endpoint_lines(endpoint_report, paint, verbose)[:2])
            lines.append(f"         Same certificate and findings as {shown[key]}.")
            continue
        if key is not None:
            endpoint = endpoint_report.endpoint
            shown[key] = f"{endpoint.url} at {endpoint.address}"
        lines.extend(endpoint_lines(endpoint_report, paint, verbose))
    cross = _sorted_findings(report.findings)
    if cross:
        lines.append("")
        lines.append(paint("Across endpoints:", "1"))
        for finding in cross:
            lines.extend(_finding_lines(finding, paint, "  "))
    if report.errors:
        lines.append("")
        lines.append(paint("Not checked (bad input):", "1"))
        lines.extend(f"  {error}" for error in report.errors)
    lines.append("")
    lines.append(paint(summary_sentence(report), "1"))
    return "\n".join(lines) + "\n"
