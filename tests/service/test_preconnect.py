"""Connections opened ahead (mailtls.probe.preconnect): same results, nothing left open."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from mailtls.commands.check import preconnect
from mailtls.lab.scenarios import Scenario
from mailtls.lab.servers import Lab
from mailtls.model import Status
from mailtls.probe.preconnect import LIMIT, Preconnected
from mailtls.service import check
from tests.service.conftest import options, url_targets


def _summary(report: object) -> list[tuple[str, str, str | None, tuple[bytes, ...], object]]:
    return [
        (e.endpoint.url, e.probe.status.value, e.probe.error, e.probe.chain, e.verdict)
        for e in report.endpoints  # type: ignore[attr-defined]
    ]


def test_the_probes_adopt_the_connections_and_report_the_same(
    good: Scenario, good_lab: Lab, root_file: Path
) -> None:
    targets = url_targets(good_lab, good.host)
    plain = check(targets, options(ca_files=(root_file,)))
    pool = Preconnected()
    for port in good_lab.endpoints.values():
        pool.open("127.0.0.1", port, 3)
    assert len(pool) == 3 * len(targets)
    try:
        ahead = check(targets, options(ca_files=(root_file,), preconnected=pool))
    finally:
        left = len(pool)
        pool.close()
    assert _summary(ahead) == _summary(plain)
    assert {e.probe.status for e in ahead.endpoints} == {Status.OK}
    # The lab accepts TLS 1.2 and 1.3 only: each endpoint used its capture, a pinned TLS 1.2
    # hello and the 1.0+1.1 hello — every connection opened ahead was taken.
    assert left == 0


def test_a_refused_connection_opened_ahead_reads_as_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    target = [f"imaps://127.0.0.1:{port}"]  # nothing listens there any more
    plain = check(target, options(check_versions=False))
    pool = Preconnected()
    pool.open("127.0.0.1", port)
    try:
        ahead = check(target, options(check_versions=False, preconnected=pool))
    finally:
        pool.close()
    assert _summary(ahead) == _summary(plain)
    assert ahead.endpoints[0].probe.status is Status.REFUSED


def test_leftovers_are_closed_and_the_limit_holds() -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=LIMIT + 8) as server:
        port = server.getsockname()[1]
        pool = Preconnected()
        pool.open("127.0.0.1", port, LIMIT + 5)
        assert len(pool) == LIMIT
        taken = pool.take("127.0.0.1", port)
        assert taken is not None
        taken.close()
        assert pool.take("127.0.0.2", port) is None
        pool.close()
        assert len(pool) == 0


def _args(
    *targets: str, address: tuple[str, ...] = (), no_versions: bool = False
) -> argparse.Namespace:
    return argparse.Namespace(address=list(address), no_versions=no_versions, targets=list(targets))


def test_the_check_command_opens_ahead_only_what_needs_no_lookup() -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=32) as server:
        port = server.getsockname()[1]
        url = f"imaps://mail.example.test:{port}"
        for targets, args, expected in [
            ([url], _args(address=("127.0.0.1",)), 3),
            ([url], _args(address=("127.0.0.1",), no_versions=True), 1),
            ([f"imaps://127.0.0.1:{port}"], _args(), 3),
            ([url], _args(), None),  # needs DNS
            (["user@example.test"], _args(address=("127.0.0.1",)), None),  # discovery
            ([url], _args(address=("not-an-ip",)), None),  # reported by build_options
            (["mail.example.test"] * 5, _args(address=("127.0.0.1", "127.0.0.2")), None),
        ]:
            pool = preconnect(targets, args)
            try:
                assert (None if pool is None else len(pool)) == expected, (targets, args)
            finally:
                if pool is not None:
                    pool.close()


def test_a_real_check_process_writes_everything_before_it_ends(
    good: Scenario, good_lab: Lab, root_file: Path, tmp_path: Path
) -> None:
    """``python -m mailtls check`` as a real process: connections opened ahead, collector
    paused during start-up, and the end without the interpreter's teardown (cli._exit_now)
    must still leave the whole report, the history rows and the right exit code."""
    import os
    import sqlite3
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo), "HOME": str(tmp_path)}
    env.pop("PYTHONUNBUFFERED", None)  # block-buffered output, as for most users' pipes
    history = tmp_path / "history.sqlite3"
    args = ["check", "--format", "text", "--address", "127.0.0.1", "--no-discover"]
    args += ["--ca-file", str(root_file), "--history", str(history)]
    args += url_targets(good_lab, good.host)
    done = subprocess.run(
        [sys.executable, "-m", "mailtls", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for url in url_targets(good_lab, good.host):  # the last lines too: nothing left unwritten
        assert url in done.stdout, url
    assert done.stdout.endswith("\n")
    with sqlite3.connect(history) as db:
        assert db.execute("SELECT COUNT(*) FROM checks").fetchone()[0] == len(good_lab.endpoints)
    # A reader that goes away early: no traceback, no "Exception ignored" noise.
    quiet = ["check", "--format", "json", "--no-history", "--address", "127.0.0.1"]
    quiet += ["--ca-file", str(root_file), *url_targets(good_lab, good.host)]
    with subprocess.Popen(
        [sys.executable, "-m", "mailtls", *quiet],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        child.stdout.read(10)
        child.stdout.close()
        errors = child.stderr.read().decode()
        child.wait(timeout=60)
    assert "Traceback" not in errors and "Exception ignored" not in errors, errors
