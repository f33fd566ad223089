"""Issue 6 acceptance: a private CA made by mailtls, served by real Dovecot and Postfix.

``mailtls ca init`` and ``mailtls ca issue`` make the root and the server certificate;
the servers deploy ``fullchain.pem`` + ``server.key`` as the deploy guide says. Then
``mailtls check --ca-file ROOT`` is ``trusted`` on all 7 endpoints, and without it the
iPhone's view is reported (``needs_profile`` when the server also sends the root,
``prompt`` when it does not) with a finding that names the private root and points to
the profile.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from mailtls.cli import main
from tests.integration.checking import CheckCli, rule_ids
from tests.realservers.common import pem_chain_to_der
from tests.realservers.plugin import Rig

pytestmark = pytest.mark.real_servers

HOST = "mail.example.test"
ROOT_CN = "Example Mail Root"


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA and two server certificates from the mailtls CLI (with and without the root)."""
    base = tmp_path_factory.mktemp("remedy")
    ca_dir = base / "ca"
    assert main(["ca", "init", str(ca_dir), "--cn", ROOT_CN, "--org", "Example"]) == 0
    with_root, without_root = base / "server", base / "server-without-root"
    assert main(["ca", "issue", HOST, "--ca-dir", str(ca_dir), "--out", str(with_root)]) == 0
    assert (
        main(
            [
                "ca",
                "issue",
                HOST,
                "--ca-dir",
                str(ca_dir),
                "--out",
                str(without_root),
                "--without-root",
                "--ec",
            ]
        )
        == 0
    )
    return {
        "root": ca_dir / "ca.pem",
        "with_root": with_root,
        "without_root": without_root,
    }


def _serve(rig: Rig, directory: Path) -> tuple[Any, ...]:
    chain_pem = (directory / "fullchain.pem").read_bytes()
    key_pem = (directory / "server.key").read_bytes()
    return rig.both(chain_pem, key_pem, weak_ok=False)


def _names_root_and_points_to_profile(endpoint: dict[str, Any], *, strict: bool) -> bool:
    """A finding that names the private root (its CN) and leads to the profile.

    ``strict``: the finding's recovery path is the profile. When the server does not send
    the root, nothing in the chain says its issuer is a root rather than an intermediate,
    so the finding may lead to either fix; its fix text must then offer installing the root.
    """
    for finding in endpoint["findings"]:
        if ROOT_CN not in json.dumps(finding):
            continue
        if finding.get("remedy") == "profile":
            return True
        if not strict and re.search(r"install.{0,40}\broot\b", finding.get("fix", ""), re.I):
            return True
    return False


@pytest.mark.parametrize("variant", ["with_root", "without_root"])
def test_issued_chain_is_trusted_with_the_root_installed(
    rig: Rig, check_cli: CheckCli, issued: dict[str, Path], variant: str
) -> None:
    servers = _serve(rig, issued[variant])
    run = check_cli(servers, HOST, "--ca-file", str(issued["root"]))
    deployed = pem_chain_to_der((issued[variant] / "fullchain.pem").read_bytes())
    assert len(deployed) == (2 if variant == "with_root" else 1)
    sha256s = [hashlib.sha256(der).hexdigest() for der in deployed]
    assert len(run.endpoints) == 7
    for scheme, endpoint in run.endpoints.items():
        assert endpoint["status"] == "ok", (scheme, endpoint["error"])
        assert [cert["sha256"] for cert in endpoint["chain"]] == sha256s, scheme
        assert endpoint["verdict"] == "trusted", (scheme, sorted(rule_ids(endpoint)))
        assert endpoint["anchor_kind"] == "USR", scheme
    assert run.exit_code == 0


@pytest.mark.parametrize(
    ("variant", "verdict"), [("with_root", "needs_profile"), ("without_root", "prompt")]
)
def test_without_the_root_the_iphone_view_points_to_the_profile(
    rig: Rig, check_cli: CheckCli, issued: dict[str, Path], variant: str, verdict: str
) -> None:
    servers = _serve(rig, issued[variant])
    run = check_cli(servers, HOST)
    assert len(run.endpoints) == 7
    for scheme, endpoint in run.endpoints.items():
        assert endpoint["status"] == "ok", (scheme, endpoint["error"])
        assert endpoint["verdict"] == verdict, (scheme, sorted(rule_ids(endpoint)))
        assert _names_root_and_points_to_profile(endpoint, strict=verdict == "needs_profile"), (
            scheme,
            [(f["rule_id"], f.get("remedy"), f["summary"]) for f in endpoint["findings"]],
        )
    assert run.exit_code == 1
