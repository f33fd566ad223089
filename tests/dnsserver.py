"""A small authoritative DNS server on 127.0.0.1 for tests (UDP and TCP, one random port).

Built on dnspython's message and rrset classes. It serves the records a test gives, in
zone-file syntax, and answers NXDOMAIN for every other name:

    with LoopbackDnsServer([
        "mail.example.test. A 127.0.0.1",
        "mail.example.test. AAAA ::1",
        "example.test. MX 10 mail.example.test.",
        "_imaps._tcp.example.test. SRV 0 1 993 mail.example.test.",
    ]) as server:
        await resolve_addresses("mail.example.test", server.nameserver)

A name that has records but none of the asked type gets an empty NOERROR answer (NODATA).
``servfail`` names get SERVFAIL; ``drop`` names get no answer at all (a timeout).
Everything asked is recorded in ``queries`` as (name, type) pairs.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

_TTL = 60


class LoopbackDnsServer:
    def __init__(
        self,
        records: Iterable[str] = (),
        *,
        servfail: Iterable[str] = (),
        drop: Iterable[str] = (),
    ) -> None:
        self.zone: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
        self.names: set[dns.name.Name] = set()
        for line in records:
            self.add(line)
        self.servfail = {dns.name.from_text(n) for n in servfail}
        self.drop = {dns.name.from_text(n) for n in drop}
        self.queries: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._udp, self._tcp = self._bind()
        self.port = int(self._udp.getsockname()[1])
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]

    @property
    def nameserver(self) -> str:
        """The value for ``--nameserver``."""
        return f"127.0.0.1:{self.port}"

    def add(self, line: str) -> None:
        """Add one record, "NAME TYPE RDATA" (zone-file syntax, names made absolute)."""
        name_text, rdtype_text, rdata = line.split(None, 2)
        name = dns.name.from_text(name_text)
        rdtype = dns.rdatatype.from_text(rdtype_text)
        rrset = self.zone.get((name, rdtype))
        new = dns.rrset.from_text(name, _TTL, dns.rdataclass.IN, rdtype, rdata)
        if rrset is None:
            self.zone[(name, rdtype)] = new
        else:
            rrset.union_update(new)
        self.names.add(name)

    def _bind(self) -> tuple[socket.socket, socket.socket]:
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("127.0.0.1", 0))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind(("127.0.0.1", udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(16)
            udp.settimeout(0.05)
            tcp.settimeout(0.05)
            return udp, tcp
        raise RuntimeError("no free port for both UDP and TCP")

    def __enter__(self) -> LoopbackDnsServer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._udp.close()
        self._tcp.close()

    def answer(self, wire: bytes) -> bytes | None:
        """The response to one query in wire format (None: stay silent)."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        self.queries.append(
            (question.name.to_text().rstrip(".").lower(), dns.rdatatype.to_text(question.rdtype))
        )
        if question.name in self.drop:
            return None
        if question.name in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif question.name not in self.names:
            response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            rrset = self.zone.get((question.name, question.rdtype))
            if rrset is not None:
                response.answer.append(rrset)
        return response.to_wire()

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._udp.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self.answer(wire)
            if reply is not None:
                self._udp.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    length = int.from_bytes(_read_exactly(conn, 2), "big")
                    reply = self.answer(_read_exactly(conn, length))
                    if reply is not None:
                        conn.sendall(len(reply).to_bytes(2, "big") + reply)
                except (OSError, EOFError):
                    continue


def _read_exactly(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data
