"""``--format prometheus``: text exposition format for the node-exporter textfile collector.

Every endpoint has ``mailtls_endpoint_up``; certificate metrics are written for every
chain that was captured, trusted or not, expired or not (blackbox_exporter loses them when
verification fails, #1119 -- the case that matters most here). Write the output atomically
from cron: ``mailtls check ... --format prometheus > x.prom.tmp; mv x.prom.tmp x.prom``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from mailtls.model import EndpointReport, Report, Severity, Verdict
from mailtls.report.outcome import all_findings

_METRICS: tuple[tuple[str, str, str], ...] = (
    (
        "mailtls_endpoint_up",
        "gauge",
        "1 when the endpoint completed a TLS handshake and its chain was captured",
    ),
    (
        "mailtls_endpoint_status",
        "gauge",
        "1 for the probe status of the endpoint (ok, refused, timeout, ...)",
    ),
    ("mailtls_probe_duration_seconds", "gauge", "time the probe of the endpoint took"),
    (
        "mailtls_verdict",
        "gauge",
        "1 for what iPhone Mail does with the chain (trusted, needs_profile, prompt, fatal), 0 otherwise",
    ),
    (
        "mailtls_anchor_kind_info",
        "gauge",
        "kind of root the chain ends in on the iPhone (SYS, USR, USR-LEAF, NONE)",
    ),
    ("mailtls_findings", "gauge", "number of findings of each severity for the endpoint"),
    ("mailtls_tls_version_info", "gauge", "negotiated TLS version"),
    (
        "mailtls_tls_version_accepted",
        "gauge",
        "1 when the server accepts the TLS version, 0 when it refuses it",
    ),
    (
        "mailtls_cert_not_after_timestamp_seconds",
        "gauge",
        "notAfter of each certificate of the chain as served (index 0 = first sent)",
    ),
    (
        "mailtls_cert_not_before_timestamp_seconds",
        "gauge",
        "notBefore of each certificate of the chain as served",
    ),
    ("mailtls_cert_info", "gauge", "identity of each certificate of the chain as served"),
    (
        "mailtls_cross_findings",
        "gauge",
        "findings across endpoints (consistency, discovery) per severity",
    ),
    ("mailtls_check_timestamp_seconds", "gauge", "when the check started"),
    ("mailtls_check_duration_seconds", "gauge", "how long the whole check took"),
    ("mailtls_target_errors", "gauge", "target lines that could not be parsed"),
)


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: object) -> str:
    inner = ",".join(f'{k}="{escape(str(v))}"' for k, v in labels.items() if v is not None)
    return "{" + inner + "}"


def _ts(value: datetime) -> str:
    return f"{value.timestamp():.0f}"


def _endpoint_labels(report: EndpointReport) -> dict[str, object]:
    e = report.endpoint
    return {
        "url": e.url,
        "host": e.host,
        "address": e.address or "",
        "port": e.port,
        "scheme": e.scheme,
        "protocol": str(e.protocol),
        "tls_mode": str(e.tls_mode),
    }


def _endpoint_samples(report: EndpointReport) -> Iterable[tuple[str, str, str]]:
    base = _endpoint_labels(report)
    probe = report.probe
    up = 1 if probe.status == "ok" and probe.chain else 0
    yield "mailtls_endpoint_up", _labels(**base), str(up)
    yield "mailtls_endpoint_status", _labels(**base, status=str(probe.status)), "1"
    yield "mailtls_probe_duration_seconds", _labels(**base), f"{probe.elapsed_ms / 1000:.3f}"
    analysis = report.analysis
    if analysis is not None:
        for verdict in Verdict:
            value = "1" if analysis.verdict is verdict else "0"
            yield "mailtls_verdict", _labels(**base, verdict=str(verdict)), value
        yield (
            "mailtls_anchor_kind_info",
            _labels(**base, anchor_kind=str(analysis.anchor_kind)),
            "1",
        )
    findings = all_findings(report)
    for severity in Severity:
        count = sum(1 for f in findings if f.severity is severity)
        yield "mailtls_findings", _labels(**base, severity=str(severity)), str(count)
    if probe.tls_version:
        yield "mailtls_tls_version_info", _labels(**base, version=probe.tls_version), "1"
    for version, accepted in probe.accepted_tls_versions.items():
        if accepted is not None:
            yield (
                "mailtls_tls_version_accepted",
                _labels(**base, version=version),
                str(int(accepted)),
            )
    if analysis is not None:
        for cert in analysis.chain:
            index = str(cert.index)
            if cert.not_after is not None:
                yield (
                    "mailtls_cert_not_after_timestamp_seconds",
                    _labels(**base, index=index),
                    _ts(cert.not_after),
                )
            if cert.not_before is not None:
                yield (
                    "mailtls_cert_not_before_timestamp_seconds",
                    _labels(**base, index=index),
                    _ts(cert.not_before),
                )
            yield (
                "mailtls_cert_info",
                _labels(
                    **base,
                    index=index,
                    sha256=cert.sha256,
                    subject=cert.subject,
                    issuer=cert.issuer,
                    serial=cert.serial,
                ),
                "1",
            )


def render(report: Report) -> str:
    samples: dict[str, list[str]] = {name: [] for name, _, _ in _METRICS}
    for endpoint_report in report.endpoints:
        for name, labels, value in _endpoint_samples(endpoint_report):
            samples[name].append(f"{name}{labels} {value}")
    for severity in Severity:
        count = sum(1 for f in report.findings if f.severity is severity)
        samples["mailtls_cross_findings"].append(
            f"mailtls_cross_findings{_labels(severity=str(severity))} {count}"
        )
    samples["mailtls_check_timestamp_seconds"].append(
        f"mailtls_check_timestamp_seconds {_ts(report.started_at)}"
    )
    duration = (report.finished_at - report.started_at).total_seconds()
    samples["mailtls_check_duration_seconds"].append(
        f"mailtls_check_duration_seconds {duration:.3f}"
    )
    samples["mailtls_target_errors"].append(f"mailtls_target_errors {len(report.errors)}")
    lines = []
    for name, kind, help_text in _METRICS:
        if not samples[name]:
            continue
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(samples[name])
    return "\n".join(lines) + "\n"
