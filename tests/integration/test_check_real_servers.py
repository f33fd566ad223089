"""Issue 3 acceptance: ``mailtls check`` against real Dovecot and Postfix.

Serving a self-signed CA, a self-signed non-CA leaf, a private chain without its
intermediate, an expired leaf, a wrong-host leaf, and a good private chain given with
``--ca-file`` yields needs_profile, prompt, prompt, prompt, prompt and trusted on every
endpoint, each with the findings (rule ids) that explain it. The chains and expectations
come from the scenario catalogue (mailtls.lab.scenarios.REAL_SERVER_MATRIX), so the
in-process lab tests and these real-server tests judge the same bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mailtls.lab.scenarios import FIXTURE_DATE, REAL_SERVER_MATRIX, build_scenario
from tests.integration.checking import CheckCli, rule_ids
from tests.realservers.common import pem_chain_to_der
from tests.realservers.plugin import Rig

pytestmark = pytest.mark.real_servers

EXIT_CODES = {"trusted": 0, "needs_profile": 1, "prompt": 1, "fatal": 1}


def test_the_matrix_is_the_one_the_issue_asks_for() -> None:
    verdicts = [
        build_scenario(name, now=FIXTURE_DATE).expected_verdict[anchor]
        for name, anchor in REAL_SERVER_MATRIX
    ]
    assert verdicts == ["needs_profile", "prompt", "prompt", "prompt", "prompt", "trusted"]


@pytest.mark.parametrize(
    ("name", "anchor"), REAL_SERVER_MATRIX, ids=[n for n, _ in REAL_SERVER_MATRIX]
)
def test_check_verdict_and_findings_on_every_endpoint(
    rig: Rig, check_cli: CheckCli, tmp_path: Path, name: str, anchor: str
) -> None:
    scenario = build_scenario(name, now=FIXTURE_DATE)
    # A modern server (TLS 1.2+): no transport finding muddles the trust verdict.
    servers = rig.both(scenario.chain_pem, scenario.key_pem, weak_ok=False)
    extra = ["--at", scenario.at.isoformat()]
    if anchor == "USR":
        assert scenario.root_pem is not None
        root = tmp_path / "root.pem"
        root.write_bytes(scenario.root_pem)
        extra += ["--ca-file", str(root)]
    run = check_cli(servers, scenario.host, *extra)

    verdict = scenario.expected_verdict[anchor]
    expected_rules = set(scenario.expected_rules.get(anchor, ()))
    absent_rules = set(scenario.absent_rules.get(anchor, ()))
    served = [hashlib.sha256(der).hexdigest() for der in pem_chain_to_der(scenario.chain_pem)]
    endpoints = run.endpoints
    assert len(endpoints) == 7
    for scheme, endpoint in endpoints.items():
        where = f"{scenario.name} {scheme}: {endpoint.get('error')}"
        assert endpoint["status"] == "ok", where
        assert [cert["sha256"] for cert in endpoint["chain"]] == served, where
        assert endpoint["verdict"] == verdict, where
        assert endpoint["anchor_kind"] == ("USR" if verdict == "trusted" else "NONE"), where
        fired = rule_ids(endpoint)
        assert expected_rules <= fired, f"{where}: missing {expected_rules - fired}"
        assert not absent_rules & fired, f"{where}: unexpected {absent_rules & fired}"
        if verdict == "trusted":
            assert not any(f["severity"] in ("error", "fatal") for f in endpoint["findings"]), where
        else:
            # The explanation a person reads: at least one finding says what is wrong.
            assert any(f["summary"] and f["fix"] for f in endpoint["findings"]), where
    assert run.report["summary"][verdict] == 7
    assert run.exit_code == EXIT_CODES[verdict]
