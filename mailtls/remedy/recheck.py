"""Before and after a fix, endpoint by endpoint.

:func:`compare` pairs the endpoints of two reports by (scheme, host, port, address) and
says for each what changed: ``fixed`` (now trusted), ``better``, ``worse``,
``unchanged``, ``new certificate`` (same verdict, another leaf), ``unchecked`` (could not
be checked afterwards), ``new`` or ``gone``. :func:`render_text` lays the rows out side by
side for a terminal; the TUI shows the same rows.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mailtls.model import EndpointReport, Report, Verdict


class Change(StrEnum):
    FIXED = "fixed"
    BETTER = "better"
    WORSE = "worse"
    UNCHANGED = "unchanged"
    NEW_CERTIFICATE = "new certificate"
    UNCHECKED = "unchecked"
    NEW = "new"
    GONE = "gone"


def _badness(verdict: Verdict | None) -> int:
    """:attr:`Verdict.rank`; an endpoint that could not be checked is worse than any."""
    return Verdict.FATAL.rank + 1 if verdict is None else verdict.rank


@dataclass(frozen=True)
class RecheckRow:
    url: str
    address: str | None
    verdict_before: Verdict | None
    verdict_after: Verdict | None
    status_before: str | None  # probe status ("ok", "timeout", ...); None: not in that report
    status_after: str | None
    leaf_sha256_before: str | None
    leaf_sha256_after: str | None
    change: Change

    @property
    def leaf_changed(self) -> bool:
        return (
            self.leaf_sha256_before is not None
            and self.leaf_sha256_after is not None
            and self.leaf_sha256_before != self.leaf_sha256_after
        )


def _leaf_sha256(report: EndpointReport | None) -> str | None:
    if report is None:
        return None
    if report.analysis is not None and report.analysis.chain:
        return report.analysis.chain[0].sha256
    if report.probe.chain:
        return hashlib.sha256(report.probe.chain[0]).hexdigest()
    return None


@dataclass(frozen=True)
class _Seen:
    """What one report said about one endpoint, from a Report or from its JSON."""

    url: str
    address: str | None
    verdict: Verdict | None
    status: str
    leaf_sha256: str | None


def _seen(report: EndpointReport) -> _Seen:
    return _Seen(
        report.endpoint.url,
        report.endpoint.address,
        report.verdict,
        report.probe.status.value,
        _leaf_sha256(report),
    )


def _seen_json(endpoint: Mapping[str, Any]) -> _Seen:
    """One endpoint of ``mailtls check --format json`` output (docs/json.md)."""
    chain = endpoint.get("chain") or []
    leaf = chain[0].get("sha256") if chain and isinstance(chain[0], Mapping) else None
    verdict = endpoint.get("verdict")
    return _Seen(
        str(endpoint.get("url", "?")),
        endpoint.get("address"),
        Verdict(verdict) if verdict in {v.value for v in Verdict} else None,
        str(endpoint.get("status", "?")),
        leaf if isinstance(leaf, str) else None,
    )


def _change_seen(before: _Seen | None, after: _Seen | None) -> Change:
    if before is None:
        return Change.NEW
    if after is None:
        return Change.GONE
    if after.verdict is None:
        return Change.UNCHECKED
    if after.verdict is Verdict.TRUSTED and before.verdict is not Verdict.TRUSTED:
        return Change.FIXED
    old, new = _badness(before.verdict), _badness(after.verdict)
    if new < old:
        return Change.BETTER
    if new > old:
        return Change.WORSE
    if before.leaf_sha256 != after.leaf_sha256:
        return Change.NEW_CERTIFICATE
    return Change.UNCHANGED


def _rows(old: dict[tuple[str, str], _Seen], new: dict[tuple[str, str], _Seen]) -> list[RecheckRow]:
    rows = []
    for key in dict.fromkeys([*new, *old]):
        b, a = old.get(key), new.get(key)
        reference = a or b
        assert reference is not None
        rows.append(
            RecheckRow(
                url=reference.url,
                address=reference.address,
                verdict_before=b.verdict if b else None,
                verdict_after=a.verdict if a else None,
                status_before=b.status if b else None,
                status_after=a.status if a else None,
                leaf_sha256_before=b.leaf_sha256 if b else None,
                leaf_sha256_after=a.leaf_sha256 if a else None,
                change=_change_seen(b, a),
            )
        )
    return rows


def compare_with_json(before: Mapping[str, Any], after: Report) -> list[RecheckRow]:
    """Compare a saved ``mailtls check --format json`` document with a new report.

    Raises ``ValueError`` when ``before`` is not such a document.
    """
    endpoints = before.get("endpoints")
    if not isinstance(endpoints, list):
        raise ValueError("not a 'mailtls check --format json' report (no 'endpoints' list)")
    old: dict[tuple[str, str], _Seen] = {}
    for item in endpoints:
        if isinstance(item, Mapping):
            seen = _seen_json(item)
            old[(seen.url, seen.address or "")] = seen
    new = {(s.url, s.address or ""): s for s in map(_seen, after.endpoints)}
    return _rows(old, new)


def compare(before: Report, after: Report) -> list[RecheckRow]:
    """One row per endpoint of either report (the after-report's order, then gone ones)."""
    old = {(seen.url, seen.address or ""): seen for seen in map(_seen, before.endpoints)}
    new = {(seen.url, seen.address or ""): seen for seen in map(_seen, after.endpoints)}
    return _rows(old, new)


def summary(rows: list[RecheckRow]) -> str:
    """One sentence: how many endpoints are fixed, better, worse, ..."""
    counts = Counter(row.change for row in rows)
    if not rows:
        return "No endpoints to compare."
    parts = [f"{counts[c]} {c.value}" for c in Change if counts[c]]
    all_trusted = all(
        row.verdict_after is Verdict.TRUSTED for row in rows if row.change is not Change.GONE
    )
    tail = " Every endpoint is trusted now." if all_trusted else ""
    return f"{len(rows)} endpoint(s): {', '.join(parts)}.{tail}"


def _cell(verdict: Verdict | None, status: str | None) -> str:
    if status is None:
        return "-"
    if verdict is not None:
        return verdict.value
    return status


def render_text(rows: list[RecheckRow]) -> str:
    """A plain table: endpoint, address, before, after, change, leaf fingerprints."""
    header = ("endpoint", "address", "before", "after", "change", "leaf before", "leaf after")
    table = [header]
    for row in rows:
        table.append(
            (
                row.url,
                row.address or "-",
                _cell(row.verdict_before, row.status_before),
                _cell(row.verdict_after, row.status_after),
                row.change.value,
                (row.leaf_sha256_before or "-")[:16],
                (row.leaf_sha256_after or "-")[:16],
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n" + summary(rows) + "\n"
