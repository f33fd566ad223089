"""Extended key usage (ios-trust-rules.md §1b, §1c): a server certificate must be usable
for TLS, and from iOS 13 say serverAuth."""

from __future__ import annotations

from mailtls.analysis.context import Context, Hit
from mailtls.analysis.registry import (
    ALL_KINDS,
    JUL_2019,
    rule,
)
from mailtls.analysis.rules.common import (
    NONE,
    SECURITY,
    SYS,
    documented,
    prompt_rule,
    who_at,
)

#: ``set_ssl_ekus``: an EKU extension must contain one of these to be usable for TLS.
TLS_COMPATIBLE_EKUS = frozenset({"serverAuth", "anyExtendedKeyUsage", "msSGC", "nsSGC"})


@rule(
    id="leaf_eku_compatible",
    title="Extended key usage not for TLS servers",
    checks="A leaf with an EKU extension must list serverAuth, anyExtendedKeyUsage, Microsoft SGC or Netscape SGC; every intermediate (not the root) with an EKU must list anyEKU or one of those. A leaf without EKU passes this check.",
    check_key="ExtendedKeyUsage",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1c leaf_eku_compatible; set_ssl_ekus ({SECURITY} OSX/sec/Security/SecPolicy.c), SecPolicyCheckExtendedKeyUsage",
    fix="Re-issue the certificate with extendedKeyUsage serverAuth.",
    **prompt_rule(),
)
def leaf_eku_compatible(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    last = len(ctx.nodes) - 1
    for position, node in enumerate(ctx.nodes):
        eku = node.cert.info.eku
        if eku is None or (position == last and position > 0 and node.cert.info.self_signed):
            continue
        if not TLS_COMPATIBLE_EKUS & set(eku):
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} is restricted to {', '.join(eku) or 'no usage'}, not TLS server authentication.",
                    {"eku": list(eku)},
                )
            )
    return hits


@rule(
    id="ios13_eku_serverauth",
    title="serverAuth missing from the extended key usage",
    checks="SYS: the leaf must list serverAuth explicitly (anyEKU alone fails) whatever its date, and each intermediate with an EKU must list serverAuth or anyEKU. NONE: a leaf with notBefore after 2019-06-30T23:00Z must list serverAuth. Skipped for chains anchored in the user store.",
    check_key="ServerAuthEKU",
    applies_to=(SYS, NONE),
    since="iOS 13",
    citation=f"ios-trust-rules.md §1c ios13_eku_serverauth and §1g; support.apple.com/103769; SecPolicyCheckServerAuthEKU ({SECURITY} trust/trustd/SecPolicyServer.c)",
    fix="Re-issue the certificate with extendedKeyUsage serverAuth.",
    **prompt_rule(),
)
def ios13_eku_serverauth(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    if not ctx.ios_at_least(13):
        return hits
    leaf = ctx.leaf.info
    if ctx.anchor is NONE and (leaf.not_before is None or leaf.not_before <= JUL_2019):
        return hits
    if leaf.eku is None or "serverAuth" not in leaf.eku:
        hits.append(
            Hit(
                0,
                "The server certificate does not list serverAuth in its extended key usage"
                + (
                    " (it has no EKU extension)."
                    if leaf.eku is None
                    else f" (it lists {', '.join(leaf.eku)})."
                ),
                {
                    "eku": list(leaf.eku) if leaf.eku is not None else None,
                    "not_before": leaf.not_before,
                    "after": JUL_2019,
                },
            )
        )
    if ctx.anchor is SYS:
        for position in range(1, len(ctx.nodes) - 1):
            eku = ctx.nodes[position].cert.info.eku
            if eku is not None and not {"serverAuth", "anyExtendedKeyUsage"} & set(eku):
                hits.append(
                    Hit(
                        position,
                        f"{who_at(ctx, position).capitalize()} restricts its EKU without serverAuth.",
                        {"eku": list(eku)},
                    )
                )
    return hits


documented(
    "leaf_key_usage_not_checked",
    "Leaf keyUsage is not checked",
    "The plain SSL policy adds no keyUsage requirement for the leaf.",
    "ios-trust-rules.md §1b leaf_key_usage_not_checked",
    "Nothing to evaluate: iOS does not check it.",
)
