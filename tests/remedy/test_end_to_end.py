"""The whole recovery path against an in-process lab server (no real Dovecot/Postfix here;
tests/integration/test_remedy_real_servers.py does that).

1. Before: the lab serves a self-signed certificate, as many small mail servers do.
2. ``mailtls ca init`` / ``mailtls ca issue`` (CLI, in-process) make a root and a server
   certificate; ``mailtls deploy`` accepts the files; the lab serves them.
3. ``mailtls check --ca-file ROOT`` says ``trusted`` on every endpoint; without it the
   iPhone's view is ``needs_profile`` with a finding that points to the profile.
4. :func:`mailtls.remedy.recheck.compare` shows every endpoint ``fixed``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailtls import pki
from mailtls.cli import main
from mailtls.lab.servers import Lab, start_lab
from mailtls.model import Verdict
from mailtls.remedy.names import names_from_report, names_from_report_json
from mailtls.remedy.recheck import Change, compare

HOST = "mail.example.test"

pytestmark = pytest.mark.usefixtures("engine")


def _targets(lab: Lab) -> list[str]:
    return [f"{scheme}://{HOST}:{port}" for scheme, port in lab.endpoints.items()]


def _options(*ca_files: Path) -> object:
    from mailtls.service import CheckOptions

    return CheckOptions(
        address=("127.0.0.1",), timeout=5.0, ca_files=ca_files, history=None, discover=False
    )


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("e2e")
    assert main(["ca", "init", str(base / "ca"), "--cn", "Example Mail Root", "--ec"]) == 0
    assert (
        main(
            [
                "ca",
                "issue",
                HOST,
                "--ca-dir",
                str(base / "ca"),
                "--out",
                str(base / "server"),
                "--ec",
            ]
        )
        == 0
    )
    return base


@pytest.fixture(scope="module")
def self_signed_lab() -> Iterator[Lab]:
    now = datetime.now(UTC)
    key = pki.generate_key("ec", 256)
    cert = pki.issue(
        pki.leaf_spec(HOST),
        key,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=90),
    )
    with start_lab(pki.cert_to_pem(cert), pki.key_to_pem(key)) as lab:
        yield lab


@pytest.fixture(scope="module")
def issued_lab(issued: Path) -> Iterator[Lab]:
    server = issued / "server"
    with start_lab(
        (server / "fullchain.pem").read_bytes(), (server / "server.key").read_bytes()
    ) as lab:
        yield lab


def test_deploy_accepts_the_issued_files(issued: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = issued / "server"
    # the root is installed on the iPhone: without it the iPhone's verdict is needs_profile
    argv = ["deploy", "--cert", str(server / "fullchain.pem"), "--key", str(server / "server.key"),
            "--ca-file", str(issued / "ca" / "ca.pem")]  # fmt: skip
    assert main(argv) == 0
    assert "PROBLEM" not in capsys.readouterr().out


def test_check_with_the_root_is_trusted_everywhere(
    issued: Path, issued_lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", *_targets(issued_lab), "--address", "127.0.0.1", "--timeout", "5", "--format", "json",
            "--no-history", "--ca-file", str(issued / "ca" / "ca.pem")]  # fmt: skip
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["endpoints"]) == 7
    assert {e["verdict"] for e in document["endpoints"]} == {"trusted"}
    assert names_from_report_json(document) == (HOST,)


def test_without_the_root_the_iphone_needs_the_profile(issued: Path, issued_lab: Lab) -> None:
    from mailtls.service import check

    report = check(_targets(issued_lab), _options())  # type: ignore[arg-type]
    assert {e.verdict for e in report.endpoints} == {Verdict.NEEDS_PROFILE}
    for endpoint in report.endpoints:
        assert endpoint.analysis is not None
        assert any(f.remedy == "profile" for f in endpoint.analysis.findings)


def test_before_and_after(issued: Path, self_signed_lab: Lab, issued_lab: Lab) -> None:
    from mailtls.service import check

    root = issued / "ca" / "ca.pem"
    before = check(_targets(self_signed_lab), _options(root))  # type: ignore[arg-type]
    after = check(_targets(issued_lab), _options(root))  # type: ignore[arg-type]
    assert names_from_report(before) == (HOST,)
    # the lab runs on other ports, so pair by scheme: re-key the after report onto the before one
    by_scheme = {e.endpoint.scheme: e for e in after.endpoints}
    from dataclasses import replace

    moved = replace(
        after,
        endpoints=tuple(
            replace(
                by_scheme[e.endpoint.scheme],
                probe=replace(by_scheme[e.endpoint.scheme].probe, endpoint=e.endpoint),
            )
            for e in before.endpoints
        ),
    )
    rows = compare(before, moved)
    assert len(rows) == 7
    assert {r.verdict_before for r in rows} == {Verdict.PROMPT}
    assert {r.change for r in rows} == {Change.FIXED}
    assert all(r.leaf_changed for r in rows)
