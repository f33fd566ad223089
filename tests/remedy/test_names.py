"""mailtls.remedy.names: only names iOS will match go into a certificate."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.errors import UsageError
from mailtls.remedy.names import parse_name, parse_names


@pytest.mark.parametrize(
    ("text", "value", "is_ip"),
    [
        ("Mail.Example.COM", "mail.example.com", False),
        ("mail.example.com.", "mail.example.com", False),
        ("*.example.com", "*.example.com", False),
        ("192.0.2.7", "192.0.2.7", True),
        ("[2001:db8::1]", "2001:db8::1", True),
        ("2001:DB8:0::1", "2001:db8::1", True),
        ("bücher.example", "xn--bcher-kva.example", False),
        ("localhost", "localhost", False),
    ],
)
def test_accepted_names(text: str, value: str, is_ip: bool) -> None:
    host = parse_name(text)
    assert (host.value, host.is_ip) == (value, is_ip)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty host name"),
        ("*.com", "wildcard needs at least two labels"),
        ("m*.example.com", "whole left-most label"),
        ("mail..example.com", "empty label"),
        ("mail_1.example.com", "only letters, digits"),
        ("-mail.example.com", "only letters, digits"),
        ("mail.example.123", "last label must contain a letter"),
        ("a" * 64 + ".example.com", "at most 63"),
    ],
)
def test_refused_names(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_name(text)


def test_duplicates_are_dropped_in_order() -> None:
    hosts = parse_names(["mail.example.com", "MAIL.example.com", "10.0.0.1", "imap.example.com"])
    assert [h.value for h in hosts] == ["mail.example.com", "10.0.0.1", "imap.example.com"]


def test_no_names_is_an_error() -> None:
    with pytest.raises(UsageError, match="no host names"):
        parse_names([])


def test_wildcard_sample_host_is_matched_by_it() -> None:
    assert parse_name("*.example.com").sample_host == "mailtls-check.example.com"
    assert parse_name("mail.example.com").sample_host == "mail.example.com"


def test_names_from_a_json_report_skip_names_that_did_not_resolve() -> None:
    from mailtls.remedy.names import names_from_report_json

    flat = {
        "endpoints": [
            {"host": "Mail.Example.com.", "status": "ok"},
            {"host": "imap.example.com", "status": "dns_error"},
            {"host": "mail.example.com", "status": "timeout"},
        ]
    }
    assert names_from_report_json(flat) == ("mail.example.com",)
    nested = {"endpoints": [{"probe": {"endpoint": {"host": "smtp.example.com"}, "status": "ok"}}]}
    assert names_from_report_json(nested) == ("smtp.example.com",)
    with pytest.raises(UsageError, match="no endpoints"):
        names_from_report_json({"targets": []}, "r.json")
    with pytest.raises(UsageError, match="no host name that was reached"):
        names_from_report_json({"endpoints": [{"host": "x.example", "status": "dns_error"}]})


def test_wildcard_under_a_public_suffix_is_refused() -> None:
    with pytest.raises(UsageError, match="public suffix"):
        parse_name("*.co.uk")
    assert parse_name("*.example.co.uk").value == "*.example.co.uk"


_LABEL_TEXT = st.text(alphabet="abcXYZ019-_*.", min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LABEL_TEXT, min_size=1, max_size=4).map(".".join))
def test_every_accepted_name_is_one_the_engine_would_match(text: str) -> None:
    """Cross-check with the trust engine: a name we would write into a certificate must be a
    SAN dNSName iOS reads (san_dns_syntax_filter) and must match its own sample host."""
    from mailtls.analysis.names import dns_match, is_dns_name

    try:
        host = parse_name(text)
    except UsageError:
        return
    if host.is_ip:  # IP literals go into iPAddress entries, matched byte-wise
        return
    if not host.is_wildcard:
        assert is_dns_name(host.value), host.value
    assert dns_match(host.sample_host, host.value), host.value
