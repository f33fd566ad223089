"""The ``SSLHostname`` check, computed once per analysis, and which rule explains a mismatch.

``SecPolicyCheckCertSSLHostname``: an IP literal is compared byte-wise with SAN iPAddress
entries only; a DNS name with SAN dNSName entries that pass ``SecFrameworkIsDNSName`` only
(iOS 13 and later never fall back to the subject CN; before iOS 13 the CN was used when the
certificate had no SAN dNSName). A mismatch is attributed to the most specific rule:
``ip_address_names``, ``ios13_san_only``, ``san_dns_syntax_filter`` or ``hostname_match``.
"""

from __future__ import annotations

from mailtls.analysis.context import Context, HostnameResult
from mailtls.analysis.names import (
    dns_match,
    is_dns_name,
    normalise_reference,
    parse_ip,
    wildcard_refused_reason,
)


def evaluate_hostname(ctx: Context) -> HostnameResult:
    host = ctx.host
    leaf = ctx.leaf
    if not host:
        return HostnameResult(True, None, {"skipped": True})
    address = parse_ip(host)
    if address is None:
        legacy_cn_fallback = not ctx.ios_at_least(13) and not leaf.dns_names
        names = leaf.subject_cns if legacy_cn_fallback else leaf.dns_names
        candidates = [n for n in names if is_dns_name(n)]
        reference = normalise_reference(host)
        for name in candidates:
            # A name without '*' equal to the reference is what dns_match accepts, cheaply.
            if ("*" not in name and name.lower() == reference) or dns_match(host, name):
                # A match: no rule reads the evidence, so none is collected.
                return HostnameResult(True, None, {})
    evidence: dict[str, object] = {
        "host": host,
        "san_dns_names": list(leaf.dns_names),
        "san_ip_addresses": [s[3:] for s in leaf.info.san if s.startswith("IP:")],
        "subject_cn": leaf.info.subject_cn,
    }
    if address is not None:
        if address in leaf.ip_names:
            return HostnameResult(True, None, evidence)
        reasons = []
        if leaf.bad_ip_names:
            reasons.append("the certificate has a malformed iPAddress entry")
        bare = host.strip("[]")
        if any(cn == bare for cn in leaf.subject_cns):
            reasons.append("the address is only in the subject CN, which iOS never uses")
        if bare in leaf.dns_names:
            reasons.append("the address is written as a dNSName; iOS needs an iPAddress entry")
        evidence["why"] = reasons or ["no SAN iPAddress entry equals the address"]
        return HostnameResult(False, "ip_address_names", evidence)
    if legacy_cn_fallback:
        evidence["cn_fallback"] = True

    if not leaf.dns_names and not legacy_cn_fallback:
        evidence["why"] = [
            "the certificate has no subjectAltName DNS entries; since iOS 13 the subject CN is never used"
        ]
        return HostnameResult(False, "ios13_san_only", evidence)
    ignored = [n for n in leaf.dns_names if not is_dns_name(n)]
    near = [n for n in ignored if _loosely_matches(reference, n)]
    if near:
        evidence["ignored_names"] = ignored
        evidence["why"] = [
            f"{n!r} is not a well-formed DNS name (trailing/leading dot, bad character or an IP address), so iOS ignores it"
            for n in near
        ]
        return HostnameResult(False, "san_dns_syntax_filter", evidence)
    reasons = [
        f"{n!r}: {reason}"
        for n in candidates
        if (reason := wildcard_refused_reason(reference, n)) is not None
    ]
    evidence["why"] = reasons or [f"{host!r} is not among the certificate's names"]
    if ignored:
        evidence["ignored_names"] = ignored
    return HostnameResult(False, "hostname_match", evidence)


def _loosely_matches(reference: str, name: str) -> bool:
    cleaned = name.strip(".").lower()
    return bool(cleaned) and (cleaned == reference or dns_match(reference, cleaned))
