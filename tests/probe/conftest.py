"""Fixtures for probe tests: a certificate chain made once per session, hostile servers.

Provenance: every certificate here is made by mailtls.pki at session start (EC P-256
keys, fixed dates); nothing is read from disk or the network.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailtls import pki
from tests.hostile import HostileServers
from tests.probe.certs import Chain, make_chain


@pytest.fixture(scope="session")
def keys() -> tuple[pki.PrivateKey, pki.PrivateKey]:
    return pki.generate_key("ec", 256), pki.generate_key("ec", 256)


@pytest.fixture(scope="session")
def chain(keys: tuple[pki.PrivateKey, pki.PrivateKey]) -> Chain:
    return make_chain("Probe A", *keys)


@pytest.fixture(scope="session")
def other_chain(keys: tuple[pki.PrivateKey, pki.PrivateKey]) -> Chain:
    return make_chain("Probe B", *keys)


@pytest.fixture
def servers() -> Iterator[HostileServers]:
    with HostileServers() as running:
        yield running
