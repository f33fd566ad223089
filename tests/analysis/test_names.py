"""Host-name matching: SecFrameworkIsDNSName, SecDNSMatch and the IP rule (ios-trust-rules.md §1c)."""

from __future__ import annotations

import pytest

from mailtls import pki
from mailtls.analysis.names import dns_match, is_dns_name, is_public_suffix, parse_ip
from tests.analysis.factory import Lab, analyse, failing


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("mail.example.com", True),
        ("*.example.com", True),
        ("under_score.example.com", True),
        ("test.apple.com.", False),  # trailing dot
        (".test.apple.com", False),  # empty first label
        ("a..b.com", False),
        ("10.0.0.1", False),  # last label has no letter
        ("mail.example.c0m", True),
        ("mail.example.123", False),
        ("mail-.example.com-", False),
        ("x" * 64 + ".com", False),  # label over 63
        (("a" * 63 + ".") * 4 + "com", False),  # over 255
        ("mail example.com", False),
        ("", False),
    ],
)
def test_is_dns_name(name: str, ok: bool) -> None:
    assert is_dns_name(name) is ok


@pytest.mark.parametrize(
    ("reference", "presented", "ok"),
    [
        ("mail.example.com", "mail.example.com", True),
        ("MAIL.Example.COM", "mail.example.com", True),
        ("mail.example.com.", "mail.example.com", True),  # trailing dot on the reference dropped
        ("mail.example.com..", "mail.example.com", False),  # only one dot is dropped
        ("mail.example.com", "*.example.com", True),
        ("a.b.example.com", "*.example.com", False),  # one label only
        ("example.com", "*.example.com", False),
        ("foo.co.uk", "*.co.uk", False),  # public suffix
        ("foo.com.au", "*.com.au", False),
        ("foo.example.co.uk", "*.example.co.uk", True),
        ("foo.com", "*.com", False),  # fewer than 3 labels
        ("test.example.com", "t*t.example.com", False),  # partial-label wildcards
        ("test.example.com", "*est.example.com", False),
        ("test.example.com", "tes*.example.com", False),
        ("apple.example.com", "apple*.example.com", False),
        ("a.b.example.com", "*.*.example.com", False),  # more than one wildcard
        ("mail.example.com", "mail.*.com", False),  # wildcard not left-most
        ("mail.example.com", "mail.example.org", False),
    ],
)
def test_dns_match(reference: str, presented: str, ok: bool) -> None:
    assert dns_match(reference, presented) is ok


def test_public_suffix_approximation() -> None:
    assert is_public_suffix("com") and is_public_suffix("co.uk") and is_public_suffix("com.au")
    assert not is_public_suffix("example.com") and not is_public_suffix("example.co.uk")


def test_parse_ip() -> None:
    assert parse_ip("192.0.2.1") == bytes([192, 0, 2, 1])
    assert parse_ip("[2001:db8::1]") is not None and len(parse_ip("2001:db8::1") or b"") == 16
    assert parse_ip("mail.example.com") is None


# --------------------------------------------------------------------------- through the engine


def _rule(lab: Lab, host: str, *names: str, ios: str | None = None, **kw: object) -> str | None:
    leaf = lab.leaf(*names, **kw)
    result = analyse(lab.chain(leaf), "USR", pki.cert_to_der(lab.root()), host=host, ios=ios)
    hostname_rules = {
        "hostname_match",
        "ios13_san_only",
        "san_dns_syntax_filter",
        "ip_address_names",
    }
    found = hostname_rules & set(failing(result))
    assert len(found) <= 1
    return found.pop() if found else None


def test_exact_and_wildcard_names_pass(lab: Lab) -> None:
    assert _rule(lab, "mail.example.test", "mail.example.test") is None
    assert _rule(lab, "imap.example.test", "*.example.test") is None
    assert _rule(lab, "mail.example.test.", "mail.example.test") is None


def test_wrong_host_fires_hostname_match(lab: Lab) -> None:
    assert _rule(lab, "smtp.example.test", "mail.example.test") == "hostname_match"


def test_wildcard_over_public_suffix_fires_with_reason(lab: Lab) -> None:
    leaf = lab.leaf("*.co.uk")
    result = analyse(lab.chain(leaf), "USR", pki.cert_to_der(lab.root()), host="mail.co.uk")
    finding = failing(result)["hostname_match"]
    assert finding.check_key == "SSLHostname" and finding.cert_index == 0
    assert any("public suffix" in why for why in finding.evidence["why"])


def test_partial_wildcard_fires(lab: Lab) -> None:
    assert _rule(lab, "mail.example.test", "m*l.example.test") == "hostname_match"


def test_cn_only_fires_san_only_since_ios13(lab: Lab) -> None:
    assert _rule(lab, "mail.example.test", cn="mail.example.test", san=None) == "ios13_san_only"


def test_cn_fallback_before_ios13(lab: Lab) -> None:
    assert _rule(lab, "mail.example.test", ios="12", cn="mail.example.test", san=None) is None
    assert (
        _rule(lab, "other.example.test", ios="12", cn="mail.example.test", san=None)
        == "hostname_match"
    )
    # with a SAN dNSName present, iOS 12 did not use the CN either
    assert (
        _rule(lab, "mail.example.test", "x.example.test", ios="12", cn="mail.example.test")
        == "hostname_match"
    )


def test_trailing_dot_in_san_is_ignored(lab: Lab) -> None:
    assert _rule(lab, "mail.example.test", "mail.example.test.") == "san_dns_syntax_filter"


def test_ip_address_in_san_ip_entry_matches(lab: Lab) -> None:
    assert _rule(lab, "192.0.2.10", "IP:192.0.2.10", cn="mail") is None
    assert _rule(lab, "2001:db8::10", "IP:2001:db8::10", cn="mail") is None


def test_ip_address_mismatch_and_ip_in_cn_or_dns_name(lab: Lab) -> None:
    assert _rule(lab, "192.0.2.11", "IP:192.0.2.10", cn="mail") == "ip_address_names"
    assert _rule(lab, "192.0.2.10", "mail.example.test", cn="192.0.2.10") == "ip_address_names"
    assert _rule(lab, "192.0.2.10", "DNS:192.0.2.10", cn="mail") == "ip_address_names"
    assert _rule(lab, "2001:db8::10", "IP:2001:db8::11", cn="mail") == "ip_address_names"


def test_no_host_skips_the_name_check(lab: Lab) -> None:
    result = analyse(
        lab.chain(lab.leaf("other.example")), "USR", pki.cert_to_der(lab.root()), host=None
    )
    assert result.verdict == "trusted"
    skipped = [f for f in result.findings if f.rule_id == "hostname_match"]
    assert skipped and skipped[0].evidence["skipped"] and skipped[0].result_class is None
    assert "not checked" in result.summary


def test_unicode_host_is_compared_as_a_label(lab: Lab) -> None:
    assert dns_match("bücher.example.test", "xn--bcher-kva.example.test")
    assert _rule(lab, "bücher.example.test", "xn--bcher-kva.example.test") is None
