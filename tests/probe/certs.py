"""The certificate chains probe tests serve (made by mailtls.pki, fixed dates, EC P-256).

Provenance: every certificate is made at session start by :func:`make_chain`; nothing is
read from disk or the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailtls import pki

NOT_BEFORE = datetime(2026, 1, 1)
NOT_AFTER = datetime(2026, 12, 1)


@dataclass(frozen=True)
class Chain:
    """A leaf for localhost / mail.example.test / 127.0.0.1 / ::1, its intermediate and root."""

    certs: tuple[bytes, ...]  # DER, leaf first, as the server presents them
    key: pki.PrivateKey  # the leaf's key


def make_chain(label: str, leaf_key: pki.PrivateKey, ca_key: pki.PrivateKey) -> Chain:
    root = pki.issue(
        pki.ca_spec(f"{label} Root"), ca_key, not_before=NOT_BEFORE, not_after=NOT_AFTER
    )
    inter = pki.issue(
        pki.ca_spec(f"{label} Intermediate"),
        ca_key,
        issuer_cert=root,
        issuer_key=ca_key,
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    leaf = pki.issue(
        pki.leaf_spec("mail.example.test", "localhost", "127.0.0.1", "::1"),
        leaf_key,
        issuer_cert=inter,
        issuer_key=ca_key,
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    return Chain(tuple(pki.cert_to_der(c) for c in (leaf, inter, root)), leaf_key)
