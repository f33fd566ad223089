"""Chain and anchor (ios-trust-rules.md §1a, §1b): does the path end in a trusted root, and
may each CA on it issue what is below it (basic constraints, key usage, path length,
policies, critical extensions, key identifiers, subjects)."""

from __future__ import annotations

from mailtls.analysis import oids
from mailtls.analysis.context import Context, Hit
from mailtls.analysis.registry import (
    ALL_KINDS,
    Rule,
    register,
    rule,
)
from mailtls.analysis.rules.common import (
    MISSING_ISSUER,
    NONE,
    SECURITY,
    SYS,
    UNTRUSTED_ROOT,
    USR,
    USR_LEAF,
    documented,
    missing_issuer_fix,
    prompt_rule,
    who_at,
)
from mailtls.analysis.rules.store import store_end
from mailtls.model import ResultClass, Severity


@rule(
    id="chain_anchor_required",
    title="Chain does not end in a trusted root",
    checks="The built path must end in a trust anchor: a self-signed root that is not trusted fails AnchorTrusted, a path whose issuer cannot be found fails MissingIntermediate.",
    check_key="AnchorTrusted",
    applies_to=(NONE,),
    since="long-standing",
    citation=f"ios-trust-rules.md §1a chain_anchor_required; SecPolicyCheckBasicCertificateProcessing in {SECURITY} trust/trustd/SecPolicyServer.c",
    fix="Install the private root on the iPhones with full trust (mailtls profile ROOT.pem), have the server send the full chain if an intermediate is missing, or use a certificate from a public CA.",
    remedy="profile",
    **prompt_rule(),
)
def chain_anchor_required(ctx: Context) -> list[Hit]:
    if store_end(ctx) is not None:
        return []  # a root Apple's store knows: the store_root_* rules say what it is
    hits: list[Hit] = []
    last = len(ctx.nodes) - 1
    cert = ctx.nodes[last].cert
    if ctx.path.ending is UNTRUSTED_ROOT:
        installable = bool(cert.is_ca and cert.subject_cns)
        hits.append(
            Hit(
                last,
                f"The chain ends in {who_at(ctx, last)}, which is self-signed and not trusted by the iPhone.",
                {
                    "root_subject": cert.info.subject,
                    "root_sha256": cert.sha256,
                    "root_is_ca": cert.is_ca,
                },
                check_key="AnchorTrusted",
                remedy="profile" if installable else "reissue",
                fix=(
                    f"Install '{cert.info.subject_cn}' on the iPhone as a profile and enable full trust "
                    "(Settings > General > About > Certificate Trust Settings), or deploy it by MDM; "
                    "or use a certificate from a public CA."
                    if installable
                    else "Issue the server certificate from a private CA (CA:TRUE, with a CN) and install that CA "
                    "on the iPhone, or use a certificate from a public CA."
                ),
            )
        )
    elif ctx.path.ending is MISSING_ISSUER:
        urls = [u for u in cert.ca_issuer_urls if u.lower().startswith("http://")]
        download = (
            f" (the iPhone first tries to download it from {urls[0]}; only if that fails does Mail prompt)"
            if urls
            else ""
        )
        hits.append(
            Hit(
                last,
                f"The issuer of {who_at(ctx, last)} ('{cert.info.issuer}') was not sent by the server and is not a root the iPhone knows{download}.",
                {
                    "missing_issuer": cert.info.issuer,
                    "aki": cert.info.aki,
                    "ca_issuer_urls": list(cert.ca_issuer_urls),
                },
                check_key="MissingIntermediate",
                remedy="full_chain",
                fix=missing_issuer_fix(cert),
            )
        )
    return hits


@rule(
    id="ios_cts_ui_lists_ca_only",
    title="This root cannot be given full trust on an iPhone",
    checks="Certificate Trust Settings only offers a manually installed certificate with basicConstraints CA:TRUE (and, as reported, a subject CN); a self-signed non-CA leaf can never become a trusted root through the UI.",
    check_key=None,
    result_class=None,
    applies_to=(NONE, USR, USR_LEAF),
    since="iOS 10.3",
    citation="ios-trust-rules.md §1a ios_cts_ui_lists_ca_only; apple.stackexchange.com/questions/283348; github.com/FiloSottile/mkcert/issues/47",
    fix="Create a small private CA (CA:TRUE, with a CN), issue the server certificate from it, and install the CA as a profile; or use a public CA.",
    user_sees="The certificate does not appear under Settings > General > About > Certificate Trust Settings, so full trust cannot be enabled.",
    severity=Severity.WARNING,
    note="Confidence USR (reported by users); the missing-CN part is reported, not documented.",
)
def ios_cts_ui_lists_ca_only(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    installed = ctx.anchor in (USR, USR_LEAF)
    if not installed and ctx.path.ending is not UNTRUSTED_ROOT:
        return hits
    last = len(ctx.nodes) - 1
    root = ctx.nodes[last].cert
    problems = []
    if not root.is_ca:
        problems.append("it is not a CA certificate (no basicConstraints CA:TRUE)")
    if not root.subject_cns:
        problems.append("it has no subject CN")
    if not problems:
        return hits
    why = (
        f"{' and '.join(problems)}, so Certificate Trust Settings does not offer full trust for it"
    )
    if installed:
        hits.append(
            Hit(
                last,
                f"This works only where {who_at(ctx, last)} was installed by MDM or Apple Configurator: {why}.",
                {"root_is_ca": root.is_ca, "root_subject_cn": root.info.subject_cn},
                severity=Severity.INFO,
            )
        )
    else:
        hits.append(
            Hit(
                last,
                f"Installing {who_at(ctx, last)} as a profile would not help: {why}.",
                {"root_is_ca": root.is_ca, "root_subject_cn": root.info.subject_cn},
            )
        )
    return hits


@rule(
    id="profile_root_needs_full_trust",
    title="Works only where the private root is installed with full trust",
    checks="A root installed manually from a profile is not trusted for TLS until 'Enable full trust for root certificates' is switched on; roots installed by MDM or Apple Configurator are trusted automatically.",
    check_key=None,
    result_class=None,
    applies_to=(USR,),
    since="iOS 10.3",
    citation="ios-trust-rules.md §1a profile_root_needs_full_trust; support.apple.com/102390 [HT204477]",
    fix="On each iPhone: install the root's profile, then Settings > General > About > Certificate Trust Settings > enable full trust; or deploy it by MDM.",
    user_sees="Nothing, on iPhones that have the root installed with full trust; the 'Cannot Verify Server Identity' sheet on every other iPhone.",
    severity=Severity.INFO,
    remedy="profile",
)
def profile_root_needs_full_trust(ctx: Context) -> list[Hit]:
    last = len(ctx.nodes) - 1
    return [
        Hit(
            last,
            f"This works because {who_at(ctx, last)} is installed on the iPhone with full trust; iPhones without it will prompt.",
            {"root_subject": ctx.nodes[last].cert.info.subject},
        )
    ]


@rule(
    id="ca_basic_constraints",
    title="Issuing certificate is not marked as a CA",
    checks="Every issuing certificate of version 3 needs basicConstraints with cA=TRUE (missing: BasicConstraints; cA=FALSE: BasicConstraintsCA); a v1/v2 certificate may issue only if the anchor is v1/v2 too.",
    check_key="BasicConstraints",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b ca_basic_constraints; SecPVCParentCertificateChecks ({SECURITY} trust/trustd/SecPolicyServer.c)",
    fix="Re-create the CA certificate with basicConstraints CA:TRUE (critical) and re-issue what it signed.",
    **prompt_rule(),
)
def ca_basic_constraints(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    anchor_version = ctx.nodes[-1].cert.info.version
    for position in ctx.issuing_positions():
        info = ctx.nodes[position].cert.info
        if info.version < 3:
            if position != len(ctx.nodes) - 1 and anchor_version >= 3:
                hits.append(
                    Hit(
                        position,
                        f"{who_at(ctx, position).capitalize()} is a version {info.version} certificate, which cannot issue below a version 3 root.",
                        {"version": info.version, "anchor_version": anchor_version},
                        check_key="BasicConstraints",
                    )
                )
            continue
        if info.basic_constraints is None:
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} signs other certificates but has no basicConstraints extension.",
                    {"basic_constraints": None},
                    check_key="BasicConstraints",
                )
            )
        elif not info.basic_constraints.get("ca"):
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} signs other certificates but says CA:FALSE.",
                    {"basic_constraints": info.basic_constraints},
                    check_key="BasicConstraintsCA",
                )
            )
    return hits


@rule(
    id="ca_keycertsign",
    title="Issuing certificate may not sign certificates",
    checks="An issuing certificate that has a keyUsage extension must assert keyCertSign.",
    check_key="KeyUsage",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b ca_keycertsign; SecPVCParentCertificateChecks ({SECURITY} trust/trustd/SecPolicyServer.c)",
    fix="Re-create the CA certificate with keyUsage keyCertSign (and cRLSign).",
    **prompt_rule(),
)
def ca_keycertsign(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position in ctx.issuing_positions():
        usage = ctx.nodes[position].cert.info.key_usage
        if usage is not None and "keyCertSign" not in usage:
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} signs other certificates but its keyUsage lacks keyCertSign.",
                    {"key_usage": list(usage)},
                )
            )
    return hits


@rule(
    id="path_len",
    title="Path length constraint exceeded",
    checks="RFC 5280 pathLenConstraint: a CA with pathLen n may have at most n non-self-issued intermediates below it; a trusted anchor's own pathLen applies.",
    check_key="BasicConstraintsPathLen",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b path_len; SecPolicyCheckBasicCertificateProcessing ({SECURITY} trust/trustd/SecPolicyServer.c)",
    fix="Issue from a CA whose pathLenConstraint allows this depth, or shorten the chain.",
    **prompt_rule(),
)
def path_len(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position in ctx.issuing_positions():
        constraints = ctx.nodes[position].cert.info.basic_constraints
        limit = constraints.get("path_length") if constraints else None
        if limit is None:
            continue
        below = sum(1 for p in range(1, position) if not ctx.nodes[p].cert.self_issued)
        if below > limit:
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} allows {limit} intermediate(s) below it, but the path has {below}.",
                    {"path_length": limit, "intermediates_below": below},
                )
            )
    return hits


ANY_POLICY = "2.5.29.32.0"


@rule(
    id="policy_constraints",
    title="Certificate policies required but missing",
    checks="RFC 5280 §6.1 policy processing with any policy acceptable: when a CA requires an explicit policy (policyConstraints requireExplicitPolicy), every certificate below it must carry certificatePolicies that chain to a common policy; inhibitAnyPolicy limits anyPolicy.",
    check_key="PolicyConstraints",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b policy_constraints; SecCertificatePathVCVerifyPolicyTree in SecPolicyCheckBasicCertificateProcessing ({SECURITY} trust/trustd/SecPolicyServer.c); RFC 5280 §6.1.3-6.1.5",
    fix="Add certificatePolicies (e.g. the CA's policy OID or anyPolicy) to the certificates below the CA that requires an explicit policy, or drop that requirement from the CA.",
    note="Simplified: chains with policyMappings are not evaluated; the self-signed root is treated as the trust anchor (not processed), as RFC 5280 does.",
    **prompt_rule(),
)
def policy_constraints(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for node in ctx.nodes:
        if node.cert.require_explicit_policy is not None:
            break
    else:
        return hits  # no certificate asks for an explicit policy (almost every chain)
    positions = list(range(len(ctx.nodes) - 1, -1, -1))  # root side first
    if positions and ctx.nodes[positions[0]].cert.info.self_signed and len(positions) > 1:
        positions = positions[1:]  # the trust anchor is not part of RFC 5280's path
    certs = [ctx.nodes[p].cert for p in positions]
    if any(c.has_policy_mappings for c in certs) or not any(
        c.require_explicit_policy is not None for c in certs
    ):
        return hits
    n = len(certs)
    explicit = n + 1
    inhibit_any = n + 1
    valid: set[str] | None = {ANY_POLICY}  # None: the policy tree is empty (NULL)
    for i, (position, cert) in enumerate(zip(positions, certs, strict=True), start=1):
        if cert.certificate_policies is None or valid is None:
            valid = None
        else:
            asserted = set(cert.certificate_policies)
            any_ok = ANY_POLICY in asserted and (inhibit_any > 0 or (i < n and cert.self_issued))
            asserted.discard(ANY_POLICY)
            if ANY_POLICY in valid:
                new = asserted | ({ANY_POLICY} if any_ok else set())
            else:
                new = valid if any_ok else valid & asserted
            valid = new or None
        if i < n:
            if not cert.self_issued:
                explicit = max(explicit - 1, 0)
                inhibit_any = max(inhibit_any - 1, 0)
            if cert.require_explicit_policy is not None:
                explicit = min(explicit, cert.require_explicit_policy)
            if cert.inhibit_any_policy is not None:
                inhibit_any = min(inhibit_any, cert.inhibit_any_policy)
        else:
            explicit = max(explicit - 1, 0)
            if cert.require_explicit_policy == 0:
                explicit = 0
        if explicit == 0 and valid is None:
            hits.append(
                Hit(
                    position,
                    f"A CA requires an explicit certificate policy, and {who_at(ctx, position)} carries none that chains to it.",
                    {"certificate_policies": list(cert.certificate_policies or ())},
                )
            )
            return hits
    return hits


@rule(
    id="unknown_critical_extension",
    title="Critical extension iOS does not understand",
    checks="A critical extension outside the set iOS parses fails CriticalExtensions; a non-critical extension whose value cannot be parsed fails UnparseableExtension.",
    check_key="CriticalExtensions",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b unknown_critical_extension; SecCertificateInitializeExtensionParsers ({SECURITY} OSX/sec/Security/SecCertificate.c)",
    fix="Re-issue the certificate without the critical extension (or mark it non-critical).",
    **prompt_rule(),
)
def unknown_critical_extension(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position, node in enumerate(ctx.nodes):
        # Critical, outside oids.IOS_PARSED_EXTENSIONS and oids.APPLE_ARC (found when parsed).
        for ext in node.cert.unknown_critical:
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} has a critical extension iOS does not know ({ext.name}).",
                    {"oid": ext.oid, "name": ext.name},
                    check_key="CriticalExtensions",
                )
            )
        for oid in node.cert.unparseable_extensions:
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} has an extension whose value cannot be parsed ({oids.EXTENSION_NAMES.get(oid, oid)}).",
                    {"oid": oid},
                    check_key="UnparseableExtension",
                )
            )
    return hits


@rule(
    id="duplicate_extension",
    title="Extension present twice",
    checks="A certificate that carries the same extension OID more than once fails DuplicateExtension.",
    check_key="DuplicateExtension",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b unknown_critical_extension (DuplicateExtension); SecPolicyAddBasicCertOptions ({SECURITY} OSX/sec/Security/SecPolicy.c)",
    fix="Re-issue the certificate with each extension once.",
    **prompt_rule(),
)
def duplicate_extension(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position, node in enumerate(ctx.nodes):
        for ext in node.cert.repeated_extensions:  # second and later occurrences (parse time)
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} has the {ext.name} extension more than once.",
                    {"oid": ext.oid, "name": ext.name},
                )
            )
    return hits


@rule(
    id="id_linkage",
    title="Key identifiers do not link",
    checks="If the issuer has a SubjectKeyIdentifier and the child an AuthorityKeyIdentifier, they must be equal.",
    check_key="IdLinkage",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b id_linkage; SecPolicyCheckIdLinkage ({SECURITY} trust/trustd/SecPolicyServer.c)",
    fix="Re-issue the certificate from the CA certificate the server really uses (the authorityKeyIdentifier must equal the CA's subjectKeyIdentifier).",
    **prompt_rule(),
)
def id_linkage(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position in range(len(ctx.nodes) - 1):
        child = ctx.nodes[position].cert.info
        issuer = ctx.nodes[position + 1].cert.info
        if child.aki and issuer.ski and child.aki != issuer.ski:
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} names issuer key {child.aki}, but its issuer's key identifier is {issuer.ski}.",
                    {
                        "authority_key_identifier": child.aki,
                        "issuer_subject_key_identifier": issuer.ski,
                    },
                )
            )
    return hits


@rule(
    id="non_empty_subject",
    title="Empty subject",
    checks="CA certificates need a non-empty subject; a leaf with an empty subject needs a critical subjectAltName.",
    check_key="NonEmptySubject",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b non_empty_subject; SecPolicyCheckCertNonEmptySubject ({SECURITY} OSX/sec/Security/SecPolicyLeafCallbacks.c)",
    fix="Give the certificate a subject (e.g. CN=...), or mark the subjectAltName critical.",
    **prompt_rule(),
)
def non_empty_subject(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position, node in enumerate(ctx.nodes):
        cert = node.cert
        if not cert.subject_empty:
            continue
        if position > 0:
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} is a CA with an empty subject.",
                    {"subject": ""},
                )
            )
        else:
            san = cert.extension(oids.SUBJECT_ALT_NAME)
            if san is None or not san.critical:
                hits.append(
                    Hit(
                        0,
                        "The server certificate has an empty subject and no critical subjectAltName.",
                        {"subject": "", "san_critical": bool(san and san.critical)},
                    )
                )
    return hits


documented(
    "anchor_source_order",
    "Where iOS looks for roots and issuers",
    "Anchors: app anchors, Apple's own, the user trust store, the system store. Parents: the certificates the server sent, keychain items, then the network (AIA).",
    "ios-trust-rules.md §1a anchor_source_order; SecPathBuilderInit (trust/trustd/SecTrustServer.c)",
    "Built into mailtls' path builder (user store, then system store, then the presented certificates); a user 'Deny' cannot be expressed.",
)
documented(
    "aia_fetch",
    "iOS downloads a missing intermediate",
    "If an issuer is missing, trustd follows http caIssuers URLs (at most 3 fetches, none if >= 10 URLs).",
    "ios-trust-rules.md §1a aia_fetch; SecCAIssuerRequest.m",
    "mailtls does not fetch; analyze_chain(fetched=...) accepts certificates a caller downloaded, reported by chain_missing_intermediate.",
)
documented(
    "user_anchor_semantics",
    "What counts as an installed root",
    "A user-store certificate is an anchor if self-signed with empty constraints, or with TrustRoot/TrustAsRoot settings.",
    "ios-trust-rules.md §1a user_anchor_semantics; SecPVCIsAnchorPerConstraints",
    "mailtls treats every --ca-file certificate as installed with full trust (TrustRoot / TrustAsRoot).",
    applies_to=(USR, USR_LEAF),
)
documented(
    "self_signed_leaf_anchor",
    "A trusted self-signed server certificate",
    "A self-signed CA:FALSE server certificate in the user store is an anchor (USR-LEAF) and passes.",
    "ios-trust-rules.md §1a self_signed_leaf_anchor; testSHA2_trustSettingsSelfSigned",
    "Evaluated as the USR-LEAF anchor kind; reachable only by MDM/Configurator (see ios_cts_ui_lists_ca_only).",
    applies_to=(USR_LEAF,),
)
documented(
    "known_intermediates_only",
    "CA restricted to known intermediates",
    "For CAs flagged in Apple's Valid database, an undisclosed intermediate fails.",
    "ios-trust-rules.md §1a known_intermediates_only; SecPathBuilderCheckKnownIntermediateConstraints",
    "Not evaluated: needs Apple's Valid database.",
    applies_to=(SYS,),
)
documented(
    "leaf_may_be_ca",
    "A CA:TRUE server certificate is accepted",
    "The SSL server policy has no NotCA check.",
    "ios-trust-rules.md §1b leaf_may_be_ca",
    "Nothing to evaluate: iOS does not check it.",
)
register(
    Rule(
        id="certificate_unreadable",
        title="Certificate cannot be read",
        checks="Bytes in the chain that are not a certificate at all: the server's own certificate makes the connection fail; another one is left out of the chain.",
        check_key=None,
        result_class=ResultClass.FATAL,
        applies_to=ALL_KINDS,
        since="—",
        citation="RFC 5280 §4.1",
        fix="Check the certificate files for damaged or non-certificate blocks.",
        user_sees="Mail cannot connect (server certificate) or nothing (another certificate).",
        severity=Severity.FATAL,
        note="Decided before path building; certificates that only a strict DER parser rejects are read leniently and analysed normally.",
    )
)
