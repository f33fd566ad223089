"""Scenarios: signature algorithms and key sizes."""

from __future__ import annotations

from mailtls.lab.scenarios.kit import (
    ANCHOR,
    KEY_SIZE,
    SHA2,
    WEAK_KEY,
    WEAK_SIGNATURE,
    Kit,
    Made,
    leaf_spec,
    scenario,
)


@scenario(
    "sha1-leaf",
    "Leaf signed with SHA-1",
    openssl_seclevel=0,
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, SHA2), "USR": (SHA2,)},
    absent={"USR": (WEAK_SIGNATURE,)},
)
def _sha1_leaf(kit: Kit) -> Made:
    """Private chain; the intermediate signs the leaf with sha1WithRSAEncryption (the SHA-256
    TBS re-signed, see mailtls.pki)."""
    return kit.private_chain(leaf_spec(hash="sha1"))


@scenario(
    "sha1-root",
    "Self-signed root signed with SHA-1 (allowed)",
    verdicts={"NONE": "needs_profile", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (SHA2,), "USR": (SHA2,)},
)
def _sha1_root(kit: Kit) -> Made:
    """Root "mailtls Lab SHA-1 Root CA" (other-root key) self-signed with SHA-1 ->
    intermediate (SHA-256) -> leaf (SHA-256); server sends all three. Self-signed
    certificates are never hash-checked."""
    root = kit.other_root("mailtls Lab SHA-1 Root CA", hash="sha1")
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(leaf_spec(), intermediate)
    return Made([leaf, intermediate[0], root[0]], key, root[0])


@scenario(
    "md5-leaf",
    "Leaf signed with MD5 (fatal)",
    openssl_seclevel=0,
    verdicts={"NONE": "fatal", "USR": "fatal", "SYS": "fatal"},
    rules={"NONE": (WEAK_SIGNATURE, SHA2), "USR": (WEAK_SIGNATURE, SHA2), "SYS": (WEAK_SIGNATURE,)},
)
def _md5_leaf(kit: Kit) -> Made:
    """Private chain; the intermediate signs the leaf with md5WithRSAEncryption (re-signed TBS,
    see mailtls.pki): WeakSignature is fatal, Trust cannot help."""
    return kit.private_chain(leaf_spec(hash="md5"))


@scenario(
    "rsa1024-leaf",
    "RSA-1024 leaf key",
    openssl_seclevel=0,
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, KEY_SIZE), "USR": (KEY_SIZE,)},
    absent={"USR": (WEAK_KEY,)},
)
def _rsa1024_leaf(kit: Kit) -> Made:
    """Private chain; leaf key is the committed RSA-1024 lab key (below 2048, above the
    fatal 1024 minimum)."""
    return kit.private_chain(key="leaf-rsa1024")


@scenario(
    "rsa1024-root",
    "RSA-1024 root key (roots count too)",
    verdicts={"USR": "prompt"},
    rules={"USR": (KEY_SIZE,)},
    absent={"USR": (WEAK_KEY,)},
)
def _rsa1024_root(kit: Kit) -> Made:
    """Root "mailtls Lab RSA-1024 Root CA" with the RSA-1024 lab key -> intermediate (RSA-2048)
    -> leaf (RSA-2048); leaf + intermediate sent. KeySize covers the trusted root as well."""
    root = kit.other_root("mailtls Lab RSA-1024 Root CA", key="root-rsa1024")
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(leaf_spec(), intermediate)
    return Made([leaf, intermediate[0]], key, root[0])


@scenario(
    "rsa512-leaf",
    "RSA-512 leaf key (fatal)",
    openssl_seclevel=0,
    verdicts={"NONE": "fatal", "USR": "fatal", "SYS": "fatal"},
    rules={"NONE": (WEAK_KEY,), "USR": (WEAK_KEY,), "SYS": (WEAK_KEY,)},
)
def _rsa512_leaf(kit: Kit) -> Made:
    """Private chain; leaf key is the committed RSA-512 lab key (made with openssl genrsa 512):
    WeakKeySize is fatal. OpenSSL 3 only serves it at @SECLEVEL=0."""
    return kit.private_chain(key="leaf-rsa512")


@scenario(
    "ed25519-leaf",
    "Ed25519 leaf key (not in Apple's TLS key-size table)",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, KEY_SIZE), "USR": (KEY_SIZE,)},
    absent={"USR": (WEAK_KEY,)},
)
def _ed25519_leaf(kit: Kit) -> Made:
    """Private chain; leaf key is the committed Ed25519 lab key (keyUsage digitalSignature),
    signed by the RSA intermediate with SHA-256."""
    return kit.private_chain(leaf_spec(key_usage=("digital_signature",)), key="leaf-ed25519")
