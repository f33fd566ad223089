"""``--format json`` and ``--format jsonl``: what scripts consume.

The names are a contract (docs/json.md, docs/schema/check-report.schema.json): fields may
be added, never renamed or removed; ``schema_version`` changes its major number only when
that promise is broken.

* json: one document ``{schema_version, tool, targets, started_at, finished_at, options,
  errors, hosts, findings, summary, endpoints: [...]}``.
* jsonl: one object per line, written as results arrive. Every line has ``record``:
  ``"endpoint"`` (the same object as in ``endpoints``, plus ``schema_version``),
  ``"finding"`` (a cross-endpoint finding, written at the end) or ``"error"`` (a bad target
  line). Lines are self-contained, so the outputs of shards concatenate.
"""

from __future__ import annotations

import functools
import json
import weakref
from typing import IO, Any

from mailtls import __version__
from mailtls.model import Analysis, EndpointReport, Finding, Report
from mailtls.report.outcome import FailOn, Tally, counts, endpoint_sentence, exit_code, level
from mailtls.serialize import to_jsonable

SCHEMA_VERSION = "1.1"


def finding_to_json(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(finding)
    return data


class _AnalysisCache:
    """The JSON of an Analysis, made once: the endpoints of a host usually share one.

    Keyed by identity (the service hands the same object to every endpoint with the same
    chain and host). An entry holds the analysis weakly and leaves when the analysis is
    let go (a streamed fleet check lets go of each host's analysis once the host is
    finished: the cache must not keep them, issue 8), before its id can be reused.
    Bounded as well, so a long TUI session does not grow it.
    """

    SIZE = 256

    def __init__(self) -> None:
        self.items: dict[int, tuple[weakref.ref[Analysis], dict[str, Any]]] = {}

    def get(self, analysis: Analysis) -> dict[str, Any]:
        key = id(analysis)
        hit = self.items.get(key)
        if hit is not None and hit[0]() is analysis:
            return hit[1]
        data = {
            "chain": to_jsonable(analysis.chain),
            "path": to_jsonable(analysis.path),
            "findings": [finding_to_json(f) for f in analysis.findings],
            "evaluated_at": to_jsonable(analysis.evaluated_at),
        }
        if len(self.items) >= self.SIZE:
            self.items.pop(next(iter(self.items)))
        self.items[key] = (weakref.ref(analysis, functools.partial(self._gone, key)), data)
        return data

    def _gone(self, key: int, ref: weakref.ref[Analysis]) -> None:
        entry = self.items.get(key)
        if entry is not None and entry[0] is ref:  # not a newer entry under a reused id
            del self.items[key]


_ANALYSES = _AnalysisCache()


def endpoint_to_json(report: EndpointReport) -> dict[str, Any]:
    """One endpoint, with every name of the contract present (null when unknown).

    Read-only: the chain/path/finding dicts are shared with other endpoints of the chain.
    """
    probe = report.probe
    endpoint = probe.endpoint
    analysis = report.analysis
    judged = _ANALYSES.get(analysis) if analysis else None
    trust: list[dict[str, Any]] = judged["findings"] if judged else []
    return {
        "url": endpoint.url,
        "scheme": endpoint.scheme,
        "host": endpoint.host,
        "address": endpoint.address,
        "port": endpoint.port,
        "protocol": str(endpoint.protocol),
        "tls_mode": str(endpoint.tls_mode),
        "status": str(probe.status),
        "error": probe.error,
        "phase": str(probe.phase) if probe.phase else None,
        "started_at": to_jsonable(probe.started_at),
        "elapsed_ms": round(probe.elapsed_ms, 1),
        "tls_version": probe.tls_version,
        "cipher": probe.cipher,
        "accepted_tls_versions": dict(probe.accepted_tls_versions),
        "capabilities": to_jsonable(probe.capabilities),
        "chain": list(judged["chain"]) if judged else [],
        "path": list(judged["path"]) if judged else [],
        "verdict": str(analysis.verdict) if analysis else None,
        "anchor_kind": str(analysis.anchor_kind) if analysis else None,
        "trust_store": analysis.trust_store if analysis else None,
        "ios_version": analysis.ios_version if analysis else None,
        "evaluated_at": judged["evaluated_at"] if judged else None,
        "user_sees": analysis.user_sees if analysis else None,
        "level": level(report).name.lower(),
        "findings": [*trust, *(finding_to_json(f) for f in report.findings)],
        "summary": endpoint_sentence(report),
    }


def report_to_json(report: Report, fail_on: FailOn | str = FailOn.PROMPT) -> dict[str, Any]:
    summary: dict[str, Any] = dict(counts(report))
    summary["exit_code"] = int(exit_code(report, fail_on))
    summary["fail_on"] = str(FailOn(fail_on))
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mailtls", "version": __version__},
        "targets": list(report.targets),
        "started_at": to_jsonable(report.started_at),
        "finished_at": to_jsonable(report.finished_at),
        "options": to_jsonable(report.options),
        "errors": list(report.errors),
        "hosts": to_jsonable(report.hosts),
        "findings": [finding_to_json(f) for f in report.findings],
        "summary": summary,
        "endpoints": [endpoint_to_json(e) for e in report.endpoints],
    }


def render(report: Report, fail_on: FailOn | str = FailOn.PROMPT) -> str:
    return json.dumps(report_to_json(report, fail_on), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- JSON Lines


def _line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def endpoint_line(report: EndpointReport) -> str:
    return _line(
        {"record": "endpoint", "schema_version": SCHEMA_VERSION, **endpoint_to_json(report)}
    )


def closing_lines(report: Report) -> str:
    """The lines written after the last endpoint: cross-endpoint findings and bad targets."""
    lines = [
        _line({"record": "finding", "schema_version": SCHEMA_VERSION, **finding_to_json(f)})
        for f in report.findings
    ]
    lines += [
        _line({"record": "error", "schema_version": SCHEMA_VERSION, "message": e})
        for e in report.errors
    ]
    return "".join(lines)


def render_lines(report: Report) -> str:
    """The whole JSON Lines output at once (the streaming writer produces the same)."""
    return "".join(endpoint_line(e) for e in report.endpoints) + closing_lines(report)


class JsonLinesWriter:
    """Writes one line per endpoint as it finishes (an observer for :func:`service.check`).

    It keeps nothing of an endpoint but its share of the exit code (``tally``), so that a
    check run with ``keep_endpoints=False`` holds no endpoint once its line is written.
    """

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.tally = Tally()

    def on_hosts(self, hosts: Any) -> None:
        pass

    def on_endpoint_started(self, endpoint: Any) -> None:
        pass

    def on_endpoint_done(self, report: EndpointReport) -> None:
        self.stream.write(endpoint_line(report))
        self.stream.flush()
        self.tally.add(report)

    def finish(self, report: Report) -> None:
        self.stream.write(closing_lines(report))
        self.stream.flush()
