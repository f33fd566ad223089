"""Host-name matching the way iOS does it (ios-trust-rules.md §1c).

Re-implements ``SecFrameworkIsDNSName`` (which SAN dNSName entries count at all),
``SecDNSMatch`` (label-by-label comparison, whole-label left-most wildcard only, at least
three labels, not over a public suffix) and the IP-literal rule of
``SecPolicyCheckCertSSLHostname`` (SAN iPAddress compared byte-wise).

The public-suffix test is ``SecDNSIsTLD``: Apple strips the "*." and asks CFNetwork's
``_CFHostIsDomainTopLevelForCertificatePolicy`` (closed source). mailtls answers it with the
ICANN section of the Public Suffix List shipped by the ``publicsuffixlist`` package (see
:func:`is_public_suffix` for why the private section is left out).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import re
import string
from typing import Any

_DNS_CHARS = frozenset(string.ascii_letters + string.digits + "-_*.")

#: Only the ICANN section of the Public Suffix List (see :func:`is_public_suffix`).
PSL_ICANN_ONLY = True


@functools.cache
def _public_suffix_list() -> Any:
    """The package's list, parsed once per process on first use (~50 ms, not at import)."""
    from publicsuffixlist import PublicSuffixList

    # accept_unknown: an unknown TLD is a suffix (the PSL's implicit "*" rule);
    # accept_encoded_idn: rules are also indexed in A-label form, which is what certificates hold.
    return PublicSuffixList(accept_unknown=True, accept_encoded_idn=True, only_icann=PSL_ICANN_ONLY)


#: Labels of 1-63 characters from :data:`_DNS_CHARS` (without the dot), joined by dots.
_DNS_LABELS = re.compile(r"[A-Za-z0-9_*-]{1,63}(?:\.[A-Za-z0-9_*-]{1,63})*")
_LETTER = re.compile(r"[A-Za-z]")


def is_dns_name(name: str) -> bool:
    """``SecFrameworkIsDNSName``: does this SAN dNSName look like a DNS name at all?

    No empty label, none over 63 characters, only letters, digits, '-', '_' and '*', at
    most 255 characters, no trailing '-' or '.', and a letter in the last label.
    """
    if not name or len(name) > 255 or name.endswith(("-", ".")):
        return False
    if _DNS_LABELS.fullmatch(name) is None:
        return False
    return _LETTER.search(name, name.rfind(".") + 1) is not None


def is_public_suffix(name: str) -> bool:
    """``SecDNSIsTLD`` for the part after "*.": is ``name`` a public suffix?

    Every single label counts (``SecDNSMatch`` refuses "*.tld" before asking). Longer names
    are looked up in the Public Suffix List, wildcard and exception rules included (``*.ck``
    makes ``foo.ck`` a suffix, ``!www.ck`` keeps ``www.ck`` out), in A-label or U-label form.
    Only the ICANN section: Apple's check goes to a certificate-specific CFNetwork entry point
    (``_CFHostIsDomainTopLevelForCertificatePolicy``, not the cookie one), and widely served
    wildcards over private-section suffixes (``*.github.io``, ``*.blogspot.com``,
    ``*.s3.amazonaws.com``) work in Safari; that the private section is skipped is inferred.
    """
    name = name.lower().rstrip(".")
    if "." not in name:
        return True
    if not name.isascii():
        # U-labels: the package indexes them too; IDNA errors just fall through to the lookup.
        with contextlib.suppress(UnicodeError):
            name = name.encode("idna").decode("ascii")
    return bool(_public_suffix_list().is_public(name))


def normalise_reference(host: str) -> str:
    """The configured host as iOS compares it: one trailing dot dropped, lower case, A-labels."""
    host = host[:-1] if host.endswith(".") else host
    if not host.isascii():
        # A name that IDNA cannot encode is left as is: it matches no (ASCII) certificate name.
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    return host.lower()


def dns_match(reference: str, presented: str) -> bool:
    """``SecDNSMatch``: does the presented SAN name cover the reference host?"""
    ref_labels = normalise_reference(reference).split(".")
    pres_labels = presented.lower().split(".")
    if len(ref_labels) != len(pres_labels) or not all(ref_labels):
        return False
    wildcard = False
    for i, (ref, pres) in enumerate(zip(ref_labels, pres_labels, strict=True)):
        if "*" in pres:
            if i != 0 or pres != "*":
                return False  # partial-label or non-left-most wildcards never match
            wildcard = True  # '*' covers exactly one non-empty label
        elif ref != pres:
            return False
    # The list lookup last: only a wildcard that covers the reference pays for it.
    return not wildcard or (
        len(pres_labels) >= 3 and not is_public_suffix(".".join(pres_labels[1:]))
    )


def wildcard_refused_reason(reference: str, presented: str) -> str | None:
    """Why a wildcard name that *looks* like it covers ``reference`` is refused (for evidence)."""
    if "*" not in presented:
        return None
    ref_labels = normalise_reference(reference).split(".")
    pres_labels = presented.lower().split(".")
    if len(ref_labels) != len(pres_labels):
        if pres_labels[0] == "*" and ref_labels[-(len(pres_labels) - 1) :] == pres_labels[1:]:
            return "a wildcard matches exactly one label"
        return None
    if (
        pres_labels.count("*") + sum("*" in label for label in pres_labels) > 1
        and pres_labels[0] != "*"
    ):
        return "iOS refuses partial-label wildcards"
    if pres_labels[0] != "*":
        if "*" in pres_labels[0]:
            return "iOS refuses partial-label wildcards (the '*' must be the whole left-most label)"
        return "iOS only accepts a wildcard as the whole left-most label"
    if ref_labels[1:] != pres_labels[1:]:
        return None
    if len(pres_labels) < 3:
        return "a wildcard name needs at least three labels"
    if is_public_suffix(".".join(pres_labels[1:])):
        return f"'{'.'.join(pres_labels[1:])}' is a public suffix; iOS refuses a wildcard over it"
    return None


def parse_ip(host: str) -> bytes | None:
    """Packed address if the configured host is an IPv4/IPv6 literal (brackets allowed)."""
    candidate = host.strip("[]")
    if ":" not in candidate and not candidate.replace(".", "").isdigit():
        return None  # neither IPv6 (has a colon) nor IPv4 (digits and dots): skip the exception
    try:
        return ipaddress.ip_address(candidate).packed
    except ValueError:
        return None
