"""Chains for the rig's own tests, made with mailtls.pki (deterministic dates, fresh keys)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mailtls import pki

#: Fixed "now" for certificate dates: the servers do not care, the clients do not verify.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Material:
    chain_pem: bytes  # leaf first, then the intermediates/root in serving order
    key_pem: bytes
    root_pem: bytes


def private_chain(
    host: str = "mail.example.test",
    *,
    leaf_key: tuple[str, int] = ("ec", 256),
    leaf_hash: pki.HashName = "sha256",
    issuer_key_type: tuple[str, int] = ("ec", 256),
    with_intermediate: bool = True,
    include_root: bool = False,
) -> Material:
    """root -> [intermediate ->] leaf for ``host``."""
    not_before, not_after = EPOCH - pki.days(30), EPOCH + pki.days(365)
    root_key = pki.generate_key(*issuer_key_type)
    root = pki.issue(
        pki.ca_spec("Rig Test Root"), root_key, not_before=not_before, not_after=not_after
    )
    issuer, issuer_key = root, root_key
    middle: list[bytes] = []
    if with_intermediate:
        inter_key = pki.generate_key(*issuer_key_type)
        inter = pki.issue(
            pki.ca_spec("Rig Test Intermediate"),
            inter_key,
            issuer_cert=root,
            issuer_key=root_key,
            not_before=not_before,
            not_after=not_after,
        )
        middle.append(pki.cert_to_pem(inter))
        issuer, issuer_key = inter, inter_key
    key = pki.generate_key(*leaf_key)
    leaf = pki.issue(
        pki.leaf_spec(host, hash=leaf_hash),
        key,
        issuer_cert=issuer,
        issuer_key=issuer_key,
        not_before=not_before,
        not_after=not_after,
    )
    root_pem = pki.cert_to_pem(root)
    chain = pki.cert_to_pem(leaf) + b"".join(middle) + (root_pem if include_root else b"")
    return Material(chain, pki.key_to_pem(key), root_pem)
