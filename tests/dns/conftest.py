"""The loopback DNS server as a fixture (tests/dnsserver.py; other areas reuse the class).

Provenance: every record is written here; queries go through dnspython to 127.0.0.1 only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dnsserver import LoopbackDnsServer

#: example.test as a small mail provider would publish it (RFC 6186 / 8314 + MX).
EXAMPLE_ZONE = [
    "_imaps._tcp.example.test. SRV 0 1 993 imap.example.test.",
    "_imaps._tcp.example.test. SRV 10 1 9993 backup.example.test.",
    "_imap._tcp.example.test. SRV 0 0 0 .",
    "_pop3s._tcp.example.test. SRV 0 1 995 IMAP.Example.Test.",
    "_submissions._tcp.example.test. SRV 0 1 465 smtp.example.test.",
    "_submission._tcp.example.test. SRV 0 1 587 smtp.example.test.",
    "example.test. MX 20 mx2.example.test.",
    "example.test. MX 10 mx1.example.test.",
    "imap.example.test. A 127.0.0.1",
    "imap.example.test. AAAA ::1",
    "backup.example.test. A 127.0.0.2",
    "smtp.example.test. A 127.0.0.1",
    "mx1.example.test. A 127.0.0.1",
    "mx2.example.test. A 127.0.0.3",
    "mail.example.test. A 127.0.0.1",
    "mail.example.test. A 127.0.0.1",
    "mail.example.test. AAAA ::1",
    "mail.example.test. AAAA ::ffff:127.0.0.1",
    "v6only.example.test. AAAA ::1",
    "txtonly.example.test. TXT hello",
]


@pytest.fixture
def dns_server() -> Iterator[LoopbackDnsServer]:
    with LoopbackDnsServer(
        EXAMPLE_ZONE, servfail=["broken.example.test"], drop=["slow.example.test"]
    ) as server:
        yield server
