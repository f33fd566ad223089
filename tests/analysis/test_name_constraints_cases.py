"""Name constraints in the cases of issue 14, decided as Apple's code decides them.

Apple's sources read (apple-open-source/macos, commit 0d740082): ``SecNameContraintsMatchSubtrees``,
``SecDNSNameConstraintsMatch``, ``SecRFC822NameMatch``, ``nc_compare_IPAddresses``
(trust/trustd/nameconstraints.c); ``SecPolicyCheckBasicCertificateProcessing``
(trust/trustd/SecPolicyServer.c); ``parseGeneralSubtrees`` (OSX/sec/Security/SecCertificate.c).
Malformed SAN and nameConstraints values are hand-made DER in ``UnrecognizedExtension``s,
since cryptography refuses to build them.
"""

from __future__ import annotations

import ipaddress

from cryptography import x509

from mailtls import pki
from mailtls.analysis import asn1, oids
from mailtls.model import Analysis, Finding, Severity, Verdict
from tests.analysis.factory import Keys, Lab, analyse, der, failing, fired

SAN_OID = x509.ObjectIdentifier(oids.SUBJECT_ALT_NAME)
NC_OID = x509.ObjectIdentifier(oids.NAME_CONSTRAINTS)


def _dns(name: bytes) -> bytes:
    return asn1.encode(0x82, name)


def _ip(packed: bytes) -> bytes:
    return asn1.encode(0x87, packed)


def _email(address: bytes) -> bytes:
    return asn1.encode(0x81, address)


def _san(*general_names: bytes) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(SAN_OID, asn1.encode_sequence(*general_names))


def _subtree(base: bytes, *bounds: bytes) -> bytes:
    return asn1.encode_sequence(base, *bounds)


def _nc(permitted: list[bytes] | None = None, excluded: list[bytes] | None = None) -> bytes:
    parts = []
    if permitted:
        parts.append(asn1.encode(0xA0, b"".join(permitted)))
    if excluded:
        parts.append(asn1.encode(0xA1, b"".join(excluded)))
    return asn1.encode_sequence(*parts)


def _judge(lab: Lab, nc_der: bytes, leaf_san: x509.UnrecognizedExtension, host: str) -> Analysis:
    """Leaf with ``leaf_san`` below an intermediate with ``nc_der``, root installed (USR)."""
    nc = x509.UnrecognizedExtension(NC_OID, nc_der)
    inter = lab.inter(extra_extensions=[(nc, True)])
    leaf = lab.leaf(issuer=inter, san=None, cn=host, extra_extensions=[(leaf_san, False)])
    return analyse(der(leaf, inter), "USR", pki.cert_to_der(lab.root()), host=host)


def _rules(analysis: Analysis) -> set[str]:
    return set(failing(analysis))


# 1. A wildcard SAN under an excluded subtree that covers part of its range ------------------


def test_wildcard_is_literal_text_against_an_excluded_subtree(lab: Lab) -> None:
    """``SecDNSNameConstraintsMatch`` compares "*.example.com" as text: the excluded subtree
    "bar.example.com" is longer, so it never matches, and ``SecDNSMatch`` then lets the
    wildcard cover bar.example.com. iOS trusts the leaf for bar and foo alike (RFC 5280 does
    not define wildcards in constraints; Apple's code does not expand them)."""
    nc = _nc(excluded=[_subtree(_dns(b"bar.example.com"))])
    for host in ("bar.example.com", "foo.example.com"):
        result = _judge(lab, nc, _san(_dns(b"*.example.com")), host)
        assert result.verdict is Verdict.TRUSTED, (host, _rules(result))


def test_wildcard_under_an_excluded_parent_is_excluded(lab: Lab) -> None:
    # The textual suffix test does catch a subtree the wildcard's text ends with.
    for subtree in (b"example.com", b".example.com"):
        result = _judge(
            lab,
            _nc(excluded=[_subtree(_dns(subtree))]),
            _san(_dns(b"*.example.com")),
            "bar.example.com",
        )
        assert result.verdict is Verdict.PROMPT and "name_constraints" in _rules(result), subtree


def test_wildcard_is_not_within_a_permitted_child(lab: Lab) -> None:
    nc = _nc(permitted=[_subtree(_dns(b"bar.example.com"))])
    result = _judge(lab, nc, _san(_dns(b"*.example.com")), "bar.example.com")
    assert "name_constraints" in _rules(result)


def _reach_warnings(analysis: Analysis) -> list[Finding]:
    """The name_constraints warnings for a leaf wildcard reaching into an excluded subtree."""
    return [
        f
        for f in fired(analysis, "name_constraints")
        if f.evidence.get("wildcard_reaches_excluded")
    ]


def test_wildcard_reaching_into_an_excluded_subtree_warns(lab: Lab) -> None:
    """iOS trusts the leaf (above), but mailtls warns: Chromium's name_constraints.cc
    (WILDCARD_PARTIAL_MATCH for excluded subtrees) refuses it, and the CA most likely meant
    to keep bar.example.com out. The warning leaves the verdict alone."""
    nc = _nc(excluded=[_subtree(_dns(b"bar.example.com"))])
    summaries = {}
    for host in ("bar.example.com", "foo.example.com"):
        result = _judge(lab, nc, _san(_dns(b"*.example.com")), host)
        assert result.verdict is Verdict.TRUSTED, (host, _rules(result))
        assert "name_constraints" not in _rules(result)
        (warning,) = _reach_warnings(result)
        assert warning.severity is Severity.WARNING
        assert warning.result_class is None
        assert warning.evidence["name"] == "*.example.com"
        assert warning.evidence["excluded"] == "bar.example.com"
        assert warning.evidence["host_in_excluded"] is (host == "bar.example.com")
        assert "SecDNSNameConstraintsMatch" in warning.summary
        assert "Chromium" in warning.summary
        summaries[host] = warning.summary
    assert summaries["bar.example.com"].startswith(
        "For bar.example.com, the configured host, the iPhone trusts"
    )
    assert "foo.example.com itself is outside 'bar.example.com'" in summaries["foo.example.com"]
    assert "configured host," not in summaries["foo.example.com"]


def test_wildcard_reach_warning_follows_the_host_case_and_trailing_dot(lab: Lab) -> None:
    nc = _nc(excluded=[_subtree(_dns(b"BAR.example.com"))])
    result = _judge(lab, nc, _san(_dns(b"*.example.com")), "bar.example.com.")
    assert result.verdict is Verdict.TRUSTED, _rules(result)
    (warning,) = _reach_warnings(result)
    assert warning.evidence["host_in_excluded"] is True


def test_no_reach_warning_for_an_excluded_subtree_below_the_wildcards_range(lab: Lab) -> None:
    # "*.example.com" matches one label only: it never covers a name under a.bar.example.com,
    # nor under ".bar.example.com" (which holds only names below bar.example.com).
    for subtree in (b"a.bar.example.com", b".bar.example.com"):
        nc = _nc(excluded=[_subtree(_dns(subtree))])
        result = _judge(lab, nc, _san(_dns(b"*.example.com")), "bar.example.com")
        assert result.verdict is Verdict.TRUSTED, (subtree, _rules(result))
        assert not fired(result, "name_constraints"), subtree


def test_no_reach_warning_without_a_wildcard(lab: Lab) -> None:
    nc = _nc(excluded=[_subtree(_dns(b"bar.example.com"))])
    result = _judge(lab, nc, _san(_dns(b"foo.example.com")), "foo.example.com")
    assert result.verdict is Verdict.TRUSTED, _rules(result)
    assert not fired(result, "name_constraints")


def test_no_reach_warning_for_an_excluded_subtree_elsewhere(lab: Lab) -> None:
    nc = _nc(excluded=[_subtree(_dns(b"other.test"))])
    result = _judge(lab, nc, _san(_dns(b"*.example.com")), "bar.example.com")
    assert result.verdict is Verdict.TRUSTED, _rules(result)
    assert not fired(result, "name_constraints")


def test_no_reach_warning_when_apple_already_excludes_the_wildcard(lab: Lab) -> None:
    nc = _nc(excluded=[_subtree(_dns(b"example.com"))])
    result = _judge(lab, nc, _san(_dns(b"*.example.com")), "bar.example.com")
    assert "name_constraints" in _rules(result)
    assert not _reach_warnings(result)


# 2. Malformed SAN entries beside valid ones ---------------------------------------------------


def test_san_dns_with_trailing_dot_is_compared_as_written(lab: Lab) -> None:
    """No normalising: "evil.example.test." does not end with "example.test", so an excluded
    subtree misses it (and SecFrameworkIsDNSName ignores it for the host name)."""
    nc = _nc(excluded=[_subtree(_dns(b"example.test"))])
    san = _san(_dns(b"mail.other.test"), _dns(b"evil.example.test."))
    assert _judge(lab, nc, san, "mail.other.test").verdict is Verdict.TRUSTED
    permitted = _nc(permitted=[_subtree(_dns(b"example.test"))])
    san = _san(_dns(b"mail.example.test"), _dns(b"mail.example.test."))
    result = _judge(lab, permitted, san, "mail.example.test")
    assert failing(result)["name_constraints"].evidence["name"] == "mail.example.test."


def test_san_dns_with_space_or_empty_label_is_plain_text(lab: Lab) -> None:
    nc = _nc(permitted=[_subtree(_dns(b"example.test"))])
    inside = _san(_dns(b"mail.example.test"), _dns(b"bad name..example.test"))
    assert _judge(lab, nc, inside, "mail.example.test").verdict is Verdict.TRUSTED
    outside = _san(_dns(b"mail.example.test"), _dns(b"bad name.other.test"))
    assert "name_constraints" in _rules(_judge(lab, nc, outside, "mail.example.test"))


def test_malformed_ip_in_san_fails_a_permitted_ip_subtree(lab: Lab) -> None:
    """A 5-byte iPAddress: the form is present, ``nc_compare_IPAddresses`` matches nothing."""
    net = ipaddress.ip_network("192.0.2.0/24")
    permitted = [
        _subtree(_dns(b"example.test")),
        _subtree(_ip(net.network_address.packed + net.netmask.packed)),
    ]
    san = _san(_dns(b"mail.example.test"), _ip(b"\xc0\x00\x02\x0a\x00"))
    result = _judge(lab, _nc(permitted=permitted), san, "mail.example.test")
    assert result.verdict is Verdict.PROMPT
    assert failing(result)["name_constraints"].evidence["address"] == "c000020a00"
    # Only DNS subtrees: iPAddress is not a constrained form, the malformed entry is free.
    dns_only = _nc(permitted=[_subtree(_dns(b"example.test"))])
    assert _judge(lab, dns_only, san, "mail.example.test").verdict is Verdict.TRUSTED
    # Excluded: a malformed address matches no excluded range either.
    excluded = _nc(excluded=[_subtree(_ip(net.network_address.packed + net.netmask.packed))])
    assert _judge(lab, excluded, san, "mail.example.test").verdict is Verdict.TRUSTED


def test_email_without_at_fails_a_permitted_email_subtree(lab: Lab) -> None:
    """``SecRFC822NameMatch``: no '@' means no host, so no host or domain subtree matches."""
    permitted = _nc(permitted=[_subtree(_dns(b"example.test")), _subtree(_email(b"example.test"))])
    bad = _san(_dns(b"mail.example.test"), _email(b"postmaster.example.test"))
    result = _judge(lab, permitted, bad, "mail.example.test")
    assert failing(result)["name_constraints"].evidence["email"] == "postmaster.example.test"
    good = _san(_dns(b"mail.example.test"), _email(b"postmaster@example.test"))
    assert _judge(lab, permitted, good, "mail.example.test").verdict is Verdict.TRUSTED
    excluded = _nc(excluded=[_subtree(_email(b".example.test"))])
    assert _judge(lab, excluded, bad, "mail.example.test").verdict is Verdict.TRUSTED
    inside = _san(_dns(b"mail.example.test"), _email(b"a@mx.example.test"))
    assert "name_constraints" in _rules(_judge(lab, excluded, inside, "mail.example.test"))


# 3. Malformed entries in the CA's own nameConstraints ------------------------------------------


def test_dns_subtree_is_compared_as_written(lab: Lab) -> None:
    # A trailing dot or a bad character in the subtree: nothing below ends with that text.
    for subtree in (b"example.test.", b"exa mple.test"):
        result = _judge(
            lab,
            _nc(permitted=[_subtree(_dns(subtree))]),
            _san(_dns(b"mail.example.test")),
            "mail.example.test",
        )
        assert "name_constraints" in _rules(result), subtree
    excluded = _nc(excluded=[_subtree(_dns(b"example.test."))])
    assert (
        _judge(lab, excluded, _san(_dns(b"mail.example.test")), "mail.example.test").verdict
        is Verdict.TRUSTED
    )


def test_ip_subtree_of_wrong_length_matches_nothing(lab: Lab) -> None:
    """4 or 5 bytes instead of 8/32: the iPAddress form is present and no address is within."""
    san = _san(_dns(b"mail.example.test"), _ip(bytes([192, 0, 2, 10])))
    for bad in (bytes([192, 0, 2, 0]), bytes([192, 0, 2, 0, 255])):
        nc = _nc(permitted=[_subtree(_dns(b"example.test")), _subtree(_ip(bad))])
        result = _judge(lab, nc, san, "mail.example.test")
        assert failing(result)["name_constraints"].evidence["address"] == "192.0.2.10", bad
    # Beside a good subtree that covers the address, the bad one is harmless (any match counts).
    good = _subtree(_ip(bytes([192, 0, 2, 0, 255, 255, 255, 0])))
    nc = _nc(permitted=[_subtree(_dns(b"example.test")), _subtree(_ip(bytes([1, 2, 3, 4]))), good])
    assert _judge(lab, nc, san, "mail.example.test").verdict is Verdict.TRUSTED
    # A leaf without iPAddress entries is not concerned.
    assert (
        _judge(lab, nc, _san(_dns(b"mail.example.test")), "mail.example.test").verdict
        is Verdict.TRUSTED
    )


def test_ip_subtree_of_the_other_family_still_constrains(lab: Lab) -> None:
    # nc_compare_IPAddresses wants subtree length == 2 x address length: an IPv6 entry is
    # outside an IPv4-only permitted list (the old per-family filter let it pass).
    nc = _nc(
        permitted=[
            _subtree(_dns(b"example.test")),
            _subtree(_ip(bytes([192, 0, 2, 0, 255, 255, 255, 0]))),
        ]
    )
    san = _san(_dns(b"mail.example.test"), _ip(ipaddress.ip_address("2001:db8::1").packed))
    assert (
        failing(_judge(lab, nc, san, "mail.example.test"))["name_constraints"].evidence["address"]
        == "2001:db8::1"
    )


def test_minimum_or_maximum_makes_the_extension_unparseable(lab: Lab) -> None:
    """``parseGeneralSubtrees``: minimum != 0 or any maximum -> the extension is invalid;
    mailtls reports UnparseableExtension and applies none of its subtrees."""
    san = _san(_dns(b"mail.example.test"))
    for bounds in ((asn1.encode(0x80, b"\x01"),), (asn1.encode(0x81, b"\x02"),)):
        nc = _nc(permitted=[_subtree(_dns(b"example.test"), *bounds)])
        result = _judge(lab, nc, san, "mail.example.test")
        found = failing(result)
        assert result.verdict is Verdict.PROMPT
        assert found["unknown_critical_extension"].check_key == "UnparseableExtension"
        assert "name_constraints" not in found
    # minimum 0 written out (DER forbids it, Apple accepts it): a normal constraint.
    zero = _nc(permitted=[_subtree(_dns(b"example.test"), asn1.encode(0x80, b"\x00"))])
    assert _judge(lab, zero, san, "mail.example.test").verdict is Verdict.TRUSTED
    assert "name_constraints" in _rules(
        _judge(lab, zero, _san(_dns(b"mail.other.test")), "mail.other.test")
    )


# 4. Self-issued intermediates ---------------------------------------------------------------------


def test_self_issued_intermediate_names_are_not_checked(lab: Lab, keys: Keys) -> None:
    """RFC 5280 6.1.3 (b)(c), and Apple's ``!is_self_issued || i == n`` in
    SecPolicyCheckBasicCertificateProcessing: a key-rollover certificate (same subject and
    issuer name, new key) below the constrained CA is not held to its constraints."""
    nc = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName("example.test")], excluded_subtrees=None
    )
    root = lab.root()
    inter = lab.inter(root=root, extra_extensions=[(nc, True)])
    rollover = pki.issue(
        pki.ca_spec("Test Intermediate CA", san=("ca.other.test",)),
        keys.other,
        issuer_cert=inter,
        issuer_key=keys.inter,
        not_before=inter.not_valid_before_utc,
        not_after=inter.not_valid_after_utc,
    )
    assert rollover.subject == rollover.issuer
    leaf = lab.leaf("mail.example.test", issuer=rollover, issuer_key=keys.other)
    result = analyse(der(leaf, rollover, inter), "USR", pki.cert_to_der(root))
    assert result.verdict is Verdict.TRUSTED, _rules(result)
    # The leaf itself is always checked, self-issued or not (i == n).
    outside = lab.leaf("mail.other.test", issuer=rollover, issuer_key=keys.other)
    result = analyse(
        der(outside, rollover, inter), "USR", pki.cert_to_der(root), host="mail.other.test"
    )
    assert failing(result)["name_constraints"].evidence["name"] == "mail.other.test"


def test_non_self_issued_intermediate_names_are_checked(lab: Lab, keys: Keys) -> None:
    nc = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName("example.test")], excluded_subtrees=None
    )
    root = lab.root()
    inter = lab.inter(root=root, extra_extensions=[(nc, True)])
    sub = pki.issue(
        pki.ca_spec("Test Sub CA", san=("ca.other.test",)),
        keys.other,
        issuer_cert=inter,
        issuer_key=keys.inter,
        not_before=inter.not_valid_before_utc,
        not_after=inter.not_valid_after_utc,
    )
    leaf = lab.leaf("mail.example.test", issuer=sub, issuer_key=keys.other)
    result = analyse(der(leaf, sub, inter), "USR", pki.cert_to_der(root))
    assert failing(result)["name_constraints"].evidence["name"] == "ca.other.test"
