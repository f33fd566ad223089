"""Per-certificate structure rules (ios-trust-rules.md §1b): each fires, and stays silent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509

from mailtls import pki
from mailtls.analysis import asn1
from mailtls.analysis.registry import RULES
from tests.analysis.factory import (
    AT,
    Keys,
    Lab,
    analyse,
    der,
    extensions_of,
    failing,
    version1,
    with_extensions,
)


@pytest.fixture
def root_der(lab: Lab) -> bytes:
    return pki.cert_to_der(lab.root())


def _usr(lab: Lab, *certs: x509.Certificate | bytes) -> dict[str, object]:
    chain = [c if isinstance(c, bytes) else pki.cert_to_der(c) for c in certs]
    return failing(analyse(chain, "USR", pki.cert_to_der(lab.root())))


# temporal_validity ------------------------------------------------------------


def test_temporal_validity_boundaries_are_inclusive(lab: Lab, root_der: bytes) -> None:
    leaf = lab.leaf()
    chain = lab.chain(leaf)
    nb, na = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    for at in (nb, na):
        assert "temporal_validity" not in failing(analyse(chain, "USR", root_der, at=at))
    for at in (nb - timedelta(seconds=1), na + timedelta(seconds=1)):
        finding = failing(analyse(chain, "USR", root_der, at=at))["temporal_validity"]
        assert finding.check_key == "TemporalValidity" and finding.cert_index == 0


def test_expired_root_counts_too(lab: Lab, keys: Keys) -> None:
    old_root = pki.issue(
        pki.ca_spec("Test Root CA"),
        keys.root,
        not_before=AT - timedelta(days=900),
        not_after=AT - timedelta(days=1),
    )
    result = analyse(lab.chain(), "USR", pki.cert_to_der(old_root))
    finding = failing(result)["temporal_validity"]
    assert finding.cert_index is None and finding.evidence["from"] == "user"


# ca_basic_constraints / ca_keycertsign / path_len -------------------------------


def test_intermediate_without_basic_constraints(lab: Lab) -> None:
    inter = lab.inter(is_ca=None)
    assert (
        _usr(lab, lab.leaf(issuer=inter), inter)["ca_basic_constraints"].check_key
        == "BasicConstraints"
    )  # type: ignore[attr-defined]


def test_intermediate_with_ca_false(lab: Lab) -> None:
    inter = lab.inter(is_ca=False)
    assert (
        _usr(lab, lab.leaf(issuer=inter), inter)["ca_basic_constraints"].check_key
        == "BasicConstraintsCA"
    )  # type: ignore[attr-defined]


def test_good_intermediate_passes_structure_rules(lab: Lab) -> None:
    fired = _usr(lab, *lab.chain())
    assert not fired


def test_v1_intermediate_below_v3_root(lab: Lab, keys: Keys) -> None:
    inter = version1(pki.cert_to_der(lab.inter()), keys.root)  # type: ignore[arg-type]
    assert "ca_basic_constraints" in _usr(lab, lab.leaf(), inter)


def test_intermediate_without_keycertsign(lab: Lab) -> None:
    inter = lab.inter(key_usage=("digital_signature", "crl_sign"))
    assert _usr(lab, lab.leaf(issuer=inter), inter)["ca_keycertsign"].check_key == "KeyUsage"  # type: ignore[attr-defined]
    no_ku = lab.inter(key_usage="none")
    assert "ca_keycertsign" not in _usr(lab, lab.leaf(issuer=no_ku), no_ku)


def test_path_len(lab: Lab, keys: Keys) -> None:
    for path_length, fires in ((0, True), (1, False)):
        root = lab.root(path_length=path_length)
        inter = lab.inter(root=root)
        result = failing(analyse(der(lab.leaf(issuer=inter), inter), "USR", pki.cert_to_der(root)))
        assert ("path_len" in result) is fires
        if fires:
            assert result["path_len"].check_key == "BasicConstraintsPathLen"


# name_constraints ----------------------------------------------------------------


def _constrained(
    lab: Lab, permitted: list[str] | None, excluded: list[str] | None = None
) -> x509.Certificate:
    nc = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName(p) for p in permitted] if permitted else None,
        excluded_subtrees=[x509.DNSName(e) for e in excluded] if excluded else None,
    )
    return lab.inter(extra_extensions=[(nc, True)])


def test_name_constraints_permitted(lab: Lab) -> None:
    inter = _constrained(lab, ["example.test"])
    assert "name_constraints" not in _usr(lab, lab.leaf("mail.example.test", issuer=inter), inter)
    outside = _usr(lab, lab.leaf("mail.example.test", "mail.other.test", issuer=inter), inter)
    assert outside["name_constraints"].evidence["name"] == "mail.other.test"  # type: ignore[attr-defined]


def test_name_constraints_excluded(lab: Lab) -> None:
    inter = _constrained(lab, None, ["example.test"])
    assert (
        _usr(lab, lab.leaf(issuer=inter), inter)["name_constraints"].check_key == "NameConstraints"
    )  # type: ignore[attr-defined]


def test_name_constraints_of_an_untrusted_root_are_not_applied(lab: Lab, keys: Keys) -> None:
    nc = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName("other.test")], excluded_subtrees=None
    )
    root = lab.root(extra_extensions=[(nc, True)])
    inter = lab.inter(root=root)
    untrusted = failing(analyse(der(lab.leaf(issuer=inter), inter, root)))
    assert "name_constraints" not in untrusted
    trusted = failing(analyse(der(lab.leaf(issuer=inter), inter), "USR", pki.cert_to_der(root)))
    assert "name_constraints" in trusted


# extensions ----------------------------------------------------------------------


def test_unknown_critical_extension(lab: Lab) -> None:
    ext = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")
    assert (
        _usr(lab, lab.leaf(extra_extensions=[(ext, True)]), lab.inter())[
            "unknown_critical_extension"
        ].check_key
        == "CriticalExtensions"
    )  # type: ignore[attr-defined]
    assert "unknown_critical_extension" not in _usr(
        lab, lab.leaf(extra_extensions=[(ext, False)]), lab.inter()
    )


def test_ct_poison_is_an_unknown_critical_extension(lab: Lab) -> None:
    leaf = lab.leaf(extra_extensions=[(x509.PrecertPoison(), True)])
    assert "unknown_critical_extension" in _usr(lab, leaf, lab.inter())


def test_duplicate_extension(lab: Lab, keys: Keys) -> None:
    leaf_der = pki.cert_to_der(lab.leaf())
    exts = extensions_of(leaf_der)
    doubled = with_extensions(leaf_der, [*exts, exts[-1]], keys.inter)  # type: ignore[arg-type]
    fired = _usr(lab, doubled, lab.inter())
    assert fired["duplicate_extension"].check_key == "DuplicateExtension"  # type: ignore[attr-defined]
    assert "duplicate_extension" not in _usr(lab, leaf_der, lab.inter())


def test_unparseable_non_critical_extension(lab: Lab, keys: Keys) -> None:
    leaf_der = pki.cert_to_der(lab.leaf())
    broken_eku = asn1.encode_sequence(
        asn1.encode_oid("2.5.29.37"), asn1.encode(asn1.OCTET_STRING, b"\x30\x05\x06")
    )
    exts = [e for e in extensions_of(leaf_der) if asn1.encode_oid("2.5.29.37") not in e]
    odd = with_extensions(leaf_der, [*exts, broken_eku], keys.inter)  # type: ignore[arg-type]
    assert (
        _usr(lab, odd, lab.inter())["unknown_critical_extension"].check_key
        == "UnparseableExtension"
    )  # type: ignore[attr-defined]


# id_linkage / non_empty_subject ---------------------------------------------------


def test_id_linkage(lab: Lab, keys: Keys) -> None:
    wrong_aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(keys.other.public_key())  # type: ignore[arg-type]
    leaf = lab.leaf(aki=False, extra_extensions=[(wrong_aki, False)])
    assert _usr(lab, leaf, lab.inter())["id_linkage"].check_key == "IdLinkage"  # type: ignore[attr-defined]
    assert "id_linkage" not in _usr(lab, lab.leaf(aki=False), lab.inter())


def test_non_empty_subject(lab: Lab) -> None:
    empty = lab.leaf(cn=None, subject_cn=None)
    assert _usr(lab, empty, lab.inter())["non_empty_subject"].check_key == "NonEmptySubject"  # type: ignore[attr-defined]
    critical_san = lab.leaf(cn=None, subject_cn=None, san_critical=True)
    assert "non_empty_subject" not in _usr(lab, critical_san, lab.inter())


# fatal keys and signatures ----------------------------------------------------------


def test_weak_key_is_fatal_everywhere(lab: Lab, keys: Keys) -> None:
    leaf = lab.leaf(key=keys.rsa512)
    for kind in ("NONE", "USR", "SYS"):
        result = analyse(lab.chain(leaf), kind, pki.cert_to_der(lab.root()))
        assert result.verdict == "fatal", kind
        finding = failing(result)["weak_key_fatal"]
        assert finding.check_key == "WeakKeySize" and finding.result_class == "fatal"
        assert finding.evidence["key_size"] == 512
    assert "weak_key_fatal" not in _usr(lab, lab.leaf(key=keys.rsa1024), lab.inter())


def test_md5_signature_is_fatal(lab: Lab) -> None:
    result = analyse(lab.chain(lab.leaf(hash="md5")), "USR", pki.cert_to_der(lab.root()))
    assert result.verdict == "fatal"
    assert failing(result)["weak_signature_fatal"].check_key == "WeakSignature"
    assert "ios13_sha2" in failing(result)  # both checks fire, as in iOS
    assert "Trust does not help" in result.summary


def test_md5_on_a_self_signed_root_is_not_checked(lab: Lab, keys: Keys) -> None:
    root = pki.issue(
        pki.ca_spec("Test Root CA", hash="md5"),
        keys.root,
        not_before=AT - timedelta(days=10),
        not_after=AT + timedelta(days=999),
    )
    result = analyse(lab.chain(), "USR", pki.cert_to_der(root))
    assert result.verdict == "trusted"


def test_every_decidable_rule_has_metadata() -> None:
    for rule in RULES.values():
        assert rule.title and rule.checks and rule.citation, rule.id
        if rule.check is not None and rule.category == "trust" and rule.result_class is not None:
            assert rule.check_key and rule.fix and rule.user_sees, rule.id


def test_name_constraints_ip_subtrees(lab: Lab) -> None:
    import ipaddress

    nc = x509.NameConstraints(
        permitted_subtrees=[
            x509.IPAddress(ipaddress.ip_network("192.0.2.0/24")),
            x509.DNSName("example.test"),
        ],
        excluded_subtrees=None,
    )
    inter = lab.inter(extra_extensions=[(nc, True)])
    inside = _usr(lab, lab.leaf("mail.example.test", "IP:192.0.2.10", issuer=inter), inter)
    assert "name_constraints" not in inside
    outside = _usr(lab, lab.leaf("mail.example.test", "IP:198.51.100.1", issuer=inter), inter)
    assert outside["name_constraints"].evidence["address"] == "198.51.100.1"  # type: ignore[attr-defined]


def test_policy_constraints(lab: Lab, keys: Keys) -> None:
    policy = x509.ObjectIdentifier("1.3.6.1.4.1.55555.7")
    require = (x509.PolicyConstraints(require_explicit_policy=0, inhibit_policy_mapping=None), True)
    policies = (x509.CertificatePolicies([x509.PolicyInformation(policy, None)]), False)
    any_policy = (
        x509.CertificatePolicies(
            [x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), None)]
        ),
        False,
    )

    inter = lab.inter(extra_extensions=[require, policies])
    missing = _usr(lab, lab.leaf(issuer=inter), inter)
    assert missing["policy_constraints"].check_key == "PolicyConstraints"  # type: ignore[attr-defined]
    assert missing["policy_constraints"].cert_index == 0  # type: ignore[attr-defined]
    assert "policy_constraints" not in _usr(
        lab, lab.leaf(issuer=inter, extra_extensions=[policies]), inter
    )
    other = (
        x509.CertificatePolicies(
            [x509.PolicyInformation(x509.ObjectIdentifier("1.3.6.1.4.1.55555.8"), None)]
        ),
        False,
    )
    assert "policy_constraints" in _usr(
        lab, lab.leaf(issuer=inter, extra_extensions=[other]), inter
    )
    # anyPolicy at the CA accepts any policy below it
    any_inter = lab.inter(extra_extensions=[require, any_policy])
    assert "policy_constraints" not in _usr(
        lab, lab.leaf(issuer=any_inter, extra_extensions=[other]), any_inter
    )
    # without requireExplicitPolicy, missing policies are fine
    assert "policy_constraints" not in _usr(lab, lab.leaf(), lab.inter())
