"""Parse what a person types after ``mailtls check``.

    imaps://mail.example.com[:993]   one service (URL schemes of mailtls.model.SERVICES)
    mail.example.com                 the iPhone sweep: 993, 143, 995, 110, 465, 587, 25
    mail.example.com:993             a default port picks its service (993 -> imaps)
    user@example.com                 an e-mail address: the host is its domain
    ::1, [::1]:993, 192.0.2.1        IP literals, with and without brackets

Host names come out in ASCII (IDNA A-labels, lower case, no trailing dot) for DNS and SNI,
and in Unicode for people (``display_host``). Anything wrong raises
:class:`mailtls.errors.TargetError` with one line naming the input.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mailtls.errors import TargetError
from mailtls.model import IPHONE_SWEEP, SCHEME_ALIASES, SERVICES, Endpoint, service_for_scheme

_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$")
_MAX_NAME = 253
_MAX_LABEL = 63


@dataclass(frozen=True, slots=True)
class Target:
    text: str  # what the person typed
    kind: str  # "url" | "host" | "email"
    host: str  # ASCII (A-label), lower case, no trailing dot; IPs in canonical form
    display_host: str  # Unicode form, for people
    schemes: tuple[str, ...]  # one for a URL, the iPhone sweep for a bare host or domain
    port: int | None
    is_ip: bool


def _known_schemes() -> str:
    return ", ".join([*SERVICES, *SCHEME_ALIASES])


def parse_target(text: str) -> Target:
    """Parse one target; raises TargetError naming the input."""
    original = text
    text = text.strip()
    if not text:
        raise TargetError(
            "empty target: give a host name, a URL such as imaps://mail.example.com, or an e-mail address"
        )
    if any(ch.isspace() for ch in text):
        raise TargetError(f"{original!r}: a target cannot contain spaces")
    if "://" in text:
        return _parse_url(original, text)
    if "@" in text:
        local, _, domain = text.rpartition("@")
        if not local:
            raise TargetError(f"{original!r}: e-mail address without a name before '@'")
        host, display, is_ip = _parse_host(original, domain)
        return Target(original, "email", host, display, IPHONE_SWEEP, None, is_ip)
    host_text, port = _split_host_port(original, text)
    host, display, is_ip = _parse_host(original, host_text)
    if port is None:
        return Target(original, "host", host, display, IPHONE_SWEEP, None, is_ip)
    matches = [s.scheme for s in SERVICES.values() if s.default_port == port]
    if len(matches) != 1:
        raise TargetError(
            f"{original!r}: port {port} is not a standard mail port; "
            f"say which service with a URL, e.g. imaps://{_url_host(host)}:{port}"
        )
    return Target(original, "host", host, display, (matches[0],), port, is_ip)


def _parse_url(original: str, text: str) -> Target:
    scheme, _, rest = text.partition("://")
    try:
        service = service_for_scheme(scheme)
    except KeyError:
        raise TargetError(
            f"{original!r}: unknown scheme {scheme.lower()!r} (use one of {_known_schemes()})"
        ) from None
    authority, _, path = rest.partition("/")
    if path.strip("/"):
        raise TargetError(f"{original!r}: a mail URL has no path; drop {'/' + path!r}")
    if "?" in authority or "#" in authority:
        raise TargetError(f"{original!r}: a mail URL has no query or fragment")
    if "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
        if ":" in userinfo:
            raise TargetError(
                f"{original!r}: do not put a password in a target (mailtls never logs in)"
            )
    host_text, port = _split_host_port(original, authority)
    host, display, is_ip = _parse_host(original, host_text)
    return Target(original, "url", host, display, (service.scheme,), port, is_ip)


def _split_host_port(original: str, text: str) -> tuple[str, int | None]:
    """Split "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise TargetError(f"{original!r}: '[' without a closing ']'")
        host, after = text[1:end], text[end + 1 :]
        if not after:
            return host, None
        if not after.startswith(":"):
            raise TargetError(f"{original!r}: unexpected {after!r} after ']'")
        return host, _parse_port(original, after[1:])
    if text.count(":") > 1:
        return text, None  # a bare IPv6 literal: it has no room for a port
    host, colon, port_text = text.partition(":")
    if not colon:
        return host, None
    return host, _parse_port(original, port_text)


def _parse_port(original: str, text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise TargetError(f"{original!r}: bad port {text!r} (a number from 1 to 65535)")
    port = int(text)
    if not 1 <= port <= 65535:
        raise TargetError(f"{original!r}: bad port {port} (a number from 1 to 65535)")
    return port


def _parse_host(original: str, text: str) -> tuple[str, str, bool]:
    """(ASCII host, Unicode display form, is_ip) or TargetError."""
    if not text:
        raise TargetError(f"{original!r}: empty host name")
    if "%" in text:
        raise TargetError(f"{original!r}: IPv6 zone ids ('%...') are not supported")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return address.compressed, address.compressed, True
    if ":" in text:
        raise TargetError(f"{original!r}: {text!r} is not a valid IPv6 address")
    name = text[:-1] if text.endswith(".") else text
    if not name or name.startswith(".") or ".." in name:
        raise TargetError(f"{original!r}: {text!r} has an empty label")
    ascii_name = _to_ascii(original, name)
    labels = ascii_name.split(".")
    if len(ascii_name) > _MAX_NAME:
        raise TargetError(f"{original!r}: host name longer than {_MAX_NAME} characters")
    for label in labels:
        if len(label) > _MAX_LABEL:
            raise TargetError(
                f"{original!r}: label {label[:20]!r}... is longer than {_MAX_LABEL} characters"
            )
        if not _LABEL.match(label):
            raise TargetError(
                f"{original!r}: {label!r} is not a valid host name label "
                "(letters, digits and inner hyphens only)"
            )
    if all(label.isdigit() for label in labels):
        raise TargetError(f"{original!r}: {text!r} is not a valid IPv4 address")
    return ascii_name, to_unicode(ascii_name), False


def _to_ascii(original: str, name: str) -> str:
    """IDNA A-label form, lower case. Uses the ``idna`` package (IDNA 2008 with UTS 46
    mapping) when installed, else the standard library's IDNA 2003 codec."""
    if name.isascii():
        lowered = name.lower()
        _check_a_labels(original, lowered)
        return lowered
    try:
        import idna
    except ImportError:
        try:
            return name.encode("idna").decode("ascii").lower()
        except UnicodeError as exc:
            raise TargetError(
                f"{original!r}: not a valid international domain name ({exc})"
            ) from None
    try:
        return idna.encode(name, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        raise TargetError(f"{original!r}: not a valid international domain name ({exc})") from None


def _check_a_labels(original: str, name: str) -> None:
    for label in name.split("."):
        if label.startswith("xn--"):
            try:
                label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                raise TargetError(f"{original!r}: {label!r} is not valid punycode") from None


def to_unicode(ascii_name: str) -> str:
    """The Unicode form people read (``xn--bcher-kva.example`` -> ``bücher.example``);
    a label that is not valid punycode is kept as it is."""
    labels = []
    for label in ascii_name.split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):
                label = label[4:].encode("ascii").decode("punycode") or label
        labels.append(label)
    return ".".join(labels)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def endpoints_for(target: Target, addresses: Sequence[str]) -> list[Endpoint]:
    """One endpoint per (scheme, address), scheme-major in the target's order.

    With no addresses, one endpoint per scheme with ``address=None`` (the caller reports
    the DNS failure on it). An IP target with no addresses given uses the IP itself.
    """
    if not addresses and target.is_ip:
        addresses = [target.host]
    endpoints: list[Endpoint] = []
    for scheme in target.schemes:
        service = service_for_scheme(scheme)
        port = target.port if target.port is not None else service.default_port
        if not addresses:
            endpoints.append(Endpoint(service.scheme, target.host, port))
            continue
        for address in dict.fromkeys(addresses):
            endpoints.append(Endpoint(service.scheme, target.host, port, address))
    return endpoints
