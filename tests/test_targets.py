"""Parsing what a person types: URLs, bare hosts, e-mail addresses, IPs, IDN, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.errors import TargetError, UsageError
from mailtls.model import IPHONE_SWEEP, Endpoint
from mailtls.targets import Target, endpoints_for, parse_target


@pytest.mark.parametrize(
    ("text", "kind", "host", "schemes", "port", "is_ip"),
    [
        ("imaps://mail.example.com", "url", "mail.example.com", ("imaps",), None, False),
        ("IMAP://Mail.Example.COM:1143", "url", "mail.example.com", ("imap",), 1143, False),
        ("smtps://mail.example.com", "url", "mail.example.com", ("submissions",), None, False),
        (
            "submission://mail.example.com:587/",
            "url",
            "mail.example.com",
            ("submission",),
            587,
            False,
        ),
        ("pop3://user@mail.example.com", "url", "mail.example.com", ("pop3",), None, False),
        ("mail.example.com", "host", "mail.example.com", IPHONE_SWEEP, None, False),
        ("mail.example.com.", "host", "mail.example.com", IPHONE_SWEEP, None, False),
        ("  mail.example.com  ", "host", "mail.example.com", IPHONE_SWEEP, None, False),
        ("mail.example.com:995", "host", "mail.example.com", ("pop3s",), 995, False),
        ("user@Example.com", "email", "example.com", IPHONE_SWEEP, None, False),
        ("192.0.2.7", "host", "192.0.2.7", IPHONE_SWEEP, None, True),
        ("192.0.2.7:25", "host", "192.0.2.7", ("smtp",), 25, True),
        ("::1", "host", "::1", IPHONE_SWEEP, None, True),
        ("[::1]", "host", "::1", IPHONE_SWEEP, None, True),
        ("[2001:DB8::1]:993", "host", "2001:db8::1", ("imaps",), 993, True),
        ("imaps://[::1]:993", "url", "::1", ("imaps",), 993, True),
        ("imaps://[0:0:0:0:0:0:0:1]", "url", "::1", ("imaps",), None, True),
    ],
)
def test_parse_good_targets(
    text: str, kind: str, host: str, schemes: tuple[str, ...], port: int | None, is_ip: bool
) -> None:
    target = parse_target(text)
    assert (target.kind, target.host, target.schemes, target.port, target.is_ip) == (
        kind,
        host,
        schemes,
        port,
        is_ip,
    )
    assert target.text == text


@pytest.mark.parametrize(
    ("text", "ascii_host", "display"),
    [
        ("bücher.example", "xn--bcher-kva.example", "bücher.example"),
        ("imaps://MAIL.Bücher.example:993", "mail.xn--bcher-kva.example", "mail.bücher.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example", "bücher.example"),
        ("user@例え.jp", "xn--r8jz45g.jp", "例え.jp"),
    ],
)
def test_international_names_are_ascii_for_dns_and_unicode_for_people(
    text: str, ascii_host: str, display: str
) -> None:
    target = parse_target(text)
    assert target.host == ascii_host
    assert target.display_host == display


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty target"),
        ("   ", "empty target"),
        ("imapx://mail.example.com", "unknown scheme 'imapx'"),
        ("https://mail.example.com", "unknown scheme 'https'"),
        ("imaps://", "empty host"),
        ("imaps://:993", "empty host"),
        ("imaps://mail.example.com:0", "bad port 0"),
        ("imaps://mail.example.com:70000", "bad port 70000"),
        ("imaps://mail.example.com:99x", "bad port '99x'"),
        ("imaps://mail.example.com:", "bad port ''"),
        ("mail.example.com:8993", "not a standard mail port"),
        ("imaps://mail.example.com/INBOX", "no path"),
        ("imap://me:secret@mail.example.com", "password"),
        ("mail..example.com", "empty label"),
        (".example.com", "empty label"),
        ("-bad.example.com", "not a valid host name label"),
        ("bad-.example.com", "not a valid host name label"),
        ("b@d!.example.com", "not a valid host name label"),
        ("a" * 64 + ".example.com", "longer than 63"),
        (".".join(["a" * 60] * 5), "longer than 253"),
        ("999.1.1.1", "not a valid IPv4 address"),
        ("[::1", "closing ']'"),
        ("[::1]x", "unexpected"),
        ("1:2:3:4:5:6:7:8:9", "not a valid IPv6 address"),
        ("[fe80::1%eth0]", "zone"),
        ("@example.com", "name before '@'"),
        ("user@", "empty host"),
        ("mail example.com", "spaces"),
        ("xn--zz.example", "punycode"),
    ],
)
def test_bad_targets_give_one_line_naming_the_input(text: str, words: str) -> None:
    with pytest.raises(TargetError) as caught:
        parse_target(text)
    message = str(caught.value)
    assert words in message
    assert "\n" not in message
    if text.strip():
        assert repr(text) in message
    assert isinstance(caught.value, UsageError)  # exit code for usage errors


def test_endpoints_for_a_bare_host_is_the_sweep_per_address() -> None:
    target = parse_target("mail.example.com")
    endpoints = endpoints_for(target, ["192.0.2.1", "2001:db8::1", "192.0.2.1"])
    assert len(endpoints) == 7 * 2
    assert endpoints[0] == Endpoint("imaps", "mail.example.com", 993, "192.0.2.1")
    assert endpoints[1] == Endpoint("imaps", "mail.example.com", 993, "2001:db8::1")
    assert [e.port for e in endpoints[::2]] == [993, 143, 995, 110, 465, 587, 25]


def test_endpoints_for_a_url_keeps_its_port_and_canonical_scheme() -> None:
    endpoints = endpoints_for(parse_target("smtps://mail.example.com:2465"), ["192.0.2.1"])
    assert endpoints == [Endpoint("submissions", "mail.example.com", 2465, "192.0.2.1")]
    assert endpoints[0].url == "submissions://mail.example.com:2465"


def test_endpoints_for_without_addresses() -> None:
    assert endpoints_for(parse_target("imap://mail.example.com"), []) == [
        Endpoint("imap", "mail.example.com", 143)
    ]
    assert endpoints_for(parse_target("imaps://[::1]"), []) == [
        Endpoint("imaps", "::1", 993, "::1")
    ]


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_parse_target_raises_only_target_error(text: str) -> None:
    try:
        target = parse_target(text)
    except TargetError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(target, Target)
        assert target.host.isascii() and target.host == target.host.lower()
        assert not target.host.endswith(".")


def test_idn_without_the_idna_package_uses_the_standard_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "idna", None)  # "import idna" now fails
    target = parse_target("imaps://bücher.example")
    assert target.host == "xn--bcher-kva.example"
    assert target.display_host == "bücher.example"
    with pytest.raises(TargetError):
        parse_target("a\u0000b.example")
