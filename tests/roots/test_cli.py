"""``mailtls roots update|status|list|list-versions``: output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from mailtls import roots
from mailtls.cli import main
from tests.roots.storebuild import (
    SHARED_ROOTS,
    SHARED_VERSION,
    HTTPSServer,
    Route,
    flat_store,
    sha_name,
    tarball,
    upstream_checkout,
)

LABEL = f"Apple trust store {SHARED_VERSION} ({SHARED_ROOTS + 1} roots)"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["roots", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_update_from_each_layout(
    data_dir: Path, flat: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "update", "--from", str(flat))
    path = data_dir / "apple-trust-store" / "versions" / str(SHARED_VERSION)
    assert (code, out) == (0, f"{LABEL} cached in {path}\n")
    assert "importing" in err
    code, out, _ = run(capsys, "update", "--from", str(flat))
    assert (code, out) == (0, f"{LABEL}: already up to date, cached in {path}\n")
    checkout = upstream_checkout(
        flat_store(tmp_path / "n", version=SHARED_VERSION + 1), tmp_path / "c"
    )
    code, out, _ = run(capsys, "update", "--from", str(checkout))
    assert code == 0 and out.startswith(
        f"Apple trust store {SHARED_VERSION + 1} ({SHARED_ROOTS} roots) cached"
    )
    archive = tarball(
        upstream_checkout(flat_store(tmp_path / "m", version=SHARED_VERSION + 2), tmp_path / "d"),
        tmp_path / "a.tar.gz",
    )
    code, out, _ = run(capsys, "update", "--from", str(archive))
    assert code == 0 and out.startswith(f"Apple trust store {SHARED_VERSION + 2} ")


def test_update_refusals_exit_3_with_one_line(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "update", "--from", str(tmp_path / "missing"))
    assert (code, out) == (3, "")
    assert err.splitlines()[-1].startswith("mailtls: error: ") and "no such file" in err
    assert sum(line.startswith("mailtls: error:") for line in err.splitlines()) == 1
    few = flat_store(tmp_path / "few", keep_roots=3)
    code, _, err = run(capsys, "update", "--from", str(few))
    assert code == 3 and "only 3 roots" in err and "Traceback" not in err
    assert run(capsys, "update", "--from", str(few), "--force")[0] == 0
    code, _, err = run(capsys, "update", "--url", "http://example.com/x.tar.gz")
    assert code == 3 and "only https://" in err
    assert roots.load() is not None and len(roots.load().roots) == 3  # type: ignore[union-attr]


def test_update_download_and_network_failure(
    data_dir: Path,
    server: HTTPSServer,
    flat: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = tarball(upstream_checkout(flat, tmp_path / "c"), tmp_path / "g.tar.gz").read_bytes()
    server.routes["/main.tar.gz"] = Route(good)
    server.routes["/half.tar.gz"] = Route(good, mode="half")
    code, out, err = run(capsys, "update", "--url", server.url("/main.tar.gz"))
    assert code == 0 and out.startswith(f"{LABEL} cached in ") and "downloading" in err
    code, out, err = run(capsys, "update", "--url", server.url("/half.tar.gz"))
    assert (code, out) == (2, "")
    assert err.splitlines()[-1].startswith("mailtls: error: ") and "cut off" in err
    assert roots.load() is not None and roots.load().version == SHARED_VERSION  # type: ignore[union-attr]


def test_status_none_cached(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "status")
    assert code == 0
    assert (
        "certifi's bundle (Mozilla's list) as a stand-in" in out and "mailtls roots update" in out
    )
    code, out, _ = run(capsys, "status", "--format", "json")
    assert code == 0 and json.loads(out)["store"] == "certifi"


def test_status_cached_and_old(
    data_dir: Path, flat: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = roots.import_from(flat)
    code, out, _ = run(capsys, "status")
    assert code == 0 and f"trust store: {LABEL}" in out and str(store.path) in out
    assert "age:         0 days" in out and "more than 90 days" not in out
    data = json.loads(run(capsys, "status", "--format", "json")[1])
    assert data["store"] == "apple" and data["version"] == SHARED_VERSION
    assert (
        data["roots"] == SHARED_ROOTS + 1
        and data["old"] is False
        and data["path"] == str(store.path)
    )
    real_age = roots.age_days
    monkeypatch.setattr(
        roots, "age_days", lambda s, now=None: real_age(s, s.imported_at + timedelta(days=120))
    )
    code, out, _ = run(capsys, "status")
    assert "age:         120 days" in out and "old (more than 90 days)" in out
    assert json.loads(run(capsys, "status", "--format", "json")[1])["old"] is True


def test_list(
    data_dir: Path, flat: Path, our_root: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "list")
    assert code == 3 and "no Apple trust store cached" in err
    store = roots.import_from(flat)
    code, out, _ = run(capsys, "list")
    lines = out.splitlines()
    assert code == 0 and lines[0] == LABEL and len(lines) == SHARED_ROOTS + 2
    ours = sha_name(our_root).removesuffix(".cer")
    assert any(
        line.startswith(f"{ours}  2040-01-01  CN=mailtls Test Apple-layout Root") for line in lines
    )
    constrained = next(iter(store.constraints))
    assert any(
        line.startswith(constrained) and "constrained to 1.2.840.113635.100.1." in line
        for line in lines
    )
    data = json.loads(run(capsys, "list", "--format", "json")[1])
    assert data["version"] == SHARED_VERSION and len(data["roots"]) == SHARED_ROOTS + 1
    row = next(r for r in data["roots"] if r["sha256"] == ours)
    assert row["subject"] == "CN=mailtls Test Apple-layout Root,O=mailtls lab"
    assert row["not_after"].startswith("2040-01-01") and row["constraints"] == []
    assert any(r["ev_policies"] for r in data["roots"])
    code, _, err = run(capsys, "list", "--roots-version", "2001010100")
    assert code == 3 and "not cached" in err


def test_list_versions(
    data_dir: Path, flat: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "no cached versions" in run(capsys, "list-versions")[1]
    roots.import_from(flat)
    roots.import_from(flat_store(tmp_path / "old", version=2024010100), force=True)
    out = run(capsys, "list-versions")[1].splitlines()
    assert out[0].startswith(f"  {SHARED_VERSION}") and out[1].startswith("* 2024010100")
    data = json.loads(run(capsys, "list-versions", "--format", "json")[1])
    assert [(d["version"], d["current"]) for d in data] == [
        (SHARED_VERSION, False),
        (2024010100, True),
    ]
    code, out, _ = run(capsys, "list", "--roots-version", str(SHARED_VERSION))
    assert code == 0 and out.splitlines()[0] == LABEL


def test_the_real_command_line(data_dir: Path, flat: Path) -> None:
    env = {**os.environ, "MAILTLS_DATA_DIR": str(data_dir)}
    cwd = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "mailtls", "roots", "update", "--from", str(flat)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    assert done.returncode == 0 and done.stdout.startswith(f"{LABEL} cached in {data_dir}")
    done = subprocess.run(
        [sys.executable, "-m", "mailtls", "roots", "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    assert done.returncode == 0 and LABEL in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "mailtls", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    assert "roots" in done.stdout
