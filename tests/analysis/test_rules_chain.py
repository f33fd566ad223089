"""Path building, anchoring and what the server sent (ios-trust-rules.md §1a; deployment findings)."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from mailtls import pki
from mailtls.analysis import analyze_chain, system_store, user_store
from mailtls.model import AnchorKind, Category, Severity
from tests.analysis.factory import AT, HOST, Keys, Lab, analyse, ct_logged, der, failing, fired


def test_private_chain_with_root_installed_is_trusted(lab: Lab) -> None:
    result = analyse(lab.chain(), "USR", pki.cert_to_der(lab.root()))
    assert result.verdict == "trusted" and result.anchor_kind is AnchorKind.USR
    assert [p.source for p in result.path][:2] == ["presented", "presented"]
    assert result.path[-1].source == "test installed roots" and result.path[-1].index is None
    assert not failing(result)
    assert fired(result, "profile_root_needs_full_trust")[0].severity is Severity.INFO
    assert result.user_sees.startswith("Nothing")


def test_untrusted_root_fires_anchor_trusted(lab: Lab) -> None:
    result = analyse(lab.chain(with_root=True))
    finding = failing(result)["chain_anchor_required"]
    assert finding.check_key == "AnchorTrusted" and finding.cert_index == 2
    assert finding.result_class == "recoverable"


def test_missing_root_of_private_chain_is_missing_intermediate_not_needs_profile(lab: Lab) -> None:
    result = analyse(lab.chain())
    assert result.verdict == "prompt"
    assert failing(result)["chain_anchor_required"].check_key == "MissingIntermediate"
    assert "chain_missing_intermediate" in failing(result)


def test_missing_issuer_is_named_and_both_fixes_are_offered(lab: Lab) -> None:
    """The issuer may be a private root (not sent, not installed) or an intermediate:
    mailtls cannot tell, so it names the issuer and offers the profile and the full chain."""
    inter = lab.inter()
    key_id = inter.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert key_id.key_identifier is not None
    shown = ":".join(f"{b:02X}" for b in key_id.key_identifier)
    result = analyse(lab.chain())  # root neither sent nor installed
    anchor = failing(result)["chain_anchor_required"]
    deploy = failing(result)["chain_missing_intermediate"]
    # the key id is evidence for the admin (deployment finding); the trust finding's
    # sentence is read out to users and stays short
    assert "CN=Test Root CA" in anchor.summary and "key id" not in anchor.summary
    assert anchor.evidence["aki"] is not None
    assert "CN=Test Root CA" in deploy.summary and shown in deploy.summary
    for finding in (anchor, deploy):
        assert finding.remedy == "full_chain"
        assert "'Test Root CA'" in finding.fix
        assert "is your private root, install it on the iPhones" in finding.fix
        assert "mailtls profile ROOT.pem" in finding.fix and "--ca-file ROOT.pem" in finding.fix
        assert "if it is an intermediate, configure the server to send it" in finding.fix.lower()
    assert deploy.title == "Issuer certificate missing: not sent, not installed"
    assert "intermediate certificate" not in deploy.title
    assert deploy.evidence["missing_issuer_key_id"] == shown
    assert "cannot tell whether 'Test Root CA' is a root or an intermediate" in deploy.fix


def test_missing_issuer_without_key_id(lab: Lab) -> None:
    leaf = lab.leaf(issuer=lab.inter(), aki=False)
    result = analyse(lab.chain(leaf)[:1], "USR", pki.cert_to_der(lab.root()))
    finding = failing(result)["chain_missing_intermediate"]
    assert "key id" not in finding.summary and finding.evidence["missing_issuer_key_id"] is None
    assert "whether 'Test Intermediate CA' is a root or an intermediate" in finding.fix


def test_missing_intermediate_with_root_known(lab: Lab) -> None:
    result = analyse([pki.cert_to_der(lab.leaf())], "USR", pki.cert_to_der(lab.root()))
    assert result.verdict == "prompt"
    missing = failing(result)["chain_anchor_required"]
    assert missing.check_key == "MissingIntermediate" and missing.cert_index == 0
    assert missing.remedy == "full_chain"


def test_fetched_intermediate_completes_the_path(lab: Lab) -> None:
    system = system_store(None)
    result = analyze_chain(
        [pki.cert_to_der(lab.leaf())],
        HOST,
        at=AT,
        system=system,
        user=user_store([]).with_certificates([pki.cert_to_der(lab.root())]),
        fetched=[pki.cert_to_der(lab.inter())],
    )
    assert result.verdict == "trusted"
    notes = fired(result, "chain_missing_intermediate")
    assert (
        notes and notes[0].severity is Severity.WARNING and result.path[1].source == "fetched (AIA)"
    )


def test_order_duplicates_and_unrelated_certificates(lab: Lab, keys: Keys) -> None:
    leaf, inter, root = der(lab.leaf(), lab.inter(), lab.root())
    stranger = pki.cert_to_der(lab.root("Unrelated Root", key=keys.other))
    result = analyse([leaf, root, inter, inter, stranger], "USR", root)
    assert result.verdict == "trusted"
    assert fired(result, "chain_order")[0].evidence["presented_order"] == [0, 2, 1]
    assert fired(result, "chain_duplicate_certificate")[0].evidence == {
        "index": 3,
        "copy_of": 2,
        "anchor_kind": "USR",
    }
    unrelated = fired(result, "chain_unrelated_certificate")
    assert [f.evidence["index"] for f in unrelated] == [4]
    assert all(f.category is Category.DEPLOYMENT for f in unrelated)
    assert fired(result, "chain_root_included")[0].severity is Severity.INFO


def test_clean_chain_has_no_deployment_findings(lab: Lab) -> None:
    result = analyse(lab.chain(), "USR", pki.cert_to_der(lab.root()))
    assert not [f for f in result.findings if f.category is Category.DEPLOYMENT]


def test_wrong_intermediate_with_same_name_is_reported(lab: Lab, keys: Keys) -> None:
    """An old intermediate (same name, other key) is not used: signatures are checked."""
    leaf = pki.cert_to_der(lab.leaf())
    old_inter = pki.cert_to_der(lab.inter(key=keys.other))
    result = analyse([leaf, old_inter], "USR", pki.cert_to_der(lab.root()))
    assert failing(result)["chain_anchor_required"].check_key == "MissingIntermediate"
    unrelated = fired(result, "chain_unrelated_certificate")[0]
    assert unrelated.evidence["key_mismatch"] is True


def test_leaf_not_first(lab: Lab) -> None:
    leaf, inter = lab.chain()
    result = analyse([inter, leaf], "USR", pki.cert_to_der(lab.root()))
    assert "chain_leaf_not_first" in failing(result)
    assert "chain_leaf_not_first" not in failing(
        analyse([leaf, inter], "USR", pki.cert_to_der(lab.root()))
    )


def test_user_store_preferred_and_usr_leaf(lab: Lab) -> None:
    leaf = pki.cert_to_der(lab.self_signed())
    result = analyse([leaf], "USR-LEAF", leaf)
    assert result.anchor_kind is AnchorKind.USR_LEAF and result.verdict == "trusted"
    # a non-CA certificate can be trusted this way only by MDM / Apple Configurator
    note = fired(result, "ios_cts_ui_lists_ca_only")[0]
    assert note.severity is Severity.INFO and "MDM" in note.summary
    assert not fired(
        analyse(lab.chain(), "USR", pki.cert_to_der(lab.root())), "ios_cts_ui_lists_ca_only"
    )


def test_self_signed_non_ca_leaf_is_prompt_with_cts_explanation(lab: Lab) -> None:
    result = analyse([pki.cert_to_der(lab.self_signed())])
    assert result.verdict == "prompt"
    cts = fired(result, "ios_cts_ui_lists_ca_only")
    assert cts and "not a CA" in cts[0].summary
    assert failing(result)["chain_anchor_required"].remedy == "reissue"


def test_self_signed_ca_without_cn_is_prompt(lab: Lab, keys: Keys) -> None:
    root = pki.cert_to_der(lab.root(cn=None))  # type: ignore[arg-type]
    leaf = pki.cert_to_der(lab.leaf(issuer=lab.root(cn=None), issuer_key=keys.root))  # type: ignore[arg-type]
    result = analyse([leaf, root])
    assert result.verdict == "prompt"
    assert "no subject CN" in fired(result, "ios_cts_ui_lists_ca_only")[0].summary


def test_self_signed_ca_with_cn_is_needs_profile(lab: Lab) -> None:
    root = lab.root()
    result = analyse(der(lab.leaf(issuer=root, issuer_key=lab.keys.root), root))
    assert result.verdict == "needs_profile"
    assert not fired(result, "ios_cts_ui_lists_ca_only")
    anchor = failing(result)["chain_anchor_required"]
    assert anchor.remedy == "profile" and "Certificate Trust Settings" in anchor.fix
    assert "install" in result.summary


def test_needs_profile_only_when_installing_fixes_everything(lab: Lab) -> None:
    root = lab.root()
    expired = lab.leaf(issuer=root, issuer_key=lab.keys.root, lifetime=pki.days(10))
    result = analyse(der(expired, root))
    assert result.verdict == "prompt"  # installing the root would not fix the expiry


def test_system_store_from_file_and_default_label(tmp_path: Path, lab: Lab) -> None:
    roots = tmp_path / "apple-roots.pem"
    roots.write_bytes(pki.cert_to_pem(lab.root()))
    store = system_store(roots)
    assert store.kind is AnchorKind.SYS and len(store) == 1 and str(roots) in store.label
    result = analyze_chain(
        lab.chain(lab.leaf(extra_extensions=ct_logged())), HOST, at=AT, system=store
    )
    assert result.verdict == "trusted" and result.anchor_kind is AnchorKind.SYS
    default = system_store()  # the suite runs with Apple's store imported (tests/conftest.py)
    assert default.label.startswith("Apple trust store ") and len(default) > 100
    assert system_store() is default  # cached


def test_missing_intermediate_mentions_the_aia_download(lab: Lab) -> None:
    from cryptography import x509
    from cryptography.x509.oid import AuthorityInformationAccessOID

    aia = x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier("http://ca.example.test/inter.der"),
            )
        ]
    )
    leaf = pki.cert_to_der(lab.leaf(extra_extensions=[(aia, False)]))
    result = analyse([leaf], "USR", pki.cert_to_der(lab.root()))
    finding = failing(result)["chain_anchor_required"]
    assert "http://ca.example.test/inter.der" in finding.summary
    assert finding.evidence["ca_issuer_urls"] == ["http://ca.example.test/inter.der"]
    assert result.verdict == "prompt"  # mailtls does not fetch; pass fetched=... to use a download


def test_ec_and_pss_signatures_are_verified(lab: Lab, keys: Keys) -> None:
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    root = lab.root()
    ec_inter = lab.inter(root=root, key=keys.ec)
    leaf = lab.leaf(issuer=ec_inter, issuer_key=keys.ec)
    assert analyse(der(leaf, ec_inter), "USR", pki.cert_to_der(root)).verdict == "trusted"

    inter = lab.inter(root=root)
    pss_leaf = (
        x509.CertificateBuilder()
        .subject_name(pki.name(HOST))
        .issuer_name(inter.subject)
        .public_key(keys.leaf.public_key())  # type: ignore[arg-type]
        .serial_number(7)
        .not_valid_before(AT - timedelta(days=1))
        .not_valid_after(AT + timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(
            keys.inter, hashes.SHA256(), rsa_padding=padding.PSS(padding.MGF1(hashes.SHA256()), 32)
        )  # type: ignore[arg-type]
    )
    result = analyse(der(pss_leaf, inter), "USR", pki.cert_to_der(root))
    assert (
        result.chain[0].signature_algorithm == "rsassaPss"
        and result.chain[0].signature_hash == "sha256"
    )
    assert result.verdict == "trusted"


def test_cross_signed_root_variant_is_information_only(lab: Lab, keys: Keys) -> None:
    root = lab.root()
    old_root = lab.root("Old Root", key=keys.other)
    cross = pki.issue(
        pki.ca_spec("Test Root CA"),
        keys.root,
        issuer_cert=old_root,
        issuer_key=keys.other,
        not_before=root.not_valid_before_utc,
        not_after=root.not_valid_after_utc,
    )
    leaf, inter = lab.chain(lab.leaf(extra_extensions=ct_logged()))
    result = analyse([leaf, inter, pki.cert_to_der(cross)], "SYS", pki.cert_to_der(root))
    assert result.verdict == "trusted" and result.anchor_kind is AnchorKind.SYS
    variant = fired(result, "chain_unrelated_certificate")[0]
    assert variant.severity is Severity.INFO and "variant_of" in variant.evidence


def test_rekeyed_root_with_the_same_name_is_told_apart_by_its_key(lab: Lab, keys: Keys) -> None:
    old = pki.cert_to_der(lab.root(key=keys.other))  # same name "Test Root CA", other key
    new = pki.cert_to_der(lab.root())
    for order in ((old, new), (new, old)):
        result = analyse(lab.chain(lab.leaf(extra_extensions=ct_logged())), "SYS", order)
        assert result.verdict == "trusted" and result.path[-1].sha256 == parse_sha(new)


def parse_sha(der: bytes) -> str:
    from mailtls.analysis.certs import parse_certificate

    return parse_certificate(der).sha256
