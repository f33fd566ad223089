"""Remember every check in an embedded SQLite database, and say when a leaf changed.

Where: ``$XDG_STATE_HOME/mailtls/history.sqlite3`` (default
``~/.local/state/mailtls/history.sqlite3``); ``--history PATH`` moves it, ``--no-history``
skips it. Two tables:

* ``checks``: one row per endpoint per check (append-only log: url, address, time,
  status, verdict, leaf sha256, chain sha256s);
* ``latest``: one row per (url, address) with the leaf seen last and since when, so the
  comparison before a check is a primary-key lookup however long the log grows.

A check is written in one transaction. The log grows by about 0.5 KiB per endpoint per check;
``mailtls history --prune DAYS`` deletes older checks (the ``latest`` rows stay) and compacts
the file. Why a changed leaf matters: the exception that
iPhone Mail stores when a user taps "Trust" holds the SHA-1 of that exact leaf
(ios-trust-rules.md §2), so every iPhone that trusted the old certificate asks again.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mailtls.analysis.rules.history import LEAF_CHANGED
from mailtls.analysis.rules.history import RULE_LEAF_CHANGED as RULE_LEAF_CHANGED
from mailtls.errors import InputFileError
from mailtls.model import EndpointReport, Finding, Report, Severity, Verdict

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checks (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    host TEXT NOT NULL,
    address TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    status TEXT NOT NULL,
    verdict TEXT,
    leaf_sha256 TEXT,
    chain_sha256 TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS checks_host ON checks (host, url, address, checked_at);
CREATE TABLE IF NOT EXISTS latest (
    url TEXT NOT NULL,
    address TEXT NOT NULL,
    leaf_sha256 TEXT NOT NULL,
    verdict TEXT,
    since TEXT NOT NULL,
    last_checked TEXT NOT NULL,
    PRIMARY KEY (url, address)
) WITHOUT ROWID;
"""


def default_path() -> Path:
    """The history database under the XDG state directory."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "mailtls" / "history.sqlite3"


@dataclass(frozen=True)
class PreviousCheck:
    """What the history knows about one (url, address) before this check."""

    url: str
    address: str
    leaf_sha256: str
    verdict: str | None
    since: datetime
    last_checked: datetime


@dataclass(frozen=True)
class HistoryRow:
    url: str
    host: str
    address: str
    checked_at: datetime
    status: str
    verdict: str | None
    leaf_sha256: str | None
    chain_sha256: tuple[str, ...]


@dataclass(frozen=True)
class CertificatePeriod:
    """One stretch of time during which an endpoint served the same leaf."""

    url: str
    address: str
    leaf_sha256: str | None  # None: no certificate (the endpoint was not reachable)
    first_seen: datetime
    last_seen: datetime
    checks: int
    statuses: tuple[str, ...]
    verdicts: tuple[str, ...]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class History:
    """An open history database. Use :meth:`open`; close with :meth:`close`."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> History:
        path = Path(path).expanduser()
        if not create and not path.exists():
            raise InputFileError(f"{path}: no history database here (nothing recorded yet)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=10.0)
        except (OSError, sqlite3.Error) as exc:
            raise InputFileError(f"{path}: cannot open the history database ({exc})") from exc
        try:
            connection.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise InputFileError(f"{path}: not a mailtls history database ({exc})") from exc
        return cls(connection, path)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def latest(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], PreviousCheck]:
        """The last leaf seen for each (url, address) that has one."""
        found: dict[tuple[str, str], PreviousCheck] = {}
        cursor = self.connection.cursor()
        for url, address in dict.fromkeys(keys):
            row = cursor.execute(
                "SELECT leaf_sha256, verdict, since, last_checked FROM latest "
                "WHERE url = ? AND address = ?",
                (url, address),
            ).fetchone()
            if row is not None:
                found[(url, address)] = PreviousCheck(
                    url, address, row[0], row[1], _parse(row[2]), _parse(row[3])
                )
        return found

    def record(self, report: Report) -> None:
        """Write every endpoint of a finished check, in one transaction."""
        self.record_endpoints(report.endpoints, report.started_at)

    def record_endpoints(self, reports: Iterable[EndpointReport], started_at: datetime) -> None:
        """Write these endpoints of a check that started at ``started_at``, in one
        transaction (a streamed check writes its hosts in batches as they finish)."""
        rows = []
        upserts = []
        for endpoint_report in reports:
            endpoint = endpoint_report.endpoint
            checked_at = _iso(endpoint_report.probe.started_at or started_at)
            chain = endpoint_report.analysis.chain if endpoint_report.analysis else ()
            leaf = chain[0].sha256 if chain else None
            verdict = str(endpoint_report.verdict) if endpoint_report.verdict else None
            address = endpoint.address or ""
            rows.append(
                (
                    endpoint.url,
                    endpoint.host,
                    address,
                    checked_at,
                    str(endpoint_report.probe.status),
                    verdict,
                    leaf,
                    " ".join(c.sha256 for c in chain),
                )
            )
            if leaf is not None:
                upserts.append((endpoint.url, address, leaf, verdict, checked_at, checked_at))
        with self.connection:
            self.connection.executemany(
                "INSERT INTO checks (url, host, address, checked_at, status, verdict, "
                "leaf_sha256, chain_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self.connection.executemany(
                "INSERT INTO latest (url, address, leaf_sha256, verdict, since, last_checked) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url, address) DO UPDATE SET "
                "since = CASE WHEN latest.leaf_sha256 = excluded.leaf_sha256 "
                "THEN latest.since ELSE excluded.since END, "
                "leaf_sha256 = excluded.leaf_sha256, verdict = excluded.verdict, "
                "last_checked = excluded.last_checked",
                upserts,
            )

    def rows(self, host: str, url: str | None = None) -> list[HistoryRow]:
        """Every recorded check of a host (optionally one URL), oldest first."""
        query = (
            "SELECT url, host, address, checked_at, status, verdict, leaf_sha256, chain_sha256 "
            "FROM checks WHERE host = ?"
        )
        params: list[str] = [host]
        if url is not None:
            query += " AND url = ?"
            params.append(url)
        query += " ORDER BY url, address, checked_at, id"
        return [
            HistoryRow(r[0], r[1], r[2], _parse(r[3]), r[4], r[5], r[6], tuple(r[7].split()))
            for r in self.connection.execute(query, params)
        ]

    def prune(self, before: datetime) -> int:
        """Delete the endpoint checks recorded before ``before``; return how many.

        The ``latest`` table stays: the last leaf seen per endpoint (and since when) is what
        the changed-leaf finding compares with, however old. The file is compacted after.
        """
        with self.connection:
            cursor = self.connection.execute(
                "DELETE FROM checks WHERE checked_at < ?", (_iso(before),)
            )
        removed = cursor.rowcount
        if removed:
            self.connection.execute("VACUUM")
        return removed

    def hosts(self) -> list[tuple[str, int, datetime]]:
        """Every host recorded: (host, number of endpoint checks, last check), by host."""
        rows = self.connection.execute(
            "SELECT host, COUNT(*), MAX(checked_at) FROM checks GROUP BY host ORDER BY host"
        )
        return [(r[0], int(r[1]), _parse(r[2])) for r in rows]


def periods(rows: Sequence[HistoryRow]) -> list[CertificatePeriod]:
    """Fold consecutive checks of the same endpoint and leaf into one period."""
    result: list[CertificatePeriod] = []
    current: list[HistoryRow] = []

    def flush() -> None:
        if current:
            first = current[0]
            result.append(
                CertificatePeriod(
                    url=first.url,
                    address=first.address,
                    leaf_sha256=first.leaf_sha256,
                    first_seen=first.checked_at,
                    last_seen=current[-1].checked_at,
                    checks=len(current),
                    statuses=tuple(dict.fromkeys(r.status for r in current)),
                    verdicts=tuple(dict.fromkeys(r.verdict for r in current if r.verdict)),
                )
            )

    for row in rows:
        if current and (
            (row.url, row.address, row.leaf_sha256)
            != (current[0].url, current[0].address, current[0].leaf_sha256)
        ):
            flush()
            current = []
        current.append(row)
    flush()
    return result


def leaf_changed_finding(previous: PreviousCheck | None, report: EndpointReport) -> Finding | None:
    """A NOTICE when the endpoint now serves a different leaf than last time."""
    if previous is None or report.analysis is None or not report.analysis.chain:
        return None
    leaf = report.analysis.chain[0]
    if leaf.sha256 == previous.leaf_sha256:
        return None
    trusted = report.verdict is Verdict.TRUSTED
    if trusted:
        user_sees = (
            "Nothing: the new certificate is trusted, so no iPhone is asked, including those "
            "that had tapped Trust for the old one."
        )
    else:
        user_sees = LEAF_CHANGED.user_sees
    since = previous.since.strftime("%Y-%m-%d %H:%M UTC")
    last = previous.last_checked.strftime("%Y-%m-%d %H:%M UTC")
    return Finding(
        rule_id=LEAF_CHANGED.id,
        title=LEAF_CHANGED.title,
        category=LEAF_CHANGED.category,
        severity=Severity.INFO if trusted else LEAF_CHANGED.severity,
        summary=(
            f"{report.endpoint.url} ({report.endpoint.address}) now serves a different "
            f"certificate ({leaf.sha256[:12]}) than at the last check on {last} "
            f"({previous.leaf_sha256[:12]}, served since {since})."
        ),
        cert_index=0,
        evidence={
            "previous_sha256": previous.leaf_sha256,
            "previous_verdict": previous.verdict,
            "previous_since": previous.since,
            "previous_checked": previous.last_checked,
            "current_sha256": leaf.sha256,
        },
        user_sees=user_sees,
        fix="" if trusted else LEAF_CHANGED.fix,
        citation=LEAF_CHANGED.citation,
        remedy=None if trusted else LEAF_CHANGED.remedy,
    )
