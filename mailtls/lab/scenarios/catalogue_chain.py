"""Scenarios: good chains, the real-server matrix, missing intermediates and dates."""

from __future__ import annotations

from datetime import timedelta

from mailtls.lab.scenarios.kit import (
    ANCHOR,
    ANCHOR_KINDS,
    CT,
    EKU_SERVER_AUTH,
    KEY_SIZE,
    LAB_ORG,
    MAX_398,
    MAX_825,
    TEMPORAL,
    Kit,
    Made,
    leaf_spec,
    scenario,
    utc,
)


@scenario(
    "good-private",
    "Private CA, full chain sent (leaf + intermediate), 397-day leaf",
    verdicts={"NONE": "prompt", "USR": "trusted", "SYS": "prompt"},
    rules={"NONE": (ANCHOR,), "SYS": (CT,)},
    absent={"SYS": (MAX_398, EKU_SERVER_AUTH, ANCHOR), "NONE": (MAX_825, EKU_SERVER_AUTH)},
    demo=True,
    notices={"USR": ("profile_root_needs_full_trust",)},
)
def _good_private(kit: Kit) -> Made:
    """mkcert-style private chain: lab root (RSA-2048, CA:TRUE, CN) -> lab intermediate ->
    leaf mail.example.test (SAN+CN, serverAuth, RSA-2048, SHA-256, notBefore now-30d, 397 days);
    the server sends leaf and intermediate, not the root. Without the root installed the path
    ends at the intermediate (MissingIntermediate); under SYS only CT fails (no SCTs)."""
    return kit.private_chain()


@scenario(
    "good-private-with-root",
    "Private CA, server also sends its root",
    verdicts={"NONE": "needs_profile", "USR": "trusted", "SYS": "prompt"},
    rules={"NONE": (ANCHOR,), "SYS": (CT,)},
    notices={"NONE": ("chain_root_included",), "USR": ("chain_root_included",)},
)
def _good_private_with_root(kit: Kit) -> Made:
    """Same chain as good-private, but the server sends leaf, intermediate and the lab root.
    The path ends in a self-signed CA:TRUE root with a CN that is not trusted (AnchorTrusted):
    installing that root with full trust fixes everything."""
    return kit.private_chain(send_root=True)


@scenario(
    "self-signed-ca",
    "Self-signed CA:TRUE server certificate (leaf is its own root)",
    verdicts={"NONE": "needs_profile", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (EKU_SERVER_AUTH, MAX_825, KEY_SIZE)},
    demo=True,
)
def _self_signed_ca(kit: Kit) -> Made:
    """One self-signed certificate for mail.example.test with basicConstraints CA:TRUE
    (critical), CN and SAN mail.example.test, EKU serverAuth, keyUsage digitalSignature +
    keyEncipherment + keyCertSign, RSA-2048, SHA-256, 397 days. iOS lists it in Certificate
    Trust Settings, so a profile with full trust makes it a user anchor (USR-LEAF)."""
    spec = leaf_spec(
        is_ca=True,
        key_usage=("digital_signature", "key_encipherment", "key_cert_sign"),
        subject_org=LAB_ORG,
    )
    leaf, key = kit.leaf(spec, None)
    return Made([leaf], key, leaf)


@scenario(
    "self-signed-ca-no-cn",
    "Self-signed CA:TRUE server certificate without a subject CN",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("ios_cts_ui_lists_ca_only",)},
)
def _self_signed_ca_no_cn(kit: Kit) -> Made:
    """Like self-signed-ca but the subject is only O=mailtls lab (no CN; SAN still
    mail.example.test): reportedly not listed in Certificate Trust Settings, so not
    needs_profile (ios_cts_ui_lists_ca_only)."""
    spec = leaf_spec(
        is_ca=True,
        key_usage=("digital_signature", "key_encipherment", "key_cert_sign"),
        subject_org=LAB_ORG,
        subject_cn=None,
    )
    leaf, key = kit.leaf(spec, None)
    return Made([leaf], key, leaf)


@scenario(
    "self-signed-leaf",
    "Self-signed CA:FALSE server certificate (cannot be offered for full trust)",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("ios_cts_ui_lists_ca_only",)},
)
def _self_signed_leaf(kit: Kit) -> Made:
    """One self-signed certificate for mail.example.test with basicConstraints CA:FALSE, SAN and
    CN mail.example.test, serverAuth, RSA-2048, SHA-256, 397 days (like Apple's
    _testSHA2SelfSigned). Not a CA, so Certificate Trust Settings never lists it
    (ios_cts_ui_lists_ca_only): prompt, never needs_profile. Only MDM (USR) can anchor it."""
    leaf, key = kit.leaf(leaf_spec(), None)
    return Made([leaf], key, leaf)


@scenario(
    "missing-intermediate",
    "Private chain served without its intermediate",
    verdicts={"NONE": "prompt", "USR": "prompt", "SYS": "prompt"},
    rules={"NONE": (ANCHOR,), "USR": (ANCHOR,), "SYS": (ANCHOR,)},
    demo=True,
    notices={k: ("chain_missing_intermediate",) for k in ANCHOR_KINDS},
)
def _missing_intermediate(kit: Kit) -> Made:
    """The good-private leaf sent alone: its issuer (lab intermediate) is neither sent nor in
    any store and the leaf has no AIA, so no path reaches the root even when the root is
    installed (MissingIntermediate)."""
    made = kit.private_chain()
    return Made(made.chain[:1], made.key, made.root)


@scenario(
    "expired",
    "Leaf expired 30 days ago",
    verdicts={"NONE": "prompt", "USR": "prompt", "SYS": "prompt"},
    rules={"NONE": (ANCHOR, TEMPORAL), "USR": (TEMPORAL,), "SYS": (TEMPORAL,)},
)
def _expired(kit: Kit) -> Made:
    """Private chain (leaf + intermediate sent); leaf notBefore now-427d, notAfter now-30d
    (397 days), otherwise like good-private."""
    return kit.private_chain(
        not_before=kit.now - timedelta(days=427), not_after=kit.now - timedelta(days=30)
    )


@scenario(
    "not-yet-valid",
    "Leaf valid only from 7 days from now",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, TEMPORAL), "USR": (TEMPORAL,)},
)
def _not_yet_valid(kit: Kit) -> Made:
    """Private chain; leaf notBefore now+7d, 397 days (a clock or a too-early deployment)."""
    nb = kit.now + timedelta(days=7)
    return kit.private_chain(not_before=nb, not_after=nb + timedelta(days=397))


@scenario(
    "expiring-soon",
    "Valid leaf that expires in 10 days",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"USR": (TEMPORAL,), "NONE": (TEMPORAL,)},
    notices={"NONE": ("expiry_soon",), "USR": ("expiry_soon",)},
)
def _expiring_soon(kit: Kit) -> Made:
    """Private chain; leaf notBefore now-387d, notAfter now+10d (397 days): trusted today,
    with an expiry warning (within 30 days)."""
    return kit.private_chain(
        not_before=kit.now - timedelta(days=387), not_after=kit.now + timedelta(days=10)
    )


@scenario(
    "expired-root",
    "The installed root itself has expired",
    verdicts={"USR": "prompt"},
    rules={"USR": (TEMPORAL,)},
)
def _expired_root(kit: Kit) -> Made:
    """Root "mailtls Lab Expired Root CA" (other-root key, notBefore 20 years back, notAfter
    now-1d) -> intermediate -> leaf, all else good; leaf + intermediate sent. Validity is
    checked on every certificate of the path, the trusted root included."""
    root = kit.other_root(
        "mailtls Lab Expired Root CA",
        not_before=utc(kit.now.year - 20),
        not_after=kit.now - timedelta(days=1),
    )
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(leaf_spec(), intermediate)
    return Made([leaf, intermediate[0]], key, root[0])
