"""Scenarios: CA certificates (basicConstraints, keyUsage, path length, name constraints)."""

from __future__ import annotations

from cryptography import x509

from mailtls.lab.scenarios.kit import (
    ANCHOR,
    BASIC_CONSTRAINTS,
    KEY_CERT_SIGN,
    NAME_CONSTRAINTS,
    PATH_LEN,
    Kit,
    Made,
    leaf_spec,
    scenario,
)


@scenario(
    "intermediate-not-ca",
    "Intermediate with basicConstraints CA:FALSE",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, BASIC_CONSTRAINTS), "USR": (BASIC_CONSTRAINTS,)},
)
def _intermediate_not_ca(kit: Kit) -> Made:
    """Lab root -> "intermediate" with basicConstraints CA:FALSE (keyCertSign still set) ->
    good leaf; leaf + intermediate sent (BasicConstraintsCA)."""
    intermediate = kit.intermediate(is_ca=False)
    leaf, key = kit.leaf(leaf_spec(), intermediate)
    return Made([leaf, intermediate[0]], key, kit.root()[0])


@scenario(
    "intermediate-no-basic-constraints",
    "Intermediate without basicConstraints",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, BASIC_CONSTRAINTS), "USR": (BASIC_CONSTRAINTS,)},
)
def _intermediate_no_basic_constraints(kit: Kit) -> Made:
    """Lab root -> v3 intermediate with no basicConstraints extension -> good leaf; leaf +
    intermediate sent (BasicConstraints)."""
    intermediate = kit.intermediate(is_ca=None)
    leaf, key = kit.leaf(leaf_spec(), intermediate)
    return Made([leaf, intermediate[0]], key, kit.root()[0])


@scenario(
    "intermediate-no-keycertsign",
    "Intermediate keyUsage without keyCertSign",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, KEY_CERT_SIGN), "USR": (KEY_CERT_SIGN,)},
)
def _intermediate_no_keycertsign(kit: Kit) -> Made:
    """Lab root -> intermediate (CA:TRUE) whose keyUsage is digitalSignature + cRLSign only ->
    good leaf; leaf + intermediate sent."""
    intermediate = kit.intermediate(key_usage=("digital_signature", "crl_sign"))
    leaf, key = kit.leaf(leaf_spec(), intermediate)
    return Made([leaf, intermediate[0]], key, kit.root()[0])


@scenario(
    "root-pathlen-zero",
    "Root with pathLenConstraint 0 above an intermediate",
    verdicts={"USR": "prompt"},
    rules={"USR": (PATH_LEN,)},
)
def _root_pathlen_zero(kit: Kit) -> Made:
    """Root "mailtls Lab pathLen-0 Root CA" (other-root key, pathLenConstraint 0) ->
    intermediate -> leaf; leaf + intermediate sent. A trusted anchor's own pathLen applies."""
    root = kit.other_root("mailtls Lab pathLen-0 Root CA", path_length=0)
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(leaf_spec(), intermediate)
    return Made([leaf, intermediate[0]], key, root[0])


def _name_constraints_chain(kit: Kit, permitted: str) -> Made:
    constraint = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName(permitted)], excluded_subtrees=None
    )
    intermediate = kit.intermediate(extra_extensions=[(constraint, True)])
    leaf, key = kit.leaf(leaf_spec(), intermediate)
    return Made([leaf, intermediate[0]], key, kit.root()[0])


@scenario(
    "name-constraints-violated",
    "Intermediate name-constrained to example.org, leaf for mail.example.test",
    verdicts={"USR": "prompt"},
    rules={"USR": (NAME_CONSTRAINTS,)},
)
def _name_constraints_violated(kit: Kit) -> Made:
    """Lab root -> intermediate with critical nameConstraints permitting only DNS example.org
    -> leaf mail.example.test; leaf + intermediate sent."""
    return _name_constraints_chain(kit, "example.org")


@scenario(
    "name-constraints-ok",
    "Intermediate name-constrained to example.test, leaf inside it",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (NAME_CONSTRAINTS,)},
)
def _name_constraints_ok(kit: Kit) -> Made:
    """Lab root -> intermediate with critical nameConstraints permitting DNS example.test ->
    leaf mail.example.test; leaf + intermediate sent."""
    return _name_constraints_chain(kit, "example.test")
