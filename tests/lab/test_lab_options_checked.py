"""The lab's options are seen by the real check: each one triggers the transport finding
it exists for, and a default lab triggers none (lab -> probe -> analysis -> service)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtls.lab import scenarios
from mailtls.lab.servers import start_lab
from mailtls.model import IPHONE_SWEEP, Report, Status, TlsMode, service_for_scheme

STARTTLS_KINDS = [s for s in IPHONE_SWEEP if service_for_scheme(s).tls_mode is TlsMode.STARTTLS]


def _check(scenario: scenarios.Scenario, tmp_path: Path, **lab_options: object) -> Report:
    from mailtls.service import CheckOptions, check

    root = tmp_path / "root.pem"
    assert scenario.root_pem is not None
    root.write_bytes(scenario.root_pem)
    with start_lab(scenario.chain_pem, scenario.key_pem, **lab_options) as lab:  # type: ignore[arg-type]
        options = CheckOptions(
            address=(lab.connect_address,), ca_files=(root,), timeout=8, history=None
        )
        return check(lab.urls(scenario.host), options, now=scenario.at)


@pytest.fixture(scope="module")
def good() -> scenarios.Scenario:
    return scenarios.build_scenario("good-private", now=scenarios.FIXTURE_DATE)


def _rules(report: Report) -> dict[str, set[str]]:
    return {e.endpoint.scheme: {f.rule_id for f in e.findings} for e in report.endpoints}


def test_default_lab_is_a_clean_reference(good: scenarios.Scenario, tmp_path: Path) -> None:
    report = _check(good, tmp_path)
    assert {e.endpoint.scheme: str(e.verdict) for e in report.endpoints} == dict.fromkeys(
        IPHONE_SWEEP, "trusted"
    )
    assert _rules(report) == {scheme: set() for scheme in IPHONE_SWEEP}
    for endpoint in report.endpoints:
        assert endpoint.probe.accepted_tls_versions == {
            "TLSv1": False,
            "TLSv1.1": False,
            "TLSv1.2": True,
            "TLSv1.3": True,
        }
        if endpoint.endpoint.tls_mode is TlsMode.STARTTLS:
            caps = endpoint.probe.capabilities
            assert caps is not None and caps.starttls_offered is True and caps.auth_before_tls == ()


def test_no_starttls_lab(good: scenarios.Scenario, tmp_path: Path) -> None:
    report = _check(good, tmp_path, starttls=False)
    for endpoint in report.endpoints:
        if endpoint.endpoint.scheme in STARTTLS_KINDS:
            assert endpoint.probe.status is Status.NO_TLS
            assert "starttls_not_offered" in {f.rule_id for f in endpoint.findings}
        else:
            assert endpoint.probe.status is Status.OK and str(endpoint.verdict) == "trusted"


def test_auth_before_tls_lab(good: scenarios.Scenario, tmp_path: Path) -> None:
    rules = _rules(_check(good, tmp_path, auth_before_tls=True))
    for scheme in STARTTLS_KINDS:
        assert "auth_before_starttls" in rules[scheme]
    for scheme in set(IPHONE_SWEEP) - set(STARTTLS_KINDS):
        assert "auth_before_starttls" not in rules[scheme]


def test_old_tls_only_lab(good: scenarios.Scenario, tmp_path: Path) -> None:
    report = _check(good, tmp_path, max_tls="TLSv1", schemes=["imaps", "smtp"])
    for endpoint in report.endpoints:
        assert endpoint.probe.tls_version == "TLSv1"
        assert endpoint.probe.accepted_tls_versions["TLSv1.2"] is False
        assert "tls10_11_deprecated" in {f.rule_id for f in endpoint.findings}
