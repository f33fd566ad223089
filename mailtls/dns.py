"""DNS for mailtls, through dnspython only: addresses of a host and discovery of the mail
hosts of a domain (RFC 6186 / RFC 8314 SRV records, MX, common names).

``--nameserver IP[:PORT]`` sends every query to that server (compare inside and outside
DNS). Without it, the system resolver configuration is used, and names in /etc/hosts are
answered from there first, as getaddrinfo would (dnspython does not read it).

Failures raise :class:`DnsLookupError` with one line a person can act on (NXDOMAIN, no A or
AAAA record, timeout, SERVFAIL).

The queries go through dnspython's asyncio resolver (``dns.asyncresolver``).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mailtls.errors import MailtlsError, UsageError
from mailtls.model import HostSource

HOSTS_FILE = Path("/etc/hosts")

#: RFC 6186 / RFC 8314 service labels and the scheme each one names.
SRV_SERVICES: tuple[tuple[str, str], ...] = (
    ("_imaps._tcp", "imaps"),
    ("_imap._tcp", "imap"),
    ("_pop3s._tcp", "pop3s"),
    ("_pop3._tcp", "pop3"),
    ("_submissions._tcp", "submissions"),
    ("_submission._tcp", "submission"),
)
#: Names people and autoconfiguration commonly try before DNS says anything.
COMMON_PREFIXES: tuple[str, ...] = ("imap", "mail", "pop", "smtp")


class DnsLookupError(MailtlsError):
    """A name did not resolve; ``str()`` is the one-line reason."""


def parse_nameserver(text: str) -> tuple[str, int]:
    """ "IP", "IP:PORT", "[IPv6]:PORT" or a bare IPv6 address -> (ip, port)."""
    value = text.strip()
    host, port_text = value, ""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise UsageError(f"--nameserver {text!r}: expected [IPv6]:PORT")
        port_text = rest[1:]
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(f"--nameserver {text!r}: not an IP address (give IP or IP:PORT)") from None
    port = 53
    if port_text or value.endswith(":"):
        if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise UsageError(f"--nameserver {text!r}: bad port {port_text!r} (1 to 65535)")
        port = int(port_text)
    return address.compressed, port


def _normalise(name: str) -> str:
    return name.rstrip(".").lower()


def _hosts_file_addresses(host: str) -> list[str]:
    """Addresses /etc/hosts gives for ``host`` (IPv4 first), like getaddrinfo."""
    try:
        text = HOSTS_FILE.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    wanted = _normalise(host)
    found: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2 or wanted not in (_normalise(n) for n in fields[1:]):
            continue
        try:
            address = ipaddress.ip_address(fields[0].split("%", 1)[0])
        except ValueError:
            continue
        if address.compressed not in found:
            found.append(address.compressed)
    return sorted(found, key=lambda a: ":" in a)


def _resolver(nameserver: str | None, timeout: float) -> Any:
    import dns.asyncresolver
    import dns.resolver

    try:
        if nameserver is None:
            resolver = dns.asyncresolver.Resolver()
        else:
            ip, port = parse_nameserver(nameserver)
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [ip]
            resolver.port = port
    except dns.resolver.NoResolverConfiguration:
        raise DnsLookupError(
            "no DNS server configured on this machine (use --nameserver IP)"
        ) from None
    resolver.timeout = timeout
    resolver.lifetime = timeout
    return resolver


def _server_text(nameserver: str | None) -> str:
    return f"DNS server {nameserver}" if nameserver else "the system's DNS servers"


async def _query(resolver: Any, name: str, rdtype: str, search: bool = False) -> list[Any]:
    """One query's records (the resolver's ``lifetime`` bounds it)."""
    answer = await resolver.resolve(name, rdtype, raise_on_no_answer=False, search=search)
    return list(answer.rrset) if answer.rrset is not None else []


def _reason(
    host: str, errors: Iterable[BaseException], nameserver: str | None, timeout: float
) -> str:
    import dns.exception
    import dns.resolver

    errors = list(errors)
    server = _server_text(nameserver)
    if errors and all(isinstance(e, dns.resolver.NXDOMAIN) for e in errors):
        return f"NXDOMAIN: {host} does not exist in DNS (asked {server})"
    if any(isinstance(e, dns.exception.Timeout) for e in errors):
        return f"DNS timeout: no answer for {host} within {timeout:g} s from {server}"
    if any(isinstance(e, dns.resolver.NoNameservers) for e in errors):
        return f"SERVFAIL: {server} could not answer for {host}"
    if any(isinstance(e, DnsLookupError) for e in errors):
        return str(next(e for e in errors if isinstance(e, DnsLookupError)))
    other = [e for e in errors if not isinstance(e, dns.resolver.NXDOMAIN)]
    if other:
        return f"DNS lookup of {host} failed: {type(other[0]).__name__}: {other[0]}"
    return f"{host} has no A or AAAA record (asked {server})"


async def resolve_addresses(
    host: str, nameserver: str | None = None, timeout: float = 3.0
) -> list[str]:
    """Every A and AAAA address of ``host``, deduplicated, A first (each family sorted).

    IP literals come back as themselves without DNS. Raises DnsLookupError.
    """
    try:
        return [ipaddress.ip_address(host.strip("[]")).compressed]
    except ValueError:
        pass
    name = _normalise(host)
    if nameserver is None:
        local = _hosts_file_addresses(name)
        if local:
            return local
    resolver = _resolver(nameserver, timeout)
    # A single-label name ("mailhost") goes through the system's search domains, as
    # getaddrinfo would; anything with a dot, or asked of --nameserver, is taken as is.
    search = nameserver is None and "." not in name
    results = await asyncio.gather(
        _query(resolver, name, "A", search),
        _query(resolver, name, "AAAA", search),
        return_exceptions=True,
    )
    addresses: list[str] = []
    errors: list[BaseException] = []
    for result in results:
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            errors.append(result)
            continue
        # An RRset has no order; sort each family so repeated runs compare equal.
        for parsed in sorted({ipaddress.ip_address(rdata.address) for rdata in result}):
            if parsed.compressed not in addresses:
                addresses.append(parsed.compressed)
    if addresses:
        return addresses
    raise DnsLookupError(_reason(name, errors, nameserver, timeout))


async def discover(
    domain: str, nameserver: str | None = None, timeout: float = 3.0
) -> list[HostSource]:
    """The mail hosts an iPhone could be configured with for ``domain``.

    In order: SRV records (RFC 6186/8314; a "." target means the service is not offered),
    MX (a null MX "." is skipped), then the common names imap., mail., pop., smtp. that
    resolve. One entry per (host, source). SRV entries carry their scheme and port; MX and
    guessed names carry no scheme (the caller sweeps them). Raises DnsLookupError only
    when the DNS server could not be asked at all (every query timed out or failed).
    """
    import dns.resolver

    domain = _normalise(domain)
    resolver = _resolver(nameserver, timeout)
    srv_names = [f"{label}.{domain}" for label, _ in SRV_SERVICES]
    guesses = [f"{prefix}.{domain}" for prefix in COMMON_PREFIXES]
    queries = [_query(resolver, name, "SRV") for name in srv_names]
    queries.append(_query(resolver, domain, "MX"))
    guess_results = asyncio.gather(
        *(resolve_addresses(name, nameserver, timeout) for name in guesses), return_exceptions=True
    )
    record_results, guessed = await asyncio.gather(
        asyncio.gather(*queries, return_exceptions=True), guess_results
    )
    sources: dict[tuple[str, str], HostSource] = {}
    failures: list[BaseException] = []

    def add(entry: HostSource) -> None:
        if entry.host and (entry.host, entry.source) not in sources:
            sources[(entry.host, entry.source)] = entry

    for (_, scheme), name, result in zip(SRV_SERVICES, srv_names, record_results, strict=False):
        if isinstance(result, BaseException):
            if not isinstance(result, dns.resolver.NXDOMAIN):
                failures.append(result)
            continue
        records = sorted(result, key=lambda r: (r.priority, -r.weight, r.target, r.port))
        for record in records:
            target = _normalise(record.target.to_text())
            if target in ("", "."):
                continue  # RFC 2782 / 6186: "." means the service is decidedly not available
            add(HostSource(target, f"SRV {name}", (scheme,), int(record.port)))
    mx_result = record_results[-1]
    if isinstance(mx_result, BaseException):
        if not isinstance(mx_result, dns.resolver.NXDOMAIN):
            failures.append(mx_result)
    else:
        for record in sorted(mx_result, key=lambda r: (r.preference, r.exchange)):
            exchange = _normalise(record.exchange.to_text())
            if exchange not in ("", "."):
                add(HostSource(exchange, "MX"))
    for prefix, name, guess in zip(COMMON_PREFIXES, guesses, guessed, strict=False):
        if isinstance(guess, BaseException):
            failures.append(guess)
            continue
        add(HostSource(name, f"guess {prefix}."))
    if not sources and failures:
        hard = [f for f in failures if not _is_absent(f)]
        if hard and len(hard) == len(failures):
            raise DnsLookupError(_reason(domain, hard, nameserver, timeout))
    return list(sources.values())


def _is_absent(error: BaseException) -> bool:
    """A name that does not exist or has no address: an answer, not a failure."""
    import dns.resolver

    if isinstance(error, dns.resolver.NXDOMAIN):
        return True
    return isinstance(error, DnsLookupError) and (
        str(error).startswith("NXDOMAIN") or "has no A or AAAA" in str(error)
    )
