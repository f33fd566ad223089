"""Validate the host names a certificate or CSR will carry.

A name is a DNS name (IDNA A-label, lower case, no trailing dot), a wildcard whose ``*``
is the whole left-most label, or an IP literal. The rules mirror what iOS will match
(ios-trust-rules.md ``san_dns_syntax_filter``, ``hostname_match``, ``ip_address_names``):
a name iOS would ignore is refused here with the reason, not written into a certificate.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailtls.errors import UsageError
from mailtls.model import Report, Status

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class HostName:
    """One validated name: ``value`` as written into the certificate."""

    value: str
    is_ip: bool

    @property
    def is_wildcard(self) -> bool:
        return self.value.startswith("*.")

    @property
    def san_entry(self) -> str:
        """The name in the ``DNS:``/``IP:`` form :mod:`mailtls.pki` understands."""
        return f"IP:{self.value}" if self.is_ip else f"DNS:{self.value}"

    @property
    def sample_host(self) -> str:
        """A host name this entry matches (for verifying a wildcard certificate)."""
        return "mailtls-check" + self.value[1:] if self.is_wildcard else self.value


def parse_name(text: str) -> HostName:
    """Validate one name; raise :class:`UsageError` naming what is wrong."""
    raw = text.strip()
    if not raw:
        raise UsageError("empty host name")
    candidate = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        pass
    else:
        return HostName(address.compressed, is_ip=True)
    name = raw.rstrip(".") if raw.endswith(".") and not raw.endswith("..") else raw
    try:
        ascii_name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError as exc:
        raise UsageError(f"{raw!r} is not a valid host name ({exc})") from exc
    ascii_name = ascii_name.lower()
    if len(ascii_name) > 253:
        raise UsageError(f"{raw!r} is longer than 253 characters")
    labels = ascii_name.split(".")
    wildcard = labels[0] == "*"
    if wildcard:
        if len(labels) < 3:
            raise UsageError(
                f"{raw!r}: a wildcard needs at least two labels after '*.' (iOS will not match it)"
            )
        labels = labels[1:]
    for label in labels:
        if label == "":
            raise UsageError(f"{raw!r} has an empty label")
        if "*" in label:
            raise UsageError(
                f"{raw!r}: '*' may only be the whole left-most label (iOS ignores partial wildcards)"
            )
        if not _LABEL.match(label):
            raise UsageError(
                f"{raw!r}: label {label!r} may hold only letters, digits and inner hyphens "
                "(at most 63 characters)"
            )
    if not any(c.isalpha() for c in labels[-1]):
        raise UsageError(f"{raw!r}: the last label must contain a letter (not a host name)")
    if wildcard:
        from mailtls.analysis.names import is_public_suffix

        if is_public_suffix(".".join(labels)):
            raise UsageError(
                f"{raw!r}: iOS refuses a wildcard directly under a public suffix (hostname_match)"
            )
    return HostName(ascii_name, is_ip=False)


def parse_names(texts: Iterable[str]) -> tuple[HostName, ...]:
    """Validate names, drop duplicates (first occurrence wins), refuse an empty list."""
    seen: dict[str, HostName] = {}
    for text in texts:
        host = parse_name(text)
        seen.setdefault(host.value, host)
    if not seen:
        raise UsageError("no host names given")
    return tuple(seen.values())


def names_from_report(report: Report) -> tuple[str, ...]:
    """Every host name a check reached, in order: the names the users' devices use, so a
    reissued certificate needs them all.

    Names that did not resolve (a guessed ``imap.`` that does not exist) are left out.
    """
    found: dict[str, None] = {}
    for endpoint_report in report.endpoints:
        if endpoint_report.probe.status is not Status.DNS_ERROR:
            found.setdefault(_clean(endpoint_report.endpoint.host), None)
    return tuple(found)


def names_from_report_json(data: object, source: str = "report") -> tuple[str, ...]:
    """The same from the JSON of ``mailtls check --format json``."""
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        raise UsageError(f"{source}: not a 'mailtls check --format json' report (no endpoints)")
    found: dict[str, None] = {}
    for item in data["endpoints"]:
        if not isinstance(item, dict) or item.get("status") == Status.DNS_ERROR.value:
            continue
        host = item.get("host")
        if host is None:  # a serialised model.EndpointReport
            host = _dig(item, "probe", "endpoint", "host")
            if _dig(item, "probe", "status") == Status.DNS_ERROR.value:
                continue
        if isinstance(host, str) and host:
            found.setdefault(_clean(host), None)
    if not found:
        raise UsageError(f"{source}: the report lists no host name that was reached")
    return tuple(found)


def _clean(host: str) -> str:
    return host.lower().rstrip(".")


def _dig(value: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
