"""Every scenario of the catalogue goes through the lab byte for byte (or is refused clearly)."""

from __future__ import annotations

import functools

import pytest

from mailtls.errors import LabError
from mailtls.lab import scenarios
from mailtls.lab.servers import start_lab
from mailtls.model import IPHONE_SWEEP

from .client import open_session


@functools.cache
def _scenario(name: str) -> scenarios.Scenario:
    return scenarios.build_scenario(name, now=scenarios.FIXTURE_DATE)


@pytest.mark.parametrize(
    "index_name", list(enumerate(scenarios.SCENARIO_NAMES)), ids=lambda x: x[1]
)
def test_scenario_is_served_exactly(index_name: tuple[int, str]) -> None:
    index, name = index_name
    scenario = _scenario(name)
    scheme = IPHONE_SWEEP[index % len(IPHONE_SWEEP)]  # every kind gets its share
    if not scenario.openssl_loads:
        with pytest.raises(LabError, match="OpenSSL refuses to load"):
            start_lab(scenario.chain_pem, scenario.key_pem, schemes=[scheme])
        return
    with start_lab(scenario.chain_pem, scenario.key_pem, schemes=[scheme]) as lab:
        session = open_session(lab, scheme, host=scenario.host)
        with session.client:
            assert session.chain == scenario.chain_ders
            assert session.tls_version in ("TLSv1.2", "TLSv1.3")
        assert lab.chain == scenario.chain_ders


def test_tiny_rsa_key_is_served_over_tls12_with_a_note() -> None:
    scenario = _scenario("rsa512-leaf")
    with start_lab(scenario.chain_pem, scenario.key_pem, schemes=["imaps"]) as lab:
        assert any("TLS 1.3 is off" in note and "RSA-512" in note for note in lab.notes)
        session = open_session(lab, "imaps", host=scenario.host)
        with session.client:
            assert session.tls_version == "TLSv1.2"
    good = _scenario("good-private")
    with start_lab(good.chain_pem, good.key_pem, schemes=["imaps"]) as lab:
        assert lab.notes == ()


def test_catalogue_has_scenarios_the_lab_cannot_serve_named() -> None:
    refused = [n for n in scenarios.SCENARIO_NAMES if not _scenario(n).openssl_loads]
    assert refused, "expected at least one file-only scenario (e.g. duplicate-extension)"
