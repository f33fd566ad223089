"""Host-name matching the way iOS does it (ios-trust-rules.md §1c).

Re-implements ``SecFrameworkIsDNSName`` (which SAN dNSName entries count at all),
``SecDNSMatch`` (label-by-label comparison, whole-label left-most wildcard only, at least
three labels, not over a public suffix) and the IP-literal rule of
``SecPolicyCheckCertSSLHostname`` (SAN iPAddress compared byte-wise).

The public-suffix test is an approximation of CFNetwork's top-level-domain test: every
single label is treated as a top-level domain, plus the compact list of common multi-label
public suffixes below. A wildcard over a suffix that is missing from this list would be
accepted by mailtls but refused by an iPhone.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import string

_DNS_CHARS = frozenset(string.ascii_letters + string.digits + "-_*.")

#: Multi-label public suffixes (second-level registries) that iOS refuses a wildcard over.
#: Compact approximation of the Public Suffix List; single labels are always suffixes.
MULTI_LABEL_PUBLIC_SUFFIXES: frozenset[str] = frozenset(
    f"{second}.{tld}"
    for tld, seconds in {
        "uk": "co ac gov org net ltd plc me nhs sch police",
        "au": "com net org edu gov asn id csiro",
        "nz": "co net org ac govt school geek gen kiwi maori",
        "jp": "co ne or ac go ad ed gr lg",
        "br": "com net org gov edu art blog eco emp eng ind inf jus leg log med mil",
        "cn": "com net org gov edu ac mil",
        "tw": "com net org gov edu idv",
        "hk": "com net org gov edu idv",
        "za": "co net org gov edu ac web",
        "in": "co net org gov ac edu firm gen ind res",
        "mx": "com net org gob edu",
        "ar": "com net org gob edu int",
        "tr": "com net org gov edu gen biz info av bel",
        "kr": "co or ne go ac re pe",
        "sg": "com net org gov edu per",
        "my": "com net org gov edu name",
        "il": "co org net ac gov muni k12",
        "id": "co or net ac go web my biz",
        "th": "co or net ac go in",
        "ph": "com net org gov edu",
        "pk": "com net org gov edu",
        "vn": "com net org gov edu",
        "ua": "com net org gov edu in kiev",
        "ru": "com net org pp msk spb",
        "pl": "com net org gov edu info biz waw",
        "es": "com org nom gob edu",
        "it": "gov edu",
        "fr": "com asso nom gouv tm",
        "be": "ac",
        "at": "co or ac gv",
        "ch": "gov",
        "gr": "com net org gov edu",
        "pt": "com org gov edu",
        "eg": "com net org gov edu",
        "ng": "com net org gov edu",
        "ke": "co or ne go ac",
        "co": "com net org gov edu",
        "pe": "com net org gob edu",
        "ve": "com net org gob edu",
        "cl": "gob gov",
        "sa": "com net org gov edu",
        "ae": "co net org gov ac",
        "us": "k12 lib",
        "eu": "com",
        "com": "us uk eu br cn",
        "net": "uk eu",
    }.items()
    for second in seconds.split()
)


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
    """Approximation of CFNetwork's top-level-domain test (see module docstring)."""
    name = name.lower().rstrip(".")
    return "." not in name or name in MULTI_LABEL_PUBLIC_SUFFIXES


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
    for i, (ref, pres) in enumerate(zip(ref_labels, pres_labels, strict=True)):
        if "*" in pres:
            if i != 0 or pres != "*":
                return False  # partial-label or non-left-most wildcards never match
            if len(pres_labels) < 3 or is_public_suffix(".".join(pres_labels[1:])):
                return False
            continue  # '*' covers exactly one non-empty label
        if ref != pres:
            return False
    return True


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
