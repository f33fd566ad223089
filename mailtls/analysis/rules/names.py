"""Names and host name (ios-trust-rules.md §1b, §1c): name constraints of the CAs, and the
``SSLHostname`` check (:mod:`mailtls.analysis.hostname`) with the rule that explains a
mismatch."""

from __future__ import annotations

import ipaddress

from mailtls.analysis.certs import NameConstraints, ParsedCertificate
from mailtls.analysis.context import Context, Hit, set_hostname_check
from mailtls.analysis.hostname import evaluate_hostname
from mailtls.analysis.names import dns_match
from mailtls.analysis.registry import (
    ALL_KINDS,
    rule,
)
from mailtls.analysis.rules.common import (
    SECURITY,
    prompt_rule,
    who_at,
)
from mailtls.model import Severity

set_hostname_check(evaluate_hostname)


def _dns_within(name: str, subtree: str) -> bool:
    """``SecDNSNameConstraintsMatch`` (nameconstraints.c): a plain suffix test on the text.

    Nothing is normalised first: a trailing dot on either side, a space or an empty label is
    compared as written, and a wildcard SAN is the literal string "*.example.com" (so the
    excluded subtree "bar.example.com", longer than it, never matches it; the name_constraints
    rule adds a warning for that case, see ``_wildcard_reach_hits``).
    """
    if len(name) < len(subtree):
        return False
    if not subtree:
        return True  # Apple reads past the end here; mailtls lets "" cover every name
    if (
        len(name) != len(subtree)
        and subtree[0] != "."
        and name[len(name) - len(subtree) - 1] != "."
    ):
        return False  # "badexample.com" is not under "example.com"
    return name[len(name) - len(subtree) :].casefold() == subtree.casefold()


def _email_within(address: str, subtree: str) -> bool:
    """``SecRFC822NameMatch`` (nameconstraints.c): mailbox, host or ".domain" subtree."""
    if "@" in subtree:
        return address.casefold() == subtree.casefold()
    at = address.find("@")
    if at < 0 or not subtree:
        return False  # an rfc822Name without '@' is under no host or domain
    host = address[at + 1 :]
    if subtree[0] != ".":
        return host.casefold() == subtree.casefold()
    # CFStringHasSuffix: case-sensitive, unlike the two comparisons above.
    return not host.startswith(".") and address.endswith(subtree)


def _ip_within(address: bytes, subtree: tuple[bytes, bytes]) -> bool:
    """``nc_compare_IPAddresses``: a 4/16-byte address against an 8/32-byte subtree of its family."""
    network, mask = subtree
    if len(address) not in (4, 16) or len(network) != len(address) or len(mask) != len(address):
        return False  # malformed on either side, or the other family: no match
    return all((a & m) == (n & m) for a, n, m in zip(address, network, mask, strict=True))


@rule(
    id="name_constraints",
    title="Name outside the CA's permitted names",
    checks="Permitted/excluded dNSName, iPAddress and rfc822Name subtrees of intermediates (and of the anchor when it is trusted) applied to the SAN names of the certificates below, self-issued intermediates skipped; per name form present in the subtrees every SAN entry of that form must match one permitted subtree and none excluded; an unsupported name form in a critical nameConstraints extension fails. A wildcard dNSName of the server certificate that covers a name an excluded subtree holds ('*.example.com' under an excluded 'bar.example.com') is a warning only: iOS trusts it.",
    check_key="NameConstraints",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b name_constraints; SecPolicyCheckBasicCertificateProcessing ({SECURITY} trust/trustd/SecPolicyServer.c); SecNameContraintsMatchSubtrees, SecDNSNameConstraintsMatch, SecRFC822NameMatch, nc_compare_IPAddresses ({SECURITY} trust/trustd/nameconstraints.c); parseGeneralSubtrees ({SECURITY} OSX/sec/Security/SecCertificate.c)",
    fix="Issue the server certificate for names the CA is permitted to certify, or widen the CA's nameConstraints.",
    note=(
        "Follows Apple's code where RFC 5280 is silent or differs (nameconstraints.c at apple-open-source/macos 0d740082): "
        "names are compared as written (no trailing-dot or case folding beyond ASCII case; a wildcard SAN is literal text, "
        "so '*.example.com' under an excluded 'bar.example.com' passes and the leaf is trusted for bar.example.com; mailtls warns, since Chromium's name_constraints.cc, IsPermittedDNSName with WILDCARD_PARTIAL_MATCH, refuses such a certificate); "
        "a malformed SAN entry is compared like any other (an iPAddress of the wrong length or an rfc822Name without '@' "
        "matches no subtree, so it fails a permitted subtree of its form and escapes an excluded one); "
        "an iPAddress subtree of the wrong length, or of the other address family, still makes the form present and matches nothing; "
        "a subtree with minimum != 0 or a maximum makes the extension unparseable (parseGeneralSubtrees: UnparseableExtension, "
        "the constraints are not applied); self-issued intermediates are skipped as RFC 5280 6.1.3 says "
        "(the `!is_self_issued || i == n` test in SecPolicyCheckBasicCertificateProcessing). "
        "Not evaluated: directoryName and URI subtrees, the subject's emailAddress, and Apple's union of permitted subtrees "
        "across CAs (SecNameConstraintsIntersectSubtrees appends where RFC 5280 intersects)."
    ),
    **prompt_rule(),
)
def name_constraints(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position in ctx.issuing_positions():
        constraints = ctx.nodes[position].cert.name_constraints
        if constraints is None:
            continue
        if position == len(ctx.nodes) - 1 and not ctx.anchored:
            continue  # an untrusted root's constraints are not applied
        if constraints.critical and constraints.unsupported_forms:
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} has a critical nameConstraints extension with a name form iOS cannot evaluate.",
                    {"unsupported_forms": list(constraints.unsupported_forms)},
                )
            )
        for below in range(position):
            cert = ctx.nodes[below].cert
            if below and cert.self_issued:
                continue  # RFC 5280 6.1.3 (b)(c), and Apple: `!is_self_issued || i == n`
            hits.extend(_constraint_hits(ctx, position, below, cert, constraints))
    return hits


def _constraint_hits(
    ctx: Context, position: int, below: int, cert: ParsedCertificate, nc: NameConstraints
) -> list[Hit]:
    """SecNameContraintsMatchSubtrees for one CA's subtrees and one certificate's SAN.

    Per name form: when the CA has subtrees of that form, every SAN entry of the form must
    match one permitted subtree and no excluded one; forms without subtrees are free.
    """
    hits: list[Hit] = []
    who, ca = who_at(ctx, below), who_at(ctx, position)
    for name in cert.dns_names:
        if nc.permitted_dns and not any(_dns_within(name, t) for t in nc.permitted_dns):
            hits.append(
                Hit(
                    below,
                    f"'{name}' in {who} is outside the names {ca} may certify.",
                    {"name": name, "permitted": list(nc.permitted_dns)},
                )
            )
        if any(_dns_within(name, t) for t in nc.excluded_dns):
            hits.append(
                Hit(
                    below,
                    f"'{name}' in {who} is in a subtree {ca} excludes.",
                    {"name": name, "excluded": list(nc.excluded_dns)},
                )
            )
        elif below == 0:
            hits.extend(_wildcard_reach_hits(ctx, name, who, ca, nc.excluded_dns))
    for address in cert.email_names:
        if nc.permitted_email and not any(_email_within(address, t) for t in nc.permitted_email):
            hits.append(
                Hit(
                    below,
                    f"e-mail '{address}' in {who} is outside the addresses {ca} may certify.",
                    {"email": address, "permitted": list(nc.permitted_email)},
                )
            )
        if any(_email_within(address, t) for t in nc.excluded_email):
            hits.append(
                Hit(
                    below,
                    f"e-mail '{address}' in {who} is in a subtree {ca} excludes.",
                    {"email": address, "excluded": list(nc.excluded_email)},
                )
            )
    for packed in cert.ip_names:
        shown = str(ipaddress.ip_address(packed)) if len(packed) in (4, 16) else packed.hex()
        # Any iPAddress subtree makes the form present, whatever its family or length.
        if nc.permitted_ip and not any(_ip_within(packed, t) for t in nc.permitted_ip):
            hits.append(
                Hit(
                    below,
                    f"IP {shown} in {who} is outside the permitted addresses.",
                    {"address": shown},
                )
            )
        if any(_ip_within(packed, t) for t in nc.excluded_ip):
            hits.append(
                Hit(below, f"IP {shown} in {who} is in an excluded range.", {"address": shown})
            )
    return hits


def _wildcard_excluded_names(name: str, excluded: tuple[str, ...]) -> list[str]:
    """Excluded subtrees holding a name that the wildcard SAN ``name`` covers.

    A wildcard covers exactly one label, so "*.example.com" reaches into the excluded subtree
    "bar.example.com" (it covers that name itself) but not into "a.bar.example.com" or
    ".bar.example.com" (every name there is deeper). Subtrees Apple's suffix test already
    matches ("example.com", ".example.com") are failures of their own, not listed here.
    """
    if not name.startswith("*."):
        return []
    return [
        subtree
        for subtree in excluded
        if subtree
        and not subtree.startswith(".")
        and "*" not in subtree
        and dns_match(subtree, name)  # SecDNSMatch: would the wildcard cover this name?
    ]


def _wildcard_reach_hits(
    ctx: Context, name: str, who: str, ca: str, excluded: tuple[str, ...]
) -> list[Hit]:
    """A warning (the verdict stays Apple's) per excluded subtree a leaf wildcard reaches into.

    ``SecDNSNameConstraintsMatch`` compares "*.example.com" as text, so iOS trusts the leaf for
    bar.example.com although the CA excludes bar.example.com; Chromium's name_constraints.cc
    (``IsPermittedDNSName``, WILDCARD_PARTIAL_MATCH) counts the wildcard as excluded and
    refuses the certificate.
    """
    hits: list[Hit] = []
    for subtree in _wildcard_excluded_names(name, excluded):
        host_inside = bool(ctx.host) and dns_match(ctx.host or "", subtree.removesuffix("."))
        how = (
            "iOS does not expand wildcards against name constraints (SecDNSNameConstraintsMatch "
            f"compares the text '{name}' with '{subtree}')"
        )
        others = (
            "other clients refuse the certificate (Chromium's name_constraints.cc counts a wildcard "
            "that reaches into an excluded subtree as excluded), and the CA probably did not mean to allow it."
        )
        if host_inside:
            summary = (
                f"For {ctx.host}, the configured host, the iPhone trusts {who} through '{name}' "
                f"although {ca} excludes '{subtree}': {how}; {others}"
            )
        else:
            summary = (
                f"'{name}' in {who} also covers '{subtree}', which {ca} excludes; the iPhone trusts it "
                f"there too because {how}; {others} {ctx.host or 'The configured host'} itself is outside '{subtree}'."
            )
        hits.append(
            Hit(
                0,
                summary,
                {
                    "name": name,
                    "excluded": subtree,
                    "wildcard_reaches_excluded": True,
                    "host_in_excluded": host_inside,
                },
                severity=Severity.WARNING,
                clear_result_class=True,
                fix=(
                    f"Have the server certificate list its names explicitly instead of '{name}' "
                    f"(none of them under '{subtree}'), or ask the CA whether '{subtree}' is meant to be excluded."
                ),
            )
        )
    return hits


_HOSTNAME_COMMON = {
    "check_key": "SSLHostname",
    "applies_to": ALL_KINDS,
    "fix": "Re-issue the certificate with the exact host name configured in Mail (for incoming and outgoing server) as a subjectAltName DNS entry, or an IP address as a subjectAltName IP entry.",
    **prompt_rule(),
}


def _hostname_hits(ctx: Context, rule_id: str, summary: str) -> list[Hit]:
    """The hit of a host-name rule: one when the SSLHostname check failed for this reason.

    A list, not a generator: four rules ask on every analysis, and almost always get none.
    """
    result = ctx.hostname
    if not result.matched and result.cause == rule_id:
        return [Hit(0, summary.format(host=ctx.host), dict(result.evidence))]
    return []


@rule(
    id="ios13_san_only",
    title="Host name only in the CN, not in the subjectAltName",
    checks="The host name is matched only against SAN dNSName (or iPAddress) entries; the subject CN is never used, even when there is no SAN. Before iOS 13 the CN was used when the certificate had no SAN dNSName.",
    since="iOS 13",
    citation=f"ios-trust-rules.md §1c ios13_san_only; support.apple.com/103769; SecPolicyCheckCertSSLHostname ({SECURITY} OSX/sec/Security/SecPolicyLeafCallbacks.c)",
    **_HOSTNAME_COMMON,
)
def ios13_san_only(ctx: Context) -> list[Hit]:
    return _hostname_hits(
        ctx,
        "ios13_san_only",
        "The certificate has no subjectAltName DNS names, and iOS never uses the subject CN, so it does not cover '{host}'.",
    )


@rule(
    id="san_dns_syntax_filter",
    title="Malformed name in the subjectAltName is ignored",
    checks="A SAN dNSName counts only if it looks like a DNS name: letters, digits, '-', '_', '*', '.'; labels <= 63, name <= 255; no empty label, no trailing '.' or '-'; the last label contains a letter.",
    since="long-standing",
    citation=f"ios-trust-rules.md §1c san_dns_syntax_filter; SecFrameworkIsDNSName ({SECURITY} OSX/sec/Security/SecCertificate.c)",
    **_HOSTNAME_COMMON,
)
def san_dns_syntax_filter(ctx: Context) -> list[Hit]:
    return _hostname_hits(
        ctx,
        "san_dns_syntax_filter",
        "The certificate names '{host}' only in a malformed subjectAltName entry that iOS ignores.",
    )


@rule(
    id="hostname_match",
    title="Host name not in the certificate",
    checks="Reference host and SAN names are compared label by label, case-insensitively, a trailing dot on the host dropped; a wildcard is only a whole left-most '*', needs >= 3 labels, matches exactly one label and may not sit over a public suffix (the ICANN section of the Public Suffix List).",
    since="long-standing",
    citation=f"ios-trust-rules.md §1c hostname_match; SecDNSMatch, SecDNSIsTLD ({SECURITY} OSX/sec/Security/SecPolicyLeafCallbacks.c)",
    note="Public suffixes: SecDNSIsTLD strips '*.' and asks CFNetwork's closed _CFHostIsDomainTopLevelForCertificatePolicy; mailtls uses the ICANN section of the Public Suffix List (publicsuffixlist package), '*' and '!' rules included, A-labels and U-labels alike, every single label counting. Leaving out the private section (*.github.io, *.blogspot.com pass) is inferred: it is a certificate-specific entry point and such wildcards work on iPhones.",
    **_HOSTNAME_COMMON,
)
def hostname_match(ctx: Context) -> list[Hit]:
    if not ctx.host:
        return [
            Hit(
                0,
                "No host name was given, so the name check was skipped (pass --host with the name configured in Mail).",
                {"skipped": True},
                severity=Severity.INFO,
                clear_result_class=True,
            )
        ]
    return _hostname_hits(ctx, "hostname_match", "The certificate does not cover '{host}'.")


@rule(
    id="ip_address_names",
    title="IP address not in the certificate's IP entries",
    checks="If the configured host is an IPv4/IPv6 literal it is compared byte-wise with SAN iPAddress entries; an IP in the CN or in a dNSName does not match; a malformed iPAddress entry fails.",
    since="long-standing",
    citation=f"ios-trust-rules.md §1c ip_address_names; SecPolicyCheckCertSSLHostname ({SECURITY} OSX/sec/Security/SecPolicyLeafCallbacks.c)",
    **_HOSTNAME_COMMON,
)
def ip_address_names(ctx: Context) -> list[Hit]:
    return _hostname_hits(
        ctx, "ip_address_names", "The certificate has no subjectAltName IP entry for {host}."
    )
