"""``--format nagios``: the monitoring-plugin convention (Nagios, Icinga, Naemon, Checkmk).

First line: ``MAILTLS OK|WARNING|CRITICAL|UNKNOWN - text | perfdata``; then one line per
endpoint that is not OK (long output). The process exits with the state's number
(0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), whatever ``--fail-on`` says.

States (monitoring-plugins guidelines: a timeout or a name that does not resolve is a
fact about the service, CRITICAL, not UNKNOWN):

* CRITICAL: an iPhone would prompt or fail (verdict prompt, needs_profile or fatal, or an
  error finding), or an endpoint could not be reached or read;
* WARNING: everything is trusted, but there is a warning (expiry within 30 days, TLS 1.0
  accepted, the certificate changed while still untrusted, ...);
* UNKNOWN: nothing could be checked (only bad targets);
* OK.

Perfdata: for every chain element, days until it expires
(``'imaps_993_127.0.0.1_days_chain_elem0'=42;30;0``; warning below 30, critical below 0),
and ``endpoints``, ``endpoints_trusted``, ``time``.
"""

from __future__ import annotations

import math
from enum import IntEnum

from mailtls.model import EndpointReport, Report, Severity
from mailtls.report.outcome import Level, counts, endpoint_sentence, level, worst_severity
from mailtls.report.words import verdict_label

WARNING_DAYS = 30


class NagiosState(IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


def endpoint_state(report: EndpointReport) -> NagiosState:
    endpoint_level = level(report)
    if endpoint_level in (Level.FATAL, Level.PROMPT, Level.NEEDS_PROFILE, Level.UNCHECKED):
        return NagiosState.CRITICAL
    if endpoint_level is Level.WARNING:
        return NagiosState.WARNING
    return NagiosState.OK


def state(report: Report) -> NagiosState:
    if not report.endpoints:
        return NagiosState.UNKNOWN
    worst = max(endpoint_state(e) for e in report.endpoints)
    cross = worst_severity(report.findings)
    if cross >= Severity.ERROR.rank:
        worst = max(worst, NagiosState.CRITICAL)
    elif cross >= Severity.WARNING.rank:
        worst = max(worst, NagiosState.WARNING)
    return worst


def _label(text: str) -> str:
    """Perfdata labels are quoted; quotes and '=' are not allowed inside."""
    return "'" + text.replace("'", "_").replace("=", "_") + "'"


def perfdata(report: Report) -> list[str]:
    items = []
    for endpoint_report in report.endpoints:
        analysis = endpoint_report.analysis
        if analysis is None:
            continue
        endpoint = endpoint_report.endpoint
        prefix = f"{endpoint.scheme}_{endpoint.port}_{endpoint.address or endpoint.host}"
        for cert in analysis.chain:
            if cert.not_after is None:
                continue
            days = math.floor((cert.not_after - analysis.evaluated_at).total_seconds() / 86400)
            items.append(
                f"{_label(f'{prefix}_days_chain_elem{cert.index}')}={days};{WARNING_DAYS};0"
            )
    c = counts(report)
    items.append(f"'endpoints'={c['endpoints']};;;0")
    items.append(f"'endpoints_trusted'={c['trusted']};;;0;{c['endpoints']}")
    seconds = (report.finished_at - report.started_at).total_seconds()
    items.append(f"'time'={seconds:.3f}s;;;0")
    return items


def render(report: Report) -> str:
    current = state(report)
    c = counts(report)
    bad = [e for e in report.endpoints if endpoint_state(e) is not NagiosState.OK]
    if current is NagiosState.UNKNOWN:
        text = "nothing checked: " + ("; ".join(report.errors) or "no endpoints")
    elif not bad and current is NagiosState.OK:
        text = f"all {c['endpoints']} endpoints trusted"
    else:
        parts = []
        for e in sorted(bad, key=lambda e: -level(e))[:3]:
            parts.append(f"{e.endpoint.url} {e.endpoint.address or ''}: {endpoint_sentence(e)}")
        more = f" (+{len(bad) - 3} more)" if len(bad) > 3 else ""
        head = f"{len(bad)} of {c['endpoints']} endpoints need attention"
        if not bad:
            head = "cross-endpoint findings"
        text = head + (": " + " / ".join(parts) if parts else "") + more
    text = text.replace("|", "/").replace("\n", " ")
    lines = [f"MAILTLS {current.name} - {text} | {' '.join(perfdata(report))}"]
    for e in sorted(report.endpoints, key=lambda e: -level(e)):
        endpoint_current = endpoint_state(e)
        lines.append(
            f"[{endpoint_current.name}] {verdict_label(e)} {e.endpoint.url} "
            f"{e.endpoint.address or ''}: {endpoint_sentence(e)}".replace("|", "/")
        )
    lines.extend(f"[{f.severity}] {f.summary}".replace("|", "/") for f in report.findings)
    lines.extend(f"[UNKNOWN] {err}".replace("|", "/") for err in report.errors)
    return "\n".join(lines) + "\n"
