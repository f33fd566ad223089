"""Fixtures for the remedy tests: certificates made with mailtls.pki, keys cached per session.

Provenance: every certificate here is generated at test time by mailtls.pki with fixed
dates (NOW below), so nothing depends on the clock or on files from elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from mailtls import pki

from .helpers import NOW


@pytest.fixture(scope="session")
def ec_key() -> pki.PrivateKey:
    return pki.generate_key("ec", 256)


@pytest.fixture(scope="session")
def rsa_key() -> pki.PrivateKey:
    return pki.generate_key("rsa", 2048)


@pytest.fixture(scope="session")
def make_root(ec_key: pki.PrivateKey) -> Callable[..., bytes]:
    """A self-signed CA certificate (DER); keywords change one CertSpec field each."""

    def build(key: pki.PrivateKey | None = None, **changes: object) -> bytes:
        spec = pki.ca_spec("Example Mail Root", org="Example Org")
        spec.not_before = NOW - timedelta(days=30)
        spec.not_after = NOW + timedelta(days=3650)
        for name, value in changes.items():
            setattr(spec, name, value)
        cert = pki.issue(spec, key or ec_key)
        return pki.cert_to_der(cert)

    return build


@pytest.fixture()
def engine() -> None:
    """Skip when mailtls's trust engine (helper D's mailtls.analysis) is not there yet."""
    from mailtls.remedy.verify import engine_available

    if not engine_available():
        pytest.skip("mailtls.analysis (the trust engine) is not available yet")
