"""mailtls.dns against the loopback DNS server: addresses, failures, discovery."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from mailtls import dns as mailtls_dns
from mailtls.dns import DnsLookupError, discover, parse_nameserver, resolve_addresses
from mailtls.errors import UsageError
from mailtls.model import HostSource
from tests.dnsserver import LoopbackDnsServer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("[::1]", ("::1", 53)),
        (" 192.0.2.1 ", ("192.0.2.1", 53)),
    ],
)
def test_parse_nameserver(text: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "dns.example",
        "127.0.0.1:0",
        "127.0.0.1:99999",
        "127.0.0.1:x",
        "127.0.0.1:",
        "[::1]x",
        "1.2.3",
    ],
)
def test_parse_nameserver_rejects_bad_input(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_nameserver(text)
    assert "--nameserver" in str(caught.value) and "\n" not in str(caught.value)


def test_all_addresses_deduplicated_ipv4_first(dns_server: LoopbackDnsServer) -> None:
    addresses = asyncio.run(resolve_addresses("Mail.Example.Test.", dns_server.nameserver))
    assert addresses == ["127.0.0.1", "::1", "::ffff:7f00:1"]
    assert ("mail.example.test", "A") in dns_server.queries
    assert ("mail.example.test", "AAAA") in dns_server.queries


def test_ipv6_only_host(dns_server: LoopbackDnsServer) -> None:
    assert asyncio.run(resolve_addresses("v6only.example.test", dns_server.nameserver)) == ["::1"]


def test_ip_literals_need_no_dns(dns_server: LoopbackDnsServer) -> None:
    assert asyncio.run(resolve_addresses("192.0.2.1", dns_server.nameserver)) == ["192.0.2.1"]
    assert asyncio.run(resolve_addresses("[2001:db8::1]", dns_server.nameserver)) == ["2001:db8::1"]
    assert dns_server.queries == []


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("nothing.example.test", "NXDOMAIN: nothing.example.test does not exist in DNS"),
        ("txtonly.example.test", "txtonly.example.test has no A or AAAA record"),
        ("broken.example.test", "SERVFAIL"),
        ("slow.example.test", "DNS timeout"),
    ],
)
def test_lookup_failures_are_one_line(dns_server: LoopbackDnsServer, host: str, words: str) -> None:
    started = time.monotonic()
    with pytest.raises(DnsLookupError) as caught:
        asyncio.run(resolve_addresses(host, dns_server.nameserver, timeout=0.5))
    assert time.monotonic() - started < 2.0
    assert words in str(caught.value)
    assert dns_server.nameserver in str(caught.value)
    assert "\n" not in str(caught.value)


def test_hosts_file_answers_first_without_a_nameserver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text(
        "# comment\n127.0.0.1 localhost\n::1 localhost ip6-localhost\n192.0.2.9 Box.Example.Test box\n"
    )
    monkeypatch.setattr(mailtls_dns, "HOSTS_FILE", hosts)
    assert asyncio.run(resolve_addresses("localhost")) == ["127.0.0.1", "::1"]
    assert asyncio.run(resolve_addresses("box.example.test.")) == ["192.0.2.9"]


def test_hosts_file_is_ignored_with_an_explicit_nameserver(
    dns_server: LoopbackDnsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("192.0.2.9 mail.example.test\n")
    monkeypatch.setattr(mailtls_dns, "HOSTS_FILE", hosts)
    assert (
        asyncio.run(resolve_addresses("mail.example.test", dns_server.nameserver))[0] == "127.0.0.1"
    )


def test_the_machine_hosts_file_resolves_localhost() -> None:
    assert "127.0.0.1" in asyncio.run(resolve_addresses("localhost"))


def test_discover_from_srv_mx_and_common_names(dns_server: LoopbackDnsServer) -> None:
    found = asyncio.run(discover("Example.Test.", dns_server.nameserver))
    assert found == [
        HostSource("imap.example.test", "SRV _imaps._tcp.example.test", ("imaps",), 993),
        HostSource("backup.example.test", "SRV _imaps._tcp.example.test", ("imaps",), 9993),
        HostSource("imap.example.test", "SRV _pop3s._tcp.example.test", ("pop3s",), 995),
        HostSource(
            "smtp.example.test", "SRV _submissions._tcp.example.test", ("submissions",), 465
        ),
        HostSource("smtp.example.test", "SRV _submission._tcp.example.test", ("submission",), 587),
        HostSource("mx1.example.test", "MX"),
        HostSource("mx2.example.test", "MX"),
        HostSource("imap.example.test", "guess imap."),
        HostSource("mail.example.test", "guess mail."),
        HostSource("smtp.example.test", "guess smtp."),
    ]
    # "_imap._tcp" has the "." target: IMAP with STARTTLS is decidedly not offered.
    assert not any(h.source.startswith("SRV _imap._tcp") for h in found)


def test_discover_a_domain_with_nothing(dns_server: LoopbackDnsServer) -> None:
    assert asyncio.run(discover("nowhere.test", dns_server.nameserver)) == []


def test_discover_with_an_unanswering_server_says_so() -> None:
    with LoopbackDnsServer([]) as server:
        server.answer = lambda wire: None  # type: ignore[method-assign]  # never answers
        started = time.monotonic()
        with pytest.raises(DnsLookupError) as caught:
            asyncio.run(discover("example.test", server.nameserver, timeout=0.5))
    assert time.monotonic() - started < 3.0
    assert "DNS timeout" in str(caught.value)


def test_the_loopback_server_answers_over_tcp_too(dns_server: LoopbackDnsServer) -> None:
    import dns.message
    import dns.query
    import dns.rcode

    query = dns.message.make_query("example.test", "MX")
    response = dns.query.tcp(query, "127.0.0.1", port=dns_server.port, timeout=2.0)
    assert response.rcode() == dns.rcode.NOERROR
    assert sorted(r.exchange.to_text() for r in response.answer[0]) == [
        "mx1.example.test.",
        "mx2.example.test.",
    ]
    missing = dns.query.tcp(
        dns.message.make_query("nope.example.test", "A"),
        "127.0.0.1",
        port=dns_server.port,
        timeout=2.0,
    )
    assert missing.rcode() == dns.rcode.NXDOMAIN
