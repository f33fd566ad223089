"""Scenarios: host names (SAN, CN, wildcards, IP addresses)."""

from __future__ import annotations

from mailtls.lab.scenarios.kit import (
    ANCHOR,
    DNS_SYNTAX,
    HOST,
    HOSTNAME,
    IP_NAMES,
    SAN_ONLY,
    Kit,
    Made,
    leaf_spec,
    scenario,
)


@scenario(
    "wrong-host",
    "Certificate for another name (the hoster's machine name)",
    verdicts={"NONE": "prompt", "USR": "prompt", "SYS": "prompt"},
    rules={"NONE": (ANCHOR, HOSTNAME), "USR": (HOSTNAME,), "SYS": (HOSTNAME,)},
    demo=True,
)
def _wrong_host(kit: Kit) -> Made:
    """Private chain whose leaf names only server17.hoster.example (SAN and CN) while Mail is
    configured with mail.example.test: the shared-hosting classic."""
    return kit.private_chain(leaf_spec("server17.hoster.example"))


@scenario(
    "cn-only",
    "No SAN; the CN matches (ignored since iOS 13)",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, SAN_ONLY), "USR": (SAN_ONLY,)},
)
def _cn_only(kit: Kit) -> Made:
    """Private chain; leaf CN mail.example.test and no subjectAltName extension at all."""
    return kit.private_chain(leaf_spec(san=None))


@scenario(
    "wildcard-ok",
    "Wildcard *.example.test for mail.example.test",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (HOSTNAME,)},
)
def _wildcard_ok(kit: Kit) -> Made:
    """Private chain; leaf SAN and CN *.example.test (whole left-most label, 3 labels, the
    rest is not a public suffix)."""
    return kit.private_chain(leaf_spec("*.example.test"))


@scenario(
    "wildcard-public-suffix",
    "Wildcard over a public suffix (*.co.uk)",
    host="mail.co.uk",
    verdicts={"USR": "prompt"},
    rules={"USR": (HOSTNAME,)},
)
def _wildcard_public_suffix(kit: Kit) -> Made:
    """Private chain; leaf SAN and CN *.co.uk, host mail.co.uk: the part after "*." is a
    public suffix, so SecDNSMatch refuses the wildcard. Only a string: nothing resolves it."""
    return kit.private_chain(leaf_spec("*.co.uk"))


@scenario(
    "wildcard-partial-label",
    "Partial-label wildcard m*.example.test",
    verdicts={"USR": "prompt"},
    rules={"USR": (HOSTNAME,)},
)
def _wildcard_partial_label(kit: Kit) -> Made:
    """Private chain; leaf SAN and CN m*.example.test: partial-label wildcards never match."""
    return kit.private_chain(leaf_spec("m*.example.test"))


@scenario(
    "wildcard-too-few-labels",
    "Wildcard with only two labels (*.test)",
    host="example.test",
    verdicts={"USR": "prompt"},
    rules={"USR": (HOSTNAME,)},
)
def _wildcard_too_few_labels(kit: Kit) -> Made:
    """Private chain; leaf SAN and CN *.test, host example.test: a wildcard name needs at
    least three labels."""
    return kit.private_chain(leaf_spec("*.test"))


@scenario(
    "san-trailing-dot",
    "SAN dNSName with a trailing dot",
    verdicts={"USR": "prompt"},
    rules={"USR": (DNS_SYNTAX,)},
)
def _san_trailing_dot(kit: Kit) -> Made:
    """Private chain; leaf SAN dNSName "mail.example.test." (trailing dot), CN without:
    SecFrameworkIsDNSName drops the entry, so nothing matches."""
    return kit.private_chain(leaf_spec("DNS:mail.example.test.", cn=HOST))


@scenario(
    "ip-in-san",
    "IP literal host, SAN iPAddress matches",
    host="127.0.0.1",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (IP_NAMES,)},
)
def _ip_in_san(kit: Kit) -> Made:
    """Private chain; Mail configured with 127.0.0.1; leaf SAN iPAddress 127.0.0.1, CN
    127.0.0.1."""
    return kit.private_chain(leaf_spec("IP:127.0.0.1", cn="127.0.0.1"))


@scenario(
    "ip-in-cn",
    "IP literal host found only in the CN",
    host="127.0.0.1",
    verdicts={"USR": "prompt"},
    rules={"USR": (IP_NAMES,)},
)
def _ip_in_cn(kit: Kit) -> Made:
    """Private chain; Mail configured with 127.0.0.1; leaf CN 127.0.0.1, SAN only
    DNS:mail.example.test: an IP in the CN never matches."""
    return kit.private_chain(leaf_spec(f"DNS:{HOST}", cn="127.0.0.1"))


@scenario(
    "ip-in-dns-san",
    "IP literal host written as a SAN dNSName",
    host="127.0.0.1",
    verdicts={"USR": "prompt"},
    rules={"USR": (IP_NAMES,)},
)
def _ip_in_dns_san(kit: Kit) -> Made:
    """Private chain; Mail configured with 127.0.0.1; leaf SAN dNSName "127.0.0.1" (not an
    iPAddress entry), CN 127.0.0.1: an IP in a dNSName never matches."""
    return kit.private_chain(leaf_spec("DNS:127.0.0.1", cn="127.0.0.1"))
