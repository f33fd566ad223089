"""The iOS trust rules, one small function each, with their metadata (ios-trust-rules.md §1).

Thresholds and dates live in the tables at the top; each check returns a list of :class:`Hit`
values with the path position of the certificate that failed and the evidence that decided it
(a list rather than a generator: some 30 checks run for every analysis, almost all finding
nothing, and making and draining a generator costs about three plain calls). The engine
(:mod:`mailtls.analysis.engine`) runs a rule only for the anchor kinds in its ``applies_to``.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

from mailtls.analysis import ctlogs, oids
from mailtls.analysis.certs import NameConstraints, ParsedCertificate
from mailtls.analysis.names import dns_match
from mailtls.analysis.path import Ending, Source
from mailtls.analysis.registry import (
    ALL_KINDS,
    APR_2021,
    DEC_2016,
    JUL_2019,
    MAR_2018,
    NO_TRUST_BUTTON,
    OCT_2018,
    PROMPT_SHEET,
    SEP_2020,
    Context,
    Hit,
    Rule,
    register,
    rule,
)
from mailtls.analysis.storerules import store_end
from mailtls.model import AnchorKind, Category, ResultClass, Severity
from mailtls.records import record

SYS, USR, USR_LEAF, NONE = AnchorKind.SYS, AnchorKind.USR, AnchorKind.USR_LEAF, AnchorKind.NONE
R, F = ResultClass.RECOVERABLE, ResultClass.FATAL
#: Module globals, read by the checks (an enum member lookup is slow in Python 3.11).
UNTRUSTED_ROOT, MISSING_ISSUER, FETCHED = (
    Ending.UNTRUSTED_ROOT,
    Ending.MISSING_ISSUER,
    Source.FETCHED,
)
SECURITY = "apple-oss-distributions/Security"

# --------------------------------------------------------------------------- thresholds

#: ``SecCertificateIsWeakKey``: below these sizes (bits) a key is fatal; algorithms not
#: listed at all are fatal too (MIN_RSA_KEY_SIZE 128 bytes, MIN_EC_KEY_SIZE 20 bytes).
FATAL_MIN_KEY_BITS: dict[str, int] = {"RSA": 1024, "EC": 160, "Ed25519": 0, "Ed448": 0}
#: ``SecPolicyAddStrongKeySizeOptions``: only RSA and EC have entries; anything else fails.
IOS13_MIN_KEY_BITS: dict[str, int] = {"RSA": 2048, "EC": 256}
FATAL_HASHES = frozenset({"md2", "md4", "md5"})
IOS13_WEAK_HASHES = frozenset({"md2", "md4", "md5", "sha1"})
#: ``set_ssl_ekus``: an EKU extension must contain one of these to be usable for TLS.
TLS_COMPATIBLE_EKUS = frozenset({"serverAuth", "anyExtendedKeyUsage", "msSGC", "nsSGC"})
EXPIRY_WARNING = timedelta(days=30)
SLIP = 3600  # the hour of slack Apple adds to 825 days


@record
class ValidityLimit:
    """A maximum lifetime for leaves issued on or after ``issued_from``."""

    rule_id: str
    issued_from: datetime
    max_seconds: int
    min_ios: int
    #: Up to this iOS major the code compared notBefore *>* the date (older Security tags).
    strict_after_below_ios: int | None = None


VALIDITY_LIMITS: tuple[ValidityLimit, ...] = (
    ValidityLimit(
        "validity_max_other", JUL_2019, 825 * 86400 + SLIP, 13, strict_after_below_ios=16
    ),
    ValidityLimit("validity_max_system", MAR_2018, 825 * 86400 + SLIP, 13),
    ValidityLimit("validity_max_system", SEP_2020, 398 * 86400, 14),
)

#: CT policy (``verify_embedded_sct_policy_v1``/``_v2``): embedded SCTs needed by lifetime.
CT_V1_BY_MONTHS: tuple[tuple[int | None, int], ...] = ((14, 2), (27, 3), (39, 4), (None, 5))
CT_V2_BY_DAYS: tuple[tuple[int | None, int], ...] = ((180, 2), (825, 3), (None, 4))

#: Distrusted roots with a date cut-off: SHA-256 of the root -> (name, certificates issued
#: on/after this date fail), the seven constants of ``SecPVCCheckIssuerDateConstraints``
#: (apple-oss-distributions/Security trust/trustd/SecPolicyServer.c), named by its constants.
WOSIGN_STARTCOM_CUTOFF = DEC_2016
DISTRUSTED_ROOTS: dict[str, tuple[str, datetime]] = {
    "d487a56f83b07482e85e963394c1ecc2c9e51d0903ee946b02c301581ed99e16": (
        "a WoSign root (kWS_CA1_G2)",
        DEC_2016,
    ),
    "4b22d5a6aec99f3cdb79aa5ec06838479cd5ecba7164f7f22dc1d65f63d85708": (
        "a WoSign root (kWS_CA1_NEW)",
        DEC_2016,
    ),
    "d6f034bd94aa233f0297eca4245b283973e447aa590f310c77f48fdf83112254": (
        "a WoSign root (kWS_CA2_NEW)",
        DEC_2016,
    ),
    "8b45da1c06f791eb0cabf26be588f5fb23165c2e614bf885562d0dce50b29b02": (
        "a WoSign root (kWS_ECC)",
        DEC_2016,
    ),
    "c766a9bef2d4071c863a31aa4920e813b2d198608cb7b7cfe21143b836df09ea": (
        "a StartCom root (kSC_SFSCA)",
        DEC_2016,
    ),
    "e17890ee09a3fbf4f48b9c414a17d637b7a50647e9bc752322727fcc1742a911": (
        "a StartCom root (kSC_SHA2)",
        DEC_2016,
    ),
    "c7ba6567de93a798ae1faa791e712d378fae1f93c4397fea441bb7cbe6fd5995": (
        "a StartCom root (kSC_G2)",
        DEC_2016,
    ),
}
#: OTA blocklist (``SecPVCBlackListedKeyChecks``): SHA-256 of a certificate or of its
#: SubjectPublicKeyInfo -> (name, Apple check key, result class).
BLOCKED: dict[str, tuple[str, str, ResultClass]] = {}


def _who(ctx: Context, position: int) -> str:
    node = ctx.nodes[position]
    info = node.cert.info
    name = info.subject_cn or info.subject or "(empty subject)"
    if position == 0:
        return f"the server certificate '{name}'"
    if position == len(ctx.nodes) - 1 and info.self_signed:
        return f"the root '{name}'"
    return f"the intermediate '{name}'"


def _key_id(hex_id: str | None) -> str:
    """A key identifier as openssl prints it (``AB:CD:...``), or ""."""
    return ":".join(hex_id[i : i + 2] for i in range(0, len(hex_id), 2)).upper() if hex_id else ""


def _missing_issuer(cert: ParsedCertificate) -> str:
    """The issuer a path could not find: its subject DN and, if known, its key id."""
    key_id = _key_id(cert.info.aki)
    return f"'{cert.info.issuer}'" + (f", key id {key_id}" if key_id else "")


def _missing_issuer_fix(cert: ParsedCertificate, *, detail: bool = False) -> str:
    """Both fixes: a missing issuer may be a private root (never sent) or an intermediate."""
    name = cert.issuer_cn or cert.info.issuer
    if not detail:
        return (
            f"If '{name}' is your private root, install it on the iPhones (mailtls profile ROOT.pem; "
            "or check with --ca-file ROOT.pem); if it is an intermediate, configure the server "
            "to send it (full chain)."
        )
    return (
        f"mailtls cannot tell whether '{name}' is a root or an intermediate. If it is your "
        "private root, install it on the iPhones (mailtls profile ROOT.pem makes the profile; "
        "or check with --ca-file ROOT.pem first): servers need not send roots. If it is an "
        "intermediate, configure the server to send it (the full chain: server certificate "
        "followed by the intermediate(s)), e.g. Dovecot ssl_cert = <fullchain.pem, Postfix "
        "smtpd_tls_chain_files."
    )


def _prompt(**kw: object) -> dict[str, object]:
    return {"result_class": R, "user_sees": PROMPT_SHEET, **kw}


# --------------------------------------------------------------------------- §1a chain


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
    **_prompt(),
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
                f"The chain ends in {_who(ctx, last)}, which is self-signed and not trusted by the iPhone.",
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
                f"The issuer of {_who(ctx, last)} ('{cert.info.issuer}') was not sent by the server and is not a root the iPhone knows{download}.",
                {
                    "missing_issuer": cert.info.issuer,
                    "aki": cert.info.aki,
                    "ca_issuer_urls": list(cert.ca_issuer_urls),
                },
                check_key="MissingIntermediate",
                remedy="full_chain",
                fix=_missing_issuer_fix(cert),
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
                f"This works only where {_who(ctx, last)} was installed by MDM or Apple Configurator: {why}.",
                {"root_is_ca": root.is_ca, "root_subject_cn": root.info.subject_cn},
                severity=Severity.INFO,
            )
        )
    else:
        hits.append(
            Hit(
                last,
                f"Installing {_who(ctx, last)} as a profile would not help: {why}.",
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
            f"This works because {_who(ctx, last)} is installed on the iPhone with full trust; iPhones without it will prompt.",
            {"root_subject": ctx.nodes[last].cert.info.subject},
        )
    ]


# --------------------------------------------------------------------------- §1b structure


@rule(
    id="temporal_validity",
    title="Certificate expired or not yet valid",
    checks="Every certificate of the path, the trusted root included, must satisfy notBefore <= evaluation time <= notAfter (both inclusive).",
    check_key="TemporalValidity",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b temporal_validity; SecCertificateIsValid ({SECURITY} OSX/sec/Security/SecCertificate.c), SecPolicyCheckTemporalValidity",
    fix="Renew the certificate (and make sure the server actually loads the renewed file).",
    **_prompt(),
)
def temporal_validity(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position, node in enumerate(ctx.nodes):
        info = node.cert.info
        if info.not_before is None or info.not_after is None:
            continue
        if ctx.at > info.not_after:
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} expired on {info.not_after:%Y-%m-%d %H:%M} UTC.",
                    {"not_after": info.not_after, "evaluated_at": ctx.at},
                )
            )
        elif ctx.at < info.not_before:
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} is not valid before {info.not_before:%Y-%m-%d %H:%M} UTC.",
                    {"not_before": info.not_before, "evaluated_at": ctx.at},
                )
            )
    return hits


@rule(
    id="ca_basic_constraints",
    title="Issuing certificate is not marked as a CA",
    checks="Every issuing certificate of version 3 needs basicConstraints with cA=TRUE (missing: BasicConstraints; cA=FALSE: BasicConstraintsCA); a v1/v2 certificate may issue only if the anchor is v1/v2 too.",
    check_key="BasicConstraints",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b ca_basic_constraints; SecPVCParentCertificateChecks ({SECURITY} trust/trustd/SecPolicyServer.c)",
    fix="Re-create the CA certificate with basicConstraints CA:TRUE (critical) and re-issue what it signed.",
    **_prompt(),
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
                        f"{_who(ctx, position).capitalize()} is a version {info.version} certificate, which cannot issue below a version 3 root.",
                        {"version": info.version, "anchor_version": anchor_version},
                        check_key="BasicConstraints",
                    )
                )
            continue
        if info.basic_constraints is None:
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} signs other certificates but has no basicConstraints extension.",
                    {"basic_constraints": None},
                    check_key="BasicConstraints",
                )
            )
        elif not info.basic_constraints.get("ca"):
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} signs other certificates but says CA:FALSE.",
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
    **_prompt(),
)
def ca_keycertsign(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position in ctx.issuing_positions():
        usage = ctx.nodes[position].cert.info.key_usage
        if usage is not None and "keyCertSign" not in usage:
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} signs other certificates but its keyUsage lacks keyCertSign.",
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
    **_prompt(),
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
                    f"{_who(ctx, position).capitalize()} allows {limit} intermediate(s) below it, but the path has {below}.",
                    {"path_length": limit, "intermediates_below": below},
                )
            )
    return hits


def _dns_within(name: str, subtree: str) -> bool:
    """``SecDNSNameConstraintsMatch`` (nameconstraints.c): a plain suffix test on the text.

    Nothing is normalised first: a trailing dot on either side, a space or an empty label is
    compared as written, and a wildcard SAN is the literal string "*.example.com" (so the
    excluded subtree "bar.example.com", longer than it, never matches it).
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
    checks="Permitted/excluded dNSName, iPAddress and rfc822Name subtrees of intermediates (and of the anchor when it is trusted) applied to the SAN names of the certificates below, self-issued intermediates skipped; per name form present in the subtrees every SAN entry of that form must match one permitted subtree and none excluded; an unsupported name form in a critical nameConstraints extension fails.",
    check_key="NameConstraints",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b name_constraints; SecPolicyCheckBasicCertificateProcessing ({SECURITY} trust/trustd/SecPolicyServer.c); SecNameContraintsMatchSubtrees, SecDNSNameConstraintsMatch, SecRFC822NameMatch, nc_compare_IPAddresses ({SECURITY} trust/trustd/nameconstraints.c); parseGeneralSubtrees ({SECURITY} OSX/sec/Security/SecCertificate.c)",
    fix="Issue the server certificate for names the CA is permitted to certify, or widen the CA's nameConstraints.",
    note=(
        "Follows Apple's code where RFC 5280 is silent or differs (nameconstraints.c at apple-open-source/macos 0d740082): "
        "names are compared as written (no trailing-dot or case folding beyond ASCII case; a wildcard SAN is literal text, "
        "so '*.example.com' under an excluded 'bar.example.com' passes and the leaf is trusted for bar.example.com); "
        "a malformed SAN entry is compared like any other (an iPAddress of the wrong length or an rfc822Name without '@' "
        "matches no subtree, so it fails a permitted subtree of its form and escapes an excluded one); "
        "an iPAddress subtree of the wrong length, or of the other address family, still makes the form present and matches nothing; "
        "a subtree with minimum != 0 or a maximum makes the extension unparseable (parseGeneralSubtrees: UnparseableExtension, "
        "the constraints are not applied); self-issued intermediates are skipped as RFC 5280 6.1.3 says "
        "(the `!is_self_issued || i == n` test in SecPolicyCheckBasicCertificateProcessing). "
        "Not evaluated: directoryName and URI subtrees, the subject's emailAddress, and Apple's union of permitted subtrees "
        "across CAs (SecNameConstraintsIntersectSubtrees appends where RFC 5280 intersects)."
    ),
    **_prompt(),
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
                    f"{_who(ctx, position).capitalize()} has a critical nameConstraints extension with a name form iOS cannot evaluate.",
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
    who, ca = _who(ctx, below), _who(ctx, position)
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
    **_prompt(),
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
                    f"A CA requires an explicit certificate policy, and {_who(ctx, position)} carries none that chains to it.",
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
    **_prompt(),
)
def unknown_critical_extension(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position, node in enumerate(ctx.nodes):
        # Critical, outside oids.IOS_PARSED_EXTENSIONS and oids.APPLE_ARC (found when parsed).
        for ext in node.cert.unknown_critical:
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} has a critical extension iOS does not know ({ext.name}).",
                    {"oid": ext.oid, "name": ext.name},
                    check_key="CriticalExtensions",
                )
            )
        for oid in node.cert.unparseable_extensions:
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} has an extension whose value cannot be parsed ({oids.EXTENSION_NAMES.get(oid, oid)}).",
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
    **_prompt(),
)
def duplicate_extension(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position, node in enumerate(ctx.nodes):
        for ext in node.cert.repeated_extensions:  # second and later occurrences (parse time)
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} has the {ext.name} extension more than once.",
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
    **_prompt(),
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
                    f"{_who(ctx, position).capitalize()} names issuer key {child.aki}, but its issuer's key identifier is {issuer.ski}.",
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
    **_prompt(),
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
                    f"{_who(ctx, position).capitalize()} is a CA with an empty subject.",
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


def _key_hits(
    ctx: Context, table: dict[str, int], what: str, check_key: str | None = None
) -> list[Hit]:
    """Hits for keys below ``table``'s minimum (a list: two rules ask on every analysis)."""
    hits = []
    for position, node in enumerate(ctx.nodes):
        info = node.cert.info
        minimum = table.get(info.key_type)
        if minimum is None:
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} has a {info.key_type} key, which iOS does not accept {what}.",
                    {
                        "key_type": info.key_type,
                        "key_size": info.key_size,
                        "accepted": sorted(table),
                    },
                    check_key=check_key,
                )
            )
        elif info.key_size is not None and info.key_size < minimum:
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} has a {info.key_size}-bit {info.key_type} key; iOS needs at least {minimum} bits {what}.",
                    {"key_type": info.key_type, "key_size": info.key_size, "minimum": minimum},
                    check_key=check_key,
                )
            )
    return hits


@rule(
    id="weak_key_fatal",
    title="Key far too weak",
    checks="Any certificate of the path, root included: RSA < 1024 bits, EC < 160 bits, or a key algorithm other than RSA/ECDSA/Ed25519/Ed448 fails WeakKeySize, which is fatal.",
    check_key="WeakKeySize",
    result_class=F,
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b weak_key_fatal; SecCertificateIsWeakKey ({SECURITY} OSX/sec/Security/SecCertificate.c), SecPolicyCheckWeakKeySize",
    fix="Re-issue with an RSA-2048 (or larger) or ECDSA P-256 key, for every certificate of the chain.",
    user_sees=NO_TRUST_BUTTON,
    severity=Severity.FATAL,
)
def weak_key_fatal(ctx: Context) -> list[Hit]:
    return _key_hits(ctx, FATAL_MIN_KEY_BITS, "at all")


@rule(
    id="weak_signature_fatal",
    title="MD5/MD4/MD2 signature",
    checks="Any non-self-signed certificate signed with MD2, MD4 or MD5 fails WeakSignature, which is fatal.",
    check_key="WeakSignature",
    result_class=F,
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b weak_signature_fatal; SecPolicyCheckCertWeakSignature ({SECURITY} OSX/sec/Security/SecPolicyLeafCallbacks.c)",
    fix="Re-issue the certificate with a SHA-256 signature.",
    user_sees=NO_TRUST_BUTTON,
    severity=Severity.FATAL,
)
def weak_signature_fatal(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position, node in enumerate(ctx.nodes):
        info = node.cert.info
        if not info.self_signed and info.signature_hash in FATAL_HASHES:
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} is signed with {info.signature_hash.upper()}, which iOS refuses outright.",
                    {"signature_algorithm": info.signature_algorithm},
                )
            )
    return hits


# --------------------------------------------------------------------------- §1c iOS 13


def _ios13_scope(ctx: Context) -> bool:
    """Before iOS 13 the key-size and hash rules existed only for system-trusted chains."""
    return ctx.ios_at_least(13) or ctx.anchor is SYS


@rule(
    id="ios13_key_size",
    title="Key too small for iOS 13 and later",
    checks="Every certificate of the path, root included: RSA >= 2048 bits, EC >= 256 bits; other key types (Ed25519, Ed448, DSA) fail. Skipped only when the leaf itself is the trusted anchor.",
    check_key="KeySize",
    applies_to=(SYS, USR, NONE),
    since="iOS 13 (before: system-trusted chains only)",
    citation=f"ios-trust-rules.md §1c ios13_key_size; support.apple.com/103769; SecPolicyAddStrongKeySizeOptions ({SECURITY} OSX/sec/Security/SecPolicy.c)",
    fix="Re-issue with RSA-2048 or larger, or ECDSA P-256 or larger, for every certificate including the root.",
    **_prompt(),
)
def ios13_key_size(ctx: Context) -> list[Hit]:
    if not _ios13_scope(ctx):
        return []
    # Before iOS 13 the same test existed for system-trusted chains as SystemTrustedWeakKey.
    legacy = None if ctx.ios_at_least(13) else "SystemTrustedWeakKey"
    return _key_hits(ctx, IOS13_MIN_KEY_BITS, "for TLS", legacy)


@rule(
    id="ios13_sha2",
    title="SHA-1 (or weaker) signature",
    checks="Every non-self-signed certificate of the path signed with MD2/MD4/MD5/SHA-1 fails; self-signed certificates are never checked; a non-self-signed certificate that is itself the user anchor is skipped.",
    check_key="SignatureHashAlgorithms",
    applies_to=ALL_KINDS,
    since="iOS 13 (before: system-trusted chains only)",
    citation=f"ios-trust-rules.md §1c ios13_sha2; support.apple.com/103769; SecPolicyCheckSignatureHashAlgorithms ({SECURITY} trust/trustd/SecPolicyServer.c)",
    fix="Re-issue the certificate (and any intermediate) with a SHA-256 signature.",
    **_prompt(),
)
def ios13_sha2(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    if not _ios13_scope(ctx):
        return hits
    for position, node in enumerate(ctx.nodes):
        info = node.cert.info
        if info.self_signed or info.signature_hash not in IOS13_WEAK_HASHES:
            continue
        if ctx.anchor in (USR, USR_LEAF) and ctx.is_anchor_position(position):
            continue
        hits.append(
            Hit(
                position,
                f"{_who(ctx, position).capitalize()} is signed with {info.signature_hash.upper()}; iOS needs SHA-256 or better.",
                {"signature_algorithm": info.signature_algorithm},
                check_key=None if ctx.ios_at_least(13) else "SystemTrustedWeakHash",
            )
        )
    return hits


_HOSTNAME_COMMON = {
    "check_key": "SSLHostname",
    "applies_to": ALL_KINDS,
    "fix": "Re-issue the certificate with the exact host name configured in Mail (for incoming and outgoing server) as a subjectAltName DNS entry, or an IP address as a subjectAltName IP entry.",
    **_prompt(),
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


@rule(
    id="leaf_eku_compatible",
    title="Extended key usage not for TLS servers",
    checks="A leaf with an EKU extension must list serverAuth, anyExtendedKeyUsage, Microsoft SGC or Netscape SGC; every intermediate (not the root) with an EKU must list anyEKU or one of those. A leaf without EKU passes this check.",
    check_key="ExtendedKeyUsage",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1c leaf_eku_compatible; set_ssl_ekus ({SECURITY} OSX/sec/Security/SecPolicy.c), SecPolicyCheckExtendedKeyUsage",
    fix="Re-issue the certificate with extendedKeyUsage serverAuth.",
    **_prompt(),
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
                    f"{_who(ctx, position).capitalize()} is restricted to {', '.join(eku) or 'no usage'}, not TLS server authentication.",
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
    **_prompt(),
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
                        f"{_who(ctx, position).capitalize()} restricts its EKU without serverAuth.",
                        {"eku": list(eku)},
                    )
                )
    return hits


def _validity_hit(ctx: Context, limit: ValidityLimit) -> Hit | None:
    leaf = ctx.leaf.info
    if leaf.not_before is None or leaf.not_after is None:
        return None
    strict = limit.strict_after_below_ios is not None and not ctx.ios_at_least(
        limit.strict_after_below_ios
    )
    issued_in_scope = (
        leaf.not_before > limit.issued_from if strict else leaf.not_before >= limit.issued_from
    )
    if not issued_in_scope:
        return None
    lifetime = (leaf.not_after - leaf.not_before).total_seconds()
    if lifetime <= limit.max_seconds:
        return None
    return Hit(
        0,
        f"The server certificate is valid for {lifetime / 86400:.1f} days; iOS allows at most {limit.max_seconds / 86400:g} days"
        + (" (plus one hour)" if limit.max_seconds % 86400 == SLIP else "")
        + f" for certificates issued from {limit.issued_from:%Y-%m-%d %H:%M} UTC.",
        {
            "lifetime_seconds": lifetime,
            "max_seconds": limit.max_seconds,
            "not_before": leaf.not_before,
            "not_after": leaf.not_after,
            "issued_from": limit.issued_from,
            "comparison": "notBefore > date" if strict else "notBefore >= date",
        },
    )


def _limits(rule_id: str, ctx: Context) -> list[ValidityLimit]:
    return [v for v in VALIDITY_LIMITS if v.rule_id == rule_id and ctx.ios_at_least(v.min_ios)]


@rule(
    id="validity_max_other",
    title="Certificate lifetime over 825 days",
    checks="A leaf with notBefore >= 2019-06-30T23:00Z (before iOS 16: >) may be valid for at most 825 days + 3600 s (notAfter - notBefore). Applies to every chain except when the leaf itself is the trusted anchor.",
    check_key="OtherTrustValidityPeriod",
    applies_to=(SYS, USR, NONE),
    since="iOS 13",
    citation=f"ios-trust-rules.md §1c validity_max_other; support.apple.com/103769; set_ssl_validity_periods ({SECURITY} OSX/sec/Security/SecPolicy.c), SecPolicyCheckOtherTrustValidityPeriod",
    fix="Re-issue the certificate with a lifetime of at most 825 days (private CA) — 397 days is a safe choice everywhere.",
    note="The switch from notBefore > to >= is placed at iOS 16: Security-60157 (iOS 15.4, 2022-02) has >, Security-60420 (iOS 16.2, 2022-11) has >=.",
    **_prompt(),
)
def validity_max_other(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for limit in _limits("validity_max_other", ctx):
        if (hit := _validity_hit(ctx, limit)) is not None:
            hits.append(hit)
    return hits


@rule(
    id="validity_max_system",
    title="Certificate lifetime too long for a public CA",
    checks="Only when the root is a system root: notBefore >= 2018-03-01 -> at most 825 days + 3600 s; notBefore >= 2020-09-01 -> at most 398 days (34,387,200 s, no slip), from iOS 14.",
    check_key="SystemTrustValidityPeriod",
    applies_to=(SYS,),
    since="825 d: iOS 13; 398 d: iOS 14, certificates issued from 2020-09-01",
    citation=f"ios-trust-rules.md §1c validity_max_system; support.apple.com/102028 [HT211025]; SecPolicyCheckSystemTrustValidityPeriod ({SECURITY} trust/trustd/SecPolicyServer.c)",
    fix="Have the CA re-issue the certificate with a lifetime of at most 398 days (Apple recommends 397).",
    **_prompt(),
)
def validity_max_system(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    leaf = ctx.leaf.info
    limits = [
        v
        for v in _limits("validity_max_system", ctx)
        if leaf.not_before and leaf.not_before >= v.issued_from
    ]
    if limits:
        tightest = max(limits, key=lambda v: v.issued_from)
        if (hit := _validity_hit(ctx, tightest)) is not None:
            hits.append(hit)
    return hits


# --------------------------------------------------------------------------- §1d CT


def _months_between(start: datetime, end: datetime) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def required_embedded_scts(not_before: datetime, not_after: datetime) -> int:
    """How many embedded SCTs Apple's CT policy wants for this lifetime (``ct_policy_counts``)."""
    if not_before < APR_2021:
        months = _months_between(not_before, not_after)
        for limit, count in CT_V1_BY_MONTHS:
            if limit is None or months <= limit:
                return count
    days = (not_after - not_before).total_seconds() / 86400
    for limit, count in CT_V2_BY_DAYS:
        if limit is None or days <= limit:
            return count
    return CT_V2_BY_DAYS[-1][1]


@rule(
    id="ct_required_system",
    title="Certificate Transparency: too few SCTs",
    checks="For a chain anchored at a (non-Apple) system root and a currently valid leaf with notBefore >= 2018-10-16, iOS requires CT qualification. mailtls counts the SCTs embedded in the leaf (distinct logs) against the number Apple's policy asks for by lifetime; fewer fails. With Apple's CT log list (Apple's trust store), an SCT counts only as trustd's getSCTValidatingLog and verify_tls_ct_policy decide: version 1, not dated after the check, its log in the list and not pending or rejected, not dated after a read-only log froze, the leaf's notAfter inside the log's temporal interval, its signature verified with the log's key over the precertificate entry, one SCT per log, at least one from a log that is not retired, and a retired log's SCT counting only if it and the issuance time are before the retirement; log operators are not counted. Without a log list (a PEM store, certifi) SCT signatures and logs are not checked. SCTs sent in the TLS handshake or an OCSP staple are not visible to mailtls.",
    check_key="SystemTrustedCTRequired",
    result_class=R,
    applies_to=(SYS,),
    since="certificates issued from 2018-10-16 (iOS 12.1.1)",
    citation=f"ios-trust-rules.md §1d ct_required_system and ct_policy_counts; support.apple.com/103214; SecPolicyCheckSystemTrustedCTRequired ({SECURITY} trust/trustd/SecPolicyServer.c), getSCTValidatingLog, isSCTValidForLogData, find_validating_logs, verify_tls_ct_policy, verify_embedded_sct_policy_v1/_v2 ({SECURITY} trust/trustd/CertificateTransparency.m); BuildTrustedCTLogsList.py (security_certificates)",
    fix="Use a certificate from a public CA that embeds SCTs (every public CA does today), or have the CA re-issue it with SCTs. If the root was given with --system-roots but is really your own private root, it is not preinstalled on iPhones: install it as a profile (mailtls profile ROOT.pem) and check with --ca-file ROOT.pem, where Certificate Transparency does not apply.",
    user_sees="The 'Cannot Verify Server Identity' sheet (Certificate Transparency validation required for this use).",
    severity=Severity.ERROR,
    remedy="public_ca",
    note="Counts embedded SCTs only: SCTs delivered in the TLS handshake or an OCSP staple are not seen, so a server that staples them could pass on an iPhone. SCT signatures and Apple's log list are checked only when the system store carries Apple's log_list.json; the CT kill switch, the 60-day staleness of the device's list and CT exceptions set by MDM are not modelled.",
)
def ct_required_system(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    leaf = ctx.leaf
    info = leaf.info
    if not ctx.ios_at_least(12) or info.not_before is None or info.not_after is None:
        return hits
    if info.not_before < OCT_2018 or not info.not_before <= ctx.at <= info.not_after:
        return hits
    required = required_embedded_scts(info.not_before, info.not_after)
    # an SCT of an unknown version has no readable log id ("") and counts for no log
    distinct_logs = len({log_id for log_id, _ in leaf.scts if log_id})
    log_list = ctx.system.ct_log_list if ctx.system is not None else None
    if log_list is not None:
        return _ct_with_log_list(ctx, ctlogs.log_list_for(log_list), required, distinct_logs)
    evidence = {
        "embedded_scts": leaf.sct_count,
        "distinct_logs": distinct_logs,
        "required_embedded_scts": required,
        "sct_logs": [{"log_id": log_id, "timestamp": when} for log_id, when in leaf.scts],
        "verified": False,
    }
    if distinct_logs >= required:
        hits.append(
            Hit(
                0,
                f"The certificate embeds SCTs from {distinct_logs} log(s); Apple's policy asks for {required} (SCT signatures and Apple's log list were not checked).",
                evidence,
                severity=Severity.INFO,
                clear_result_class=True,
            )
        )
        return hits
    hits.append(
        Hit(
            0,
            f"The certificate embeds SCTs from {distinct_logs} Certificate Transparency log(s), but under a preinstalled (system) root Apple's policy asks for {required} for its lifetime, so the iPhone does not trust it unless SCTs come in the TLS handshake or an OCSP staple, which mailtls cannot see.",
            evidence,
        )
    )
    return hits


def _ct_with_log_list(
    ctx: Context, logs: ctlogs.LogList, required: int, distinct_logs: int
) -> list[Hit]:
    """ct_required_system when the system store carries Apple's CT log list."""
    leaf, info = ctx.leaf, ctx.leaf.info
    assert info.not_after is not None
    issuer = ctx.nodes[1].cert if len(ctx.nodes) > 1 else None
    result = ctlogs.evaluate_embedded_scts(leaf, issuer, logs, ctx.at, info.not_after)
    not_counted: dict[str, int] = {}
    for v in result.scts:
        if not v.counted:
            not_counted[v.reason] = not_counted.get(v.reason, 0) + 1
    evidence = {
        "embedded_scts": leaf.sct_count,
        "distinct_logs": distinct_logs,
        "required_embedded_scts": required,
        "counted_scts": result.counted_logs,
        "sct_logs": [
            {
                "log_id": v.log_id,
                "timestamp": v.timestamp,
                "counted": v.counted,
                "reason": v.reason,
                "detail": v.detail,
                "log": v.log.description if v.log else None,
                "operator": v.log.operator if v.log else None,
                "log_state": v.log.state if v.log else None,
            }
            for v in result.scts
        ],
        "not_counted": not_counted,
        "issuance_time": result.issuance_time,
        "log_list": {
            "source": "Apple log_list.json",
            "version": logs.version,
            "logs": len(logs.logs),
        },
        "verified": True,
    }
    version = f" (version {logs.version})" if logs.version else ""
    why = "; ".join(
        f"{n} because {ctlogs.REASONS[reason]}" for reason, n in sorted(not_counted.items())
    )
    left_out = f" {sum(not_counted.values())} did not count: {why}." if not_counted else ""
    counted = result.counted_logs
    if counted >= required:
        return [
            Hit(
                0,
                f"{counted} of the certificate's {leaf.sct_count} embedded SCT(s) count under Apple's CT log list{version}, signatures verified; Apple's policy asks for {required}.{left_out}",
                evidence,
                severity=Severity.INFO,
                clear_result_class=True,
            )
        ]
    return [
        Hit(
            0,
            f"Of the certificate's {leaf.sct_count} embedded SCT(s), {counted} count under Apple's CT log list{version}, but under a preinstalled (system) root Apple's policy asks for {required} for its lifetime, so the iPhone does not trust it unless SCTs come in the TLS handshake or an OCSP staple, which mailtls cannot see.{left_out}",
            evidence,
        )
    ]


# --------------------------------------------------------------------------- §1e distrust


@rule(
    id="distrust_wosign_startcom",
    title="Issued by a distrusted CA after its cut-off date",
    checks="A chain containing one of the distrusted roots (data table by SHA-256) with any certificate below it issued on or after the cut-off (2016-12-01 for WoSign/StartCom) fails BlackListedKey, which is fatal.",
    check_key="BlackListedKey",
    result_class=F,
    applies_to=(SYS,),
    since="2016 security updates",
    citation=f"ios-trust-rules.md §1e distrust_wosign_startcom; SecPVCCheckIssuerDateConstraints ({SECURITY} trust/trustd/SecPolicyServer.c); support.apple.com/103723",
    fix="Get a certificate from a CA Apple trusts.",
    user_sees=NO_TRUST_BUTTON,
    severity=Severity.FATAL,
    note="The seven SHA-256 values are those of SecPVCCheckIssuerDateConstraints. The roots are no longer in Apple's store, so this fires only for a system store given with --system-roots that still has them (e.g. an old Mac's export); private CAs are exempt (ios-trust-rules.md §1g).",
)
def distrust_wosign_startcom(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position, node in enumerate(ctx.nodes):
        entry = DISTRUSTED_ROOTS.get(node.cert.sha256)
        if entry is None:
            continue
        name, cutoff = entry
        for below in range(position):
            nb = ctx.nodes[below].cert.info.not_before
            if nb is not None and nb >= cutoff:
                hits.append(
                    Hit(
                        below,
                        f"{_who(ctx, below).capitalize()} chains to {name}, which Apple distrusts for certificates issued from {cutoff:%Y-%m-%d}.",
                        {"distrusted_root": name, "cutoff": cutoff, "not_before": nb},
                    )
                )
    return hits


#: Roots whose certificates issued after a date no longer validate on Apple systems
#: (support.apple.com/121668, read via its zh-tw copy): SHA-256 -> root name. Leaves with
#: notBefore on or after ENTRUST_CAMERFIRMA_CUTOFF fail. AffirmTrust Networking is on
#: Apple's list too, but its fingerprint was not fully legible in the copy read; it is left out.
ENTRUST_CAMERFIRMA_CUTOFF = datetime(2024, 11, 16, tzinfo=UTC)  # "issued after 2024-11-15"
ENTRUST_CAMERFIRMA_ROOTS: dict[str, str] = {
    "063e4afac491dfd332f3089b8542e94617d893d7fe944e10a7937ee29d9693c0": "Chambers of Commerce Root - 2008",
    "136335439334a7698016a0d324de72284e079d7b5220bb8fbd747816eebebaca": "Global Chambersign Root - 2008",
    "db3517d1f6732a2d5ab97c533ec70779ee3270a62fb4ac4238372460e6f01e88": "Entrust Root Certification Authority - G4",
    "73c176434f1bc6d5adf45b0e76e727287c8de57616c1e6e6141a2b2cbc7d8e4c": "Entrust Root Certification Authority",
    "6dc47172e01cbcb0bf62580d895fe2b8ac9ad4f873801e0c10b9c837d21eb177": "Entrust.net Certification Authority (2048)",
    "43df5774b03e7fef5fe40d931a7bedf1bb2e6b42738c4e6d3841103d3aa7f339": "Entrust Root Certification Authority - G2",
    "02ed0eb28c14da45165c566791700d6451d7fb56f0b2ab1d3b8eb070e56edff5": "Entrust Root Certification Authority - EC1",
    "0376ab1d54c5f9803ce4b2e201a0ee7eef7b57b636e8a93c9b8d4860c96f5fa7": "AffirmTrust Commercial",
}


@rule(
    id="distrust_entrust_camerfirma",
    title="Issued by Entrust or Camerfirma after Apple's cut-off",
    checks="A chain anchored at one of the listed Entrust/AffirmTrust or Camerfirma roots (data table by SHA-256, from support.apple.com/121668) whose leaf was issued after 2024-11-15 does not validate; earlier certificates work until they expire.",
    check_key="GrayListedKey",
    applies_to=(SYS,),
    since="effective 2024-11-15",
    citation="ios-trust-rules.md §1e distrust_entrust_camerfirma; support.apple.com/121668; SecRVCProcessValidDateConstraints (trust/trustd/SecRevocationServer.c)",
    fix="Replace the certificate with one from a CA Apple trusts (Entrust now issues through a partner CA).",
    note="Apple does not say whether these date constraints are overridable (GrayListedKey, recoverable) or treated as revoked (fatal); mailtls reports recoverable. That Apple uses the Valid-database date constraints for this is an inference.",
    **_prompt(),
)
def distrust_entrust_camerfirma(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    root = ctx.nodes[-1].cert
    name = ENTRUST_CAMERFIRMA_ROOTS.get(root.sha256)
    issued = ctx.leaf.info.not_before
    if name is None or issued is None or issued < ENTRUST_CAMERFIRMA_CUTOFF:
        return hits
    hits.append(
        Hit(
            0,
            f"The server certificate was issued on {issued:%Y-%m-%d} under '{name}'; Apple no longer accepts certificates from this root issued after 2024-11-15.",
            {
                "root": name,
                "root_sha256": root.sha256,
                "not_before": issued,
                "cutoff": ENTRUST_CAMERFIRMA_CUTOFF,
            },
        )
    )
    return hits


@rule(
    id="blocked_certs_keys",
    title="Certificate or key on Apple's blocklist",
    checks="A certificate (by SHA-256) or key (by SHA-256 of its SubjectPublicKeyInfo) on the blocklist data table fails BlackListedLeaf/BlackListedKey (fatal) or GrayListedKey (recoverable).",
    check_key="BlackListedKey",
    result_class=F,
    applies_to=ALL_KINDS,
    since="data-driven",
    citation=f"ios-trust-rules.md §1e blocked_certs_keys; SecPVCBlackListedKeyChecks, SecPVCGrayListedKeyChecks ({SECURITY} trust/trustd/SecPolicyServer.c)",
    fix="Replace the certificate and its key.",
    user_sees=NO_TRUST_BUTTON,
    severity=Severity.FATAL,
    note="Apple's OTA blocklist is not public as a file; mailtls ships the mechanism with a small data table (BLOCKED).",
)
def blocked_certs_keys(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    if not BLOCKED:
        return hits  # nothing listed, nothing can match
    for position, node in enumerate(ctx.nodes):
        for digest, what in ((node.cert.sha256, "certificate"), (node.cert.spki_sha256, "key")):
            entry = BLOCKED.get(digest)
            if entry is None:
                continue
            name, key, result_class = entry
            hits.append(
                Hit(
                    position,
                    f"The {what} of {_who(ctx, position)} is on Apple's blocklist ({name}).",
                    {"sha256": digest, "blocked_as": name},
                    check_key=key,
                    result_class=result_class,
                    severity=Severity.FATAL if result_class is F else Severity.ERROR,
                )
            )
    return hits


# --------------------------------------------------------------------------- notices


@rule(
    id="expiry_soon",
    title="Certificate expires soon",
    checks="A certificate of the path that expires within 30 days of the evaluation time.",
    check_key=None,
    result_class=None,
    applies_to=ALL_KINDS,
    since="—",
    citation="mailtls notice (no iOS rule); temporal_validity takes over once it has expired",
    fix="Renew the certificate before it expires, and reload the mail server afterwards.",
    user_sees="Nothing yet; after expiry, the 'Cannot Verify Server Identity' sheet.",
    category=Category.NOTICE,
    severity=Severity.WARNING,
)
def expiry_soon(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    for position, node in enumerate(ctx.nodes):
        not_after = node.cert.info.not_after
        if not_after is not None and ctx.at <= not_after <= ctx.at + EXPIRY_WARNING:
            left = (not_after - ctx.at).total_seconds() / 86400
            hits.append(
                Hit(
                    position,
                    f"{_who(ctx, position).capitalize()} expires in {left:.0f} day(s), on {not_after:%Y-%m-%d}.",
                    {"not_after": not_after, "days_left": round(left, 2)},
                )
            )
    return hits


# --------------------------------------------------------------------------- deployment

_DEPLOY = {
    "check_key": None,
    "result_class": None,
    "applies_to": ALL_KINDS,
    "since": "—",
    "category": Category.DEPLOYMENT,
    "remedy": "full_chain",
}


@rule(
    id="chain_missing_intermediate",
    title="Issuer certificate missing: not sent, not installed",
    checks="The server must send every certificate between its own and the root (roots need not be sent); iOS fetches a missing one only via the AIA caIssuers URL. When the last certificate's issuer is neither sent nor in a trust store, mailtls cannot tell an intermediate the server should send from a private root the iPhone lacks, and says so.",
    citation="ios-trust-rules.md §1a chain_anchor_required, aia_fetch; RFC 8446 §4.4.2",
    fix="Configure the server with the full chain file (server certificate followed by the intermediate(s)), e.g. Dovecot ssl_cert = <fullchain.pem, Postfix smtpd_tls_chain_files.",
    user_sees=PROMPT_SHEET,
    severity=Severity.ERROR,
    **_DEPLOY,
)
def chain_missing_intermediate(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    fetched = [p for p, n in enumerate(ctx.nodes) if n.source is FETCHED]
    if ctx.path.ending is MISSING_ISSUER and store_end(ctx) is None:
        last = len(ctx.nodes) - 1
        cert = ctx.nodes[last].cert
        urls = list(cert.ca_issuer_urls)
        download = f"; the iPhone may try to download it from {urls[0]}" if urls else ""
        hits.append(
            Hit(
                last,
                f"The issuer of {_who(ctx, last)} ({_missing_issuer(cert)}) is neither sent by the server nor in a trust store{download}. "
                "If it is your private root, it must be installed on the iPhones; if it is an intermediate, the server must send it.",
                {
                    "missing_issuer": cert.info.issuer,
                    "missing_issuer_key_id": _key_id(cert.info.aki) or None,
                    "ca_issuer_urls": urls,
                },
                fix=_missing_issuer_fix(cert, detail=True),
            )
        )
    for position in fetched:
        hits.append(
            Hit(
                position,
                f"The server did not send {_who(ctx, position)}; it was found via the AIA caIssuers URL, which the iPhone also follows, silently.",
                {"source": "fetched"},
                severity=Severity.WARNING,
            )
        )
    return hits


@rule(
    id="chain_order",
    title="Certificates sent in the wrong order",
    checks="The server certificate must come first, each following certificate certifying the one before it. iOS takes the first certificate as the server's and sorts the rest itself; other mail clients may not.",
    citation="RFC 8446 §4.4.2 (RFC 5246 §7.4.2 required strict order); ios-trust-rules.md §1a",
    fix="Put the server certificate first in the certificate file, then the intermediate(s).",
    user_sees="Nothing on the iPhone (it re-orders); some other clients fail.",
    severity=Severity.INFO,
    **_DEPLOY,
)
def chain_order(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    path_indexes = [n.presented_index for n in ctx.nodes if n.presented_index is not None]
    if path_indexes != sorted(path_indexes):
        hits.append(
            Hit(
                None,
                "The server sends its certificates in a different order than the chain runs.",
                {"presented_order": path_indexes},
            )
        )
    return hits


@rule(
    id="chain_leaf_not_first",
    title="Server certificate is not the first one sent",
    checks="The first certificate the server sends is the one iOS checks against the host name; a CA certificate in that place means the real server certificate is ignored.",
    citation="RFC 8446 §4.4.2; ios-trust-rules.md §1a (SecPathBuilder takes the first certificate as leaf)",
    fix="Put the server certificate first in the certificate file.",
    user_sees=PROMPT_SHEET,
    severity=Severity.ERROR,
    **_DEPLOY,
)
def chain_leaf_not_first(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    first = ctx.presented[0]
    if not first.is_ca:
        return hits
    leaves = [i for i, c in enumerate(ctx.presented) if i > 0 and not c.is_ca and c.issuer_der]
    if leaves and (
        not ctx.host
        or any(dns_match(ctx.host, n) for i in leaves for n in ctx.presented[i].dns_names)
    ):
        hits.append(
            Hit(
                0,
                f"The first certificate sent is a CA certificate ('{first.info.subject}'); the server certificate comes later, at position {leaves[0]}.",
                {"first_subject": first.info.subject, "server_certificate_index": leaves[0]},
            )
        )
    return hits


@rule(
    id="chain_root_included",
    title="Server also sends the root",
    checks="Sending the self-signed root is harmless: iOS uses its own copy (or, for a private root, the installed one).",
    citation="RFC 8446 §4.4.2 (the root MAY be omitted)",
    fix="Optional: leave the root out of the chain file to save bytes.",
    user_sees="Nothing.",
    severity=Severity.INFO,
    **_DEPLOY,
)
def chain_root_included(ctx: Context) -> list[Hit]:
    last = len(ctx.nodes) - 1
    node = ctx.nodes[last]
    if last > 0 and node.presented_index is not None and node.cert.info.self_signed:
        return [Hit(last, f"The server also sends {_who(ctx, last)}; this is harmless.", {})]
    return []


@rule(
    id="chain_unrelated_certificate",
    title="Server sends certificates that are not part of the chain",
    checks="Every certificate after the first should certify the one before it; extra certificates are ignored by iOS but waste bytes and often mean an old or wrong intermediate is configured.",
    citation="RFC 8446 §4.4.2",
    fix="Remove the unrelated certificate(s) from the chain file; check that the right intermediate is configured.",
    user_sees="Nothing by itself.",
    severity=Severity.WARNING,
    **_DEPLOY,
)
def chain_unrelated_certificate(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    used = {n.cert.sha256 for n in ctx.nodes}
    if all(cert.sha256 in used for cert in ctx.presented):
        return hits  # every certificate sent is in the path (almost every chain)
    same_key = {(n.cert.subject_der, n.cert.spki_sha256): n for n in ctx.nodes}
    mismatched = {i for _, i in ctx.path.signature_mismatches}
    reported: set[str] = set()
    for index, cert in enumerate(ctx.presented):
        if cert.sha256 in used or cert.sha256 in reported:
            continue
        reported.add(cert.sha256)
        twin = same_key.get((cert.subject_der, cert.spki_sha256))
        if twin is not None:
            hits.append(
                Hit(
                    None,
                    f"Certificate {index} ('{cert.info.subject}') is another version (e.g. cross-signed) of a certificate in the path; the iPhone does not need it.",
                    {
                        "index": index,
                        "subject": cert.info.subject,
                        "key_mismatch": False,
                        "variant_of": twin.cert.sha256,
                    },
                    severity=Severity.INFO,
                )
            )
            continue
        why = (
            " (its name matches the issuer, but its key did not sign the certificate: an old or wrong intermediate)"
            if index in mismatched
            else ""
        )
        hits.append(
            Hit(
                None,
                f"Certificate {index} ('{cert.info.subject}') is not part of the chain{why}.",
                {"index": index, "subject": cert.info.subject, "key_mismatch": index in mismatched},
            )
        )
    return hits


@rule(
    id="chain_duplicate_certificate",
    title="Server sends a certificate twice",
    checks="The same certificate appears more than once in what the server sends.",
    citation="RFC 8446 §4.4.2",
    fix="Remove the duplicate from the chain file.",
    user_sees="Nothing.",
    severity=Severity.INFO,
    **_DEPLOY,
)
def chain_duplicate_certificate(ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    first: dict[str, int] = {}
    for index, cert in enumerate(ctx.presented):
        if cert.sha256 in first:
            hits.append(
                Hit(
                    None,
                    f"Certificate {index} is a copy of certificate {first[cert.sha256]} ('{cert.info.subject_cn or cert.info.subject}').",
                    {"index": index, "copy_of": first[cert.sha256]},
                )
            )
        else:
            first[cert.sha256] = index
    return hits


# --------------------------------------------------------------------------- documented only


def _documented(
    rule_id: str, title: str, checks: str, citation: str, note: str, **kw: object
) -> None:
    register(
        Rule(
            id=rule_id,
            title=title,
            checks=checks,
            check_key=kw.pop("check_key", None),  # type: ignore[arg-type]
            result_class=kw.pop("result_class", None),  # type: ignore[arg-type]
            applies_to=kw.pop("applies_to", ALL_KINDS),  # type: ignore[arg-type]
            since=str(kw.pop("since", "long-standing")),
            citation=citation,
            fix=str(kw.pop("fix", "")),
            user_sees=str(kw.pop("user_sees", "")),
            severity=Severity.INFO,
            remedy=None,
            evaluated=False,
            note=note,
        )
    )


_documented(
    "anchor_source_order",
    "Where iOS looks for roots and issuers",
    "Anchors: app anchors, Apple's own, the user trust store, the system store. Parents: the certificates the server sent, keychain items, then the network (AIA).",
    "ios-trust-rules.md §1a anchor_source_order; SecPathBuilderInit (trust/trustd/SecTrustServer.c)",
    "Built into mailtls' path builder (user store, then system store, then the presented certificates); a user 'Deny' cannot be expressed.",
)
_documented(
    "aia_fetch",
    "iOS downloads a missing intermediate",
    "If an issuer is missing, trustd follows http caIssuers URLs (at most 3 fetches, none if >= 10 URLs).",
    "ios-trust-rules.md §1a aia_fetch; SecCAIssuerRequest.m",
    "mailtls does not fetch; analyze_chain(fetched=...) accepts certificates a caller downloaded, reported by chain_missing_intermediate.",
)
_documented(
    "user_anchor_semantics",
    "What counts as an installed root",
    "A user-store certificate is an anchor if self-signed with empty constraints, or with TrustRoot/TrustAsRoot settings.",
    "ios-trust-rules.md §1a user_anchor_semantics; SecPVCIsAnchorPerConstraints",
    "mailtls treats every --ca-file certificate as installed with full trust (TrustRoot / TrustAsRoot).",
    applies_to=(USR, USR_LEAF),
)
_documented(
    "self_signed_leaf_anchor",
    "A trusted self-signed server certificate",
    "A self-signed CA:FALSE server certificate in the user store is an anchor (USR-LEAF) and passes.",
    "ios-trust-rules.md §1a self_signed_leaf_anchor; testSHA2_trustSettingsSelfSigned",
    "Evaluated as the USR-LEAF anchor kind; reachable only by MDM/Configurator (see ios_cts_ui_lists_ca_only).",
    applies_to=(USR_LEAF,),
)
_documented(
    "known_intermediates_only",
    "CA restricted to known intermediates",
    "For CAs flagged in Apple's Valid database, an undisclosed intermediate fails.",
    "ios-trust-rules.md §1a known_intermediates_only; SecPathBuilderCheckKnownIntermediateConstraints",
    "Not evaluated: needs Apple's Valid database.",
    applies_to=(SYS,),
)
_documented(
    "leaf_key_usage_not_checked",
    "Leaf keyUsage is not checked",
    "The plain SSL policy adds no keyUsage requirement for the leaf.",
    "ios-trust-rules.md §1b leaf_key_usage_not_checked",
    "Nothing to evaluate: iOS does not check it.",
)
_documented(
    "leaf_may_be_ca",
    "A CA:TRUE server certificate is accepted",
    "The SSL server policy has no NotCA check.",
    "ios-trust-rules.md §1b leaf_may_be_ca",
    "Nothing to evaluate: iOS does not check it.",
)
_documented(
    "sc081_not_client_enforced",
    "200/100/47-day limits are CA policy, not iOS checks",
    "CA/B Forum SC-081 caps public certificates at 200 days (2026-03-15), 100 (2027), 47 (2029); no client check exists in Apple's code.",
    "ios-trust-rules.md §1c sc081_not_client_enforced",
    "Not a client rule: mailtls does not flag it.",
    applies_to=(SYS,),
)
_documented(
    "ct_policy_counts",
    "How many SCTs Apple's CT policy needs",
    "Embedded SCTs needed by lifetime: before 2021-04-21 by months (<15: 2, <=27: 3, <=39: 4, else 5); after by days (<=180: 2, <=825: 3, else 4).",
    "ios-trust-rules.md §1d ct_policy_counts; verify_embedded_sct_policy_v1/_v2",
    "Used by ct_required_system; with Apple's log list the count is of SCTs that count there (signatures verified), otherwise of distinct logs named.",
    applies_to=(SYS,),
)
for _id, _title, _text in (
    (
        "distrust_symantec",
        "Symantec distrust",
        "Symantec-issued TLS certificates by date (2018-2022).",
    ),
    ("distrust_cnnic", "CNNIC distrust", "Two CNNIC roots removed in 2015, with an allow-list."),
    ("distrust_trustcor", "TrustCor", "No Apple statement found."),
):
    _documented(
        _id,
        _title,
        _text,
        f"ios-trust-rules.md §1e {_id}",
        "Not evaluated: needs Apple's lists of affected roots; with Apple's roots via --system-roots a removed root simply does not anchor.",
        applies_to=(SYS,),
    )
_documented(
    "revocation",
    "Revoked certificate",
    "A definitive 'revoked' from Apple's Valid data or OCSP is fatal.",
    "ios-trust-rules.md §1e revocation",
    "Not evaluated offline.",
    check_key="Revocation",
    result_class=ResultClass.FATAL,
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
