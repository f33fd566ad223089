"""Fixtures for service tests: scenario chains (mailtls.lab.scenarios) served by labs.

Provenance: every chain comes from the scenario catalogue built for FIXTURE_NOW (public lab
keys committed under mailtls/lab/keys/, deterministic), served by in-process lab servers
on loopback; DNS comes from tests/dnsserver.py on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailtls.lab.scenarios import Scenario, build_scenario
from mailtls.lab.servers import Lab, start_lab
from mailtls.service import CheckOptions

FIXTURE_NOW = datetime(2026, 11, 1, tzinfo=UTC)


def scenario(name: str) -> Scenario:
    return build_scenario(name, now=FIXTURE_NOW)


def url_targets(lab: Lab, host: str) -> list[str]:
    """One URL per lab endpoint, with the lab's port (the lab runs on free ports)."""
    return [f"{scheme}://{host}:{port}" for scheme, port in lab.endpoints.items()]


def options(**overrides: object) -> CheckOptions:
    """Test defaults: loopback address, fixture time, short deadline, never any history."""
    values: dict[str, object] = {
        "address": ("127.0.0.1",),
        "at": FIXTURE_NOW,
        "timeout": 5.0,
        "history": None,
    }
    values.update(overrides)
    return CheckOptions(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def good() -> Scenario:
    return scenario("good-private")


@pytest.fixture(scope="module")
def good_lab(good: Scenario) -> Iterator[Lab]:
    with start_lab(good.chain_pem, good.key_pem) as lab:
        yield lab


@pytest.fixture
def root_file(good: Scenario, tmp_path: Path) -> Path:
    assert good.root_pem is not None
    path = tmp_path / "lab-root.pem"
    path.write_bytes(good.root_pem)
    return path
