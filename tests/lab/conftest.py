"""Fixtures for the lab tests: chains made with mailtls.pki at test time.

Provenance: every certificate is generated here by mailtls.pki (EC P-256 keys for speed,
one RSA-1024/SHA-1 chain for the weak case) with fixed dates around NOW, so nothing
depends on the clock or on files from elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from mailtls import pki
from mailtls.lab.servers import Lab, start_lab

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class LabChain:
    """root -> intermediate -> leaf for one host, with the leaf key."""

    root: bytes  # PEM
    intermediate: bytes
    leaf: bytes
    leaf_key: bytes
    unrelated: bytes  # a self-signed CA that has nothing to do with this chain

    @property
    def full(self) -> bytes:
        return self.leaf + self.intermediate + self.root

    @property
    def served(self) -> bytes:
        """What a correct server sends: leaf and intermediate, no root."""
        return self.leaf + self.intermediate


def make_chain(
    host: str = "mail.example.test", *, kind: str = "ec", size: int = 256, hash: str = "sha256"
) -> LabChain:
    root_key = pki.generate_key(kind, size)
    inter_key = pki.generate_key(kind, size)
    leaf_key = pki.generate_key(kind, size)
    other_key = pki.generate_key(kind, size)
    dates = {"not_before": NOW - pki.days(30), "not_after": NOW + pki.days(300)}
    root = pki.issue(pki.ca_spec(f"Lab Test Root for {host}"), root_key, **dates)
    inter = pki.issue(
        pki.ca_spec(f"Lab Test Intermediate for {host}"),
        inter_key,
        issuer_cert=root,
        issuer_key=root_key,
        **dates,
    )
    leaf = pki.issue(
        pki.leaf_spec(host, hash=hash), leaf_key, issuer_cert=inter, issuer_key=inter_key, **dates
    )
    other = pki.issue(pki.ca_spec("Unrelated Root"), other_key, **dates)
    return LabChain(
        root=pki.cert_to_pem(root),
        intermediate=pki.cert_to_pem(inter),
        leaf=pki.cert_to_pem(leaf),
        leaf_key=pki.key_to_pem(leaf_key),
        unrelated=pki.cert_to_pem(other),
    )


@pytest.fixture(scope="session")
def chain() -> LabChain:
    return make_chain("mail.example.test")


@pytest.fixture(scope="session")
def other_chain() -> LabChain:
    return make_chain("other.example.test")


@pytest.fixture(scope="module")
def lab(chain: LabChain) -> Iterator[Lab]:
    """One lab with all 7 endpoint kinds serving leaf + intermediate."""
    with start_lab(chain.served, chain.leaf_key) as running:
        yield running
