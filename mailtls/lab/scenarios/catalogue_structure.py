"""Scenarios: extensions and structure (critical extensions, linkage, order, duplicates)."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, ObjectIdentifier

from mailtls.lab.scenarios.kit import (
    ANCHOR,
    CRITICAL_EXTENSION,
    DUPLICATE_EXTENSION,
    EMPTY_SUBJECT,
    ID_LINKAGE,
    PATH_LEN,
    Kit,
    Made,
    leaf_spec,
    scenario,
)

# A private-use OID (2.25 UUID arc, RFC 4122 §3 / X.667) that no verifier knows.
_UNKNOWN_OID = ObjectIdentifier("2.25.329800735698586629295641978511506172918")


@scenario(
    "unknown-critical-extension",
    "Leaf with an unknown critical extension",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, CRITICAL_EXTENSION), "USR": (CRITICAL_EXTENSION,)},
)
def _unknown_critical_extension(kit: Kit) -> Made:
    """Private chain; leaf carries extension 2.25.329800735698586629295641978511506172918
    (value DER NULL) marked critical (CriticalExtensions)."""
    ext = x509.UnrecognizedExtension(_UNKNOWN_OID, b"\x05\x00")
    return kit.private_chain(leaf_spec(extra_extensions=[(ext, True)]))


@scenario(
    "unknown-noncritical-extension",
    "Leaf with an unknown non-critical extension (ignored)",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (CRITICAL_EXTENSION,)},
)
def _unknown_noncritical_extension(kit: Kit) -> Made:
    """Private chain; leaf carries the same unknown extension (value DER NULL), not critical."""
    ext = x509.UnrecognizedExtension(_UNKNOWN_OID, b"\x05\x00")
    return kit.private_chain(leaf_spec(extra_extensions=[(ext, False)]))


@scenario(
    "aki-mismatch",
    "Leaf authorityKeyIdentifier does not match the issuer's SKI",
    verdicts={"USR": "prompt"},
    rules={"USR": (ID_LINKAGE,)},
)
def _aki_mismatch(kit: Kit) -> Made:
    """Private chain; leaf AKI keyIdentifier is 20 bytes of 0x5A instead of the intermediate's
    SKI (issuer name and signature still correct): IdLinkage."""
    aki = x509.AuthorityKeyIdentifier(b"\x5a" * 20, None, None)
    return kit.private_chain(leaf_spec(aki=False, extra_extensions=[(aki, False)]))


@scenario(
    "empty-subject-noncritical-san",
    "Leaf with an empty subject and a non-critical SAN",
    verdicts={"USR": "prompt"},
    rules={"USR": (EMPTY_SUBJECT,)},
)
def _empty_subject_noncritical_san(kit: Kit) -> Made:
    """Private chain; leaf subject is the empty name, SAN mail.example.test not marked
    critical (RFC 5280 §4.2.1.6 requires critical): NonEmptySubject."""
    return kit.private_chain(leaf_spec(cn=None, subject_cn=None))


@scenario(
    "empty-subject-critical-san",
    "Leaf with an empty subject and a critical SAN",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (EMPTY_SUBJECT,)},
)
def _empty_subject_critical_san(kit: Kit) -> Made:
    """Private chain; leaf subject is the empty name, SAN mail.example.test marked critical."""
    return kit.private_chain(leaf_spec(subject_cn=None, san_critical=True))


@scenario(
    "wrong-order",
    "Server sends leaf, root, intermediate (scrambled order)",
    verdicts={"NONE": "needs_profile", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("chain_order", "chain_root_included"), "USR": ("chain_order",)},
)
def _wrong_order(kit: Kit) -> Made:
    """The good-private-with-root chain sent as leaf, root, intermediate: iOS still builds
    the path (a deployment finding, not a trust failure)."""
    made = kit.private_chain(send_root=True)
    leaf, intermediate, root = made.chain
    return Made([leaf, root, intermediate], made.key, made.root)


@scenario(
    "extra-unrelated-cert",
    "Server also sends an unrelated certificate",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("chain_unrelated_certificate",), "USR": ("chain_unrelated_certificate",)},
)
def _extra_unrelated_cert(kit: Kit) -> Made:
    """Good-private chain plus the self-signed "mailtls Lab Unrelated CA" (other-root key) at
    the end: ignored by path building (a deployment finding)."""
    made = kit.private_chain()
    unrelated = kit.other_root("mailtls Lab Unrelated CA")
    return Made([*made.chain, unrelated[0]], made.key, made.root)


@scenario(
    "root-without-cn",
    "Server sends a private root that has no subject CN",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("ios_cts_ui_lists_ca_only",)},
)
def _root_without_cn(kit: Kit) -> Made:
    """Root with subject O=mailtls lab only (other-root key, CA:TRUE) -> intermediate -> leaf;
    server sends all three. Installing the root would fix it, but iOS reportedly does not list
    a root without CN in Certificate Trust Settings: prompt, not needs_profile."""
    root = kit.other_root("")
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(leaf_spec(), intermediate)
    return Made([leaf, intermediate[0], root[0]], key, root[0])


@scenario(
    "root-pathlen-one",
    "Root with pathLenConstraint 1 above one intermediate (allowed)",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (PATH_LEN,)},
)
def _root_pathlen_one(kit: Kit) -> Made:
    """Root "mailtls Lab pathLen-1 Root CA" (other-root key, pathLenConstraint 1) ->
    intermediate -> leaf; leaf + intermediate sent."""
    root = kit.other_root("mailtls Lab pathLen-1 Root CA", path_length=1)
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(leaf_spec(), intermediate)
    return Made([leaf, intermediate[0]], key, root[0])


@scenario(
    "leaf-is-ca",
    "Server leaf carries basicConstraints CA:TRUE (allowed for TLS)",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
)
def _leaf_is_ca(kit: Kit) -> Made:
    """Private chain; the leaf (signed by the intermediate) has CA:TRUE and keyCertSign added:
    the SSL policy has no NotCA check (leaf_may_be_ca)."""
    return kit.private_chain(
        leaf_spec(is_ca=True, key_usage=("digital_signature", "key_encipherment", "key_cert_sign"))
    )


@scenario(
    "leaf-keyusage-unusual",
    "Leaf keyUsage without digitalSignature (not checked by the SSL policy)",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
)
def _leaf_keyusage_unusual(kit: Kit) -> Made:
    """Private chain; leaf keyUsage is only keyEncipherment (no digitalSignature): the plain SSL
    policy adds no keyUsage requirement (leaf_key_usage_not_checked). A TLS 1.3 stack may still
    refuse it; the trust verdict does not."""
    return kit.private_chain(leaf_spec(key_usage=("key_encipherment",)))


@scenario(
    "duplicate-certificate",
    "Server sends the intermediate twice",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("chain_duplicate_certificate",), "USR": ("chain_duplicate_certificate",)},
)
def _duplicate_certificate(kit: Kit) -> Made:
    """Good-private chain with the lab intermediate sent twice (leaf, intermediate,
    intermediate): harmless, a deployment notice."""
    made = kit.private_chain()
    return Made([*made.chain, made.chain[1]], made.key, made.root)


@scenario(
    "duplicate-extension",
    "Leaf carries the subjectKeyIdentifier extension twice",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, DUPLICATE_EXTENSION), "USR": (DUPLICATE_EXTENSION,)},
    openssl_loads=False,
)
def _duplicate_extension(kit: Kit) -> Made:
    """Private chain; the leaf's DER was edited to repeat its subjectKeyIdentifier extension
    and re-signed by the intermediate (SHA-256): DuplicateExtension (R). OpenSSL refuses to
    load such a certificate, so no OpenSSL server can send it: a file fixture for inspect."""
    return kit.private_chain(leaf_spec(duplicate_extensions=(ExtensionOID.SUBJECT_KEY_IDENTIFIER,)))
