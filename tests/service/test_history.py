"""History database: records, latest leaf per endpoint, periods, the changed-leaf finding."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from mailtls.errors import InputFileError
from mailtls.history import (
    RULE_LEAF_CHANGED,
    History,
    default_path,
    leaf_changed_finding,
    periods,
)
from mailtls.model import Severity, Status, Verdict
from tests.report.factory import NOW, endpoint, report


def _at(r, hours: float):  # type: ignore[no-untyped-def]
    when = NOW + timedelta(hours=hours)
    eps = tuple(replace(e, probe=replace(e.probe, started_at=when)) for e in r.endpoints)
    return replace(r, endpoints=eps, started_at=when)


def test_default_path_follows_xdg_state_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "mailtls" / "history.sqlite3"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_path().parts[-4:] == (".local", "state", "mailtls", "history.sqlite3")


def test_record_latest_and_periods(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    first = _at(report(endpoint("imaps"), endpoint("pop3", verdict=None, status=Status.REFUSED)), 0)
    second = _at(report(endpoint("imaps")), 1)
    changed = _at(report(endpoint("imaps", verdict=Verdict.PROMPT, leaf_cn="other.example")), 2)
    with History.open(path) as history:
        for r in (first, second, changed):
            history.record(r)
        key = ("imaps://mail.example.com:993", "192.0.2.10")
        latest = history.latest([key, ("pop3://mail.example.com:110", "192.0.2.10")])
        assert list(latest) == [key]  # the refused endpoint never served a leaf
        assert latest[key].leaf_sha256 == changed.endpoints[0].analysis.chain[0].sha256  # type: ignore[union-attr]
        assert latest[key].since == NOW + timedelta(hours=2)
        rows = history.rows("mail.example.com")
    assert len(rows) == 4
    found = periods(rows)
    imaps = [p for p in found if p.url.startswith("imaps")]
    assert [(p.checks, p.verdicts) for p in imaps] == [(2, ("trusted",)), (1, ("prompt",))]
    assert imaps[0].first_seen == NOW and imaps[0].last_seen == NOW + timedelta(hours=1)


def test_same_leaf_keeps_since(tmp_path: Path) -> None:
    with History.open(tmp_path / "h.sqlite3") as history:
        history.record(_at(report(endpoint("imaps")), 0))
        history.record(_at(report(endpoint("imaps")), 5))
        (prev,) = history.latest([("imaps://mail.example.com:993", "192.0.2.10")]).values()
    assert prev.since == NOW and prev.last_checked == NOW + timedelta(hours=5)


def test_changed_leaf_finding_fires_and_stays_silent(tmp_path: Path) -> None:
    with History.open(tmp_path / "h.sqlite3") as history:
        history.record(_at(report(endpoint("imaps")), 0))
        (prev,) = history.latest([("imaps://mail.example.com:993", "192.0.2.10")]).values()
    assert leaf_changed_finding(prev, endpoint("imaps")) is None
    assert leaf_changed_finding(None, endpoint("imaps", leaf_cn="new.example")) is None
    untrusted = leaf_changed_finding(prev, endpoint("imaps", verdict=Verdict.PROMPT, leaf_cn="x"))
    assert untrusted is not None
    assert untrusted.rule_id == RULE_LEAF_CHANGED and untrusted.severity is Severity.WARNING
    assert "will be asked again" in untrusted.user_sees
    assert untrusted.evidence["previous_sha256"] == prev.leaf_sha256
    trusted = leaf_changed_finding(prev, endpoint("imaps", leaf_cn="renewed.example"))
    assert trusted is not None and trusted.severity is Severity.INFO


def test_not_a_database_is_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "h.sqlite3"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputFileError, match="not a mailtls history database"):
        History.open(bogus)
    with pytest.raises(InputFileError, match="nothing recorded yet"):
        History.open(tmp_path / "missing.sqlite3", create=False)


def test_one_transaction_per_check_and_indexes(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    many = report(*(endpoint("imaps", address=f"10.0.{i // 250}.{i % 250}") for i in range(500)))
    with History.open(path) as history:
        history.record(many)
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("SELECT COUNT(*) FROM checks").fetchone() == (500,)
        assert connection.execute("SELECT COUNT(*) FROM latest").fetchone() == (500,)
        plan = connection.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM checks WHERE host = ? ORDER BY url", ("x",)
        ).fetchall()
        assert "USING INDEX" in " ".join(str(r) for r in plan)
    finally:
        connection.close()


def test_prune_deletes_old_checks_and_keeps_the_last_leaf(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    checks = [_at(report(endpoint("imaps")), hours) for hours in (0, 24, 48)]
    with History.open(path) as history:
        for r in checks:
            history.record(r)
        assert history.prune(NOW + timedelta(hours=1)) == 1  # only the first check
        assert history.prune(NOW + timedelta(hours=1)) == 0  # nothing left to remove
        assert [r.checked_at for r in history.rows("mail.example.com")] == [
            NOW + timedelta(hours=24),
            NOW + timedelta(hours=48),
        ]
        assert history.prune(NOW + timedelta(days=30)) == 2
        assert history.rows("mail.example.com") == []
        key = ("imaps://mail.example.com:993", "192.0.2.10")
        kept = history.latest([key])[key]  # change detection still has the last leaf
        assert kept.since == NOW and kept.last_checked == NOW + timedelta(hours=48)
        changed = _at(report(endpoint("imaps", leaf_cn="other.example")), 72)
        assert leaf_changed_finding(kept, changed.endpoints[0]) is not None


def test_prune_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json
    from datetime import UTC, datetime

    from mailtls.cli import main

    path = tmp_path / "h.sqlite3"
    now = datetime.now(UTC)
    old = _at(report(endpoint("imaps")), 0)
    old = replace(
        old,
        endpoints=tuple(
            replace(e, probe=replace(e.probe, started_at=now - timedelta(days=40)))
            for e in old.endpoints
        ),
    )
    recent = replace(
        old,
        endpoints=tuple(replace(e, probe=replace(e.probe, started_at=now)) for e in old.endpoints),
    )
    with History.open(path) as history:
        history.record(old)
        history.record(recent)
    assert main(["history", "--history", str(path), "--prune", "30", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["removed_checks"] == 1 and data["database"] == str(path)
    assert main(["history", "--history", str(path), "--prune", "30"]) == 0
    assert "Removed 0 endpoint checks" in capsys.readouterr().out
    assert main(["history", "--history", str(path), "--prune", "-1"]) == 3
    assert "DAYS must be 0 or more" in capsys.readouterr().err
    assert main(["history", "--history", str(path), "--prune", "1", "mail.example.com"]) == 3
    assert main(["history", "--history", str(tmp_path / "none.sqlite3"), "--prune", "1"]) == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 2 and "no history database" in err
