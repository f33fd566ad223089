"""``mailtls check`` as a real process: everything written, nothing noisy at the end."""

from __future__ import annotations

from pathlib import Path

from mailtls.lab.scenarios import Scenario
from mailtls.lab.servers import Lab
from tests.service.conftest import url_targets


def test_a_real_check_process_writes_everything_before_it_ends(
    good: Scenario, good_lab: Lab, root_file: Path, tmp_path: Path
) -> None:
    """``python -m mailtls check`` as a real process leaves the whole report (block-buffered,
    as for most pipes), the history rows and the right exit code."""
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
