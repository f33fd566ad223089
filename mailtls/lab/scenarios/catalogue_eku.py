"""Scenarios: extended key usage."""

from __future__ import annotations

from cryptography.x509.oid import ExtendedKeyUsageOID

from mailtls.lab.scenarios.kit import (
    ANCHOR,
    CT,
    EKU_COMPATIBLE,
    EKU_SERVER_AUTH,
    Kit,
    Made,
    leaf_spec,
    scenario,
)


@scenario(
    "no-eku-after-2019",
    "Leaf without extendedKeyUsage, issued after 2019-06-30",
    verdicts={"NONE": "prompt", "USR": "trusted", "SYS": "prompt"},
    rules={"NONE": (ANCHOR, EKU_SERVER_AUTH), "SYS": (EKU_SERVER_AUTH, CT)},
    absent={"NONE": (EKU_COMPATIBLE,), "SYS": (EKU_COMPATIBLE,)},
)
def _no_eku_after_2019(kit: Kit) -> Made:
    """Private chain; leaf has no EKU extension (notBefore now-30d): serverAuth is required
    for NONE and SYS, the check is skipped for a user-trusted root."""
    return kit.private_chain(leaf_spec(eku=None))


@scenario(
    "eku-any",
    "Leaf EKU anyExtendedKeyUsage only",
    verdicts={"NONE": "prompt", "USR": "trusted", "SYS": "prompt"},
    rules={"NONE": (ANCHOR,), "SYS": (EKU_SERVER_AUTH, CT)},
    absent={"NONE": (EKU_COMPATIBLE,), "SYS": (EKU_COMPATIBLE,)},
)
def _eku_any(kit: Kit) -> Made:
    """Private chain; leaf EKU is only anyExtendedKeyUsage (2.5.29.37.0): TLS-compatible, but
    a system-anchored chain needs serverAuth listed explicitly."""
    return kit.private_chain(leaf_spec(eku=(ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,)))


@scenario(
    "eku-clientauth-only",
    "Leaf EKU clientAuth only",
    verdicts={"NONE": "prompt", "USR": "prompt", "SYS": "prompt"},
    rules={
        "NONE": (ANCHOR, EKU_COMPATIBLE, EKU_SERVER_AUTH),
        "USR": (EKU_COMPATIBLE,),
        "SYS": (EKU_COMPATIBLE, EKU_SERVER_AUTH),
    },
    absent={"USR": (EKU_SERVER_AUTH,)},
)
def _eku_clientauth_only(kit: Kit) -> Made:
    """Private chain; leaf EKU is only clientAuth: not TLS-server compatible under any root."""
    return kit.private_chain(leaf_spec(eku=(ExtendedKeyUsageOID.CLIENT_AUTH,)))


@scenario(
    "intermediate-eku-clientauth",
    "Intermediate restricted to clientAuth",
    verdicts={"USR": "prompt"},
    rules={"USR": (EKU_COMPATIBLE,)},
)
def _intermediate_eku_clientauth(kit: Kit) -> Made:
    """Lab root -> intermediate with EKU clientAuth only (own serial) -> good leaf; leaf +
    intermediate sent. Every intermediate with an EKU must allow TLS server use."""
    intermediate = kit.intermediate(eku=(ExtendedKeyUsageOID.CLIENT_AUTH,))
    leaf, key = kit.leaf(leaf_spec(), intermediate)
    return Made([leaf, intermediate[0]], key, kit.root()[0])
