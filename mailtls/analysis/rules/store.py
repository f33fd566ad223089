"""Rules that come from Apple's trust store itself (ios-trust-rules.md §1a, §1e).

A chain that ends in a certificate Apple's store knows but does not let anchor a TLS server
is named for what it is: a root Apple removed, a root that ``constraints.json`` limits to
other Apple policies, or (with the certifi stand-in) a root every iPhone has but mailtls
could not use here. These take the place of ``chain_anchor_required`` and
``chain_missing_intermediate`` for such chains, whose advice (a private root to install, an
intermediate to send) would be wrong.
"""

from __future__ import annotations

from mailtls.analysis.applefacts import SSL_POLICY, KnownRoot
from mailtls.analysis.context import Context, Hit
from mailtls.analysis.path import Ending
from mailtls.analysis.registry import PROMPT_SHEET, rule
from mailtls.model import AnchorKind, ResultClass

SECURITY = "apple-oss-distributions/Security"
CERTS = "apple-oss-distributions/security_certificates"


def store_end(ctx: Context) -> tuple[int, KnownRoot, bool] | None:
    """(path position, what Apple's store says, is the issuer of that position) when the
    path ends in, or below, a certificate Apple's store knows but that did not anchor it."""
    system = ctx.system
    if system is None or ctx.anchored:
        return None
    last = len(ctx.nodes) - 1
    cert = ctx.nodes[last].cert
    if ctx.path.ending is Ending.UNTRUSTED_ROOT:
        known = system.known_root(cert)
        return (last, known, False) if known is not None else None
    if ctx.path.ending is Ending.MISSING_ISSUER:
        known = system.known_issuer(cert)
        return (last, known, True) if known is not None else None
    return None


def _name(known: KnownRoot) -> str:
    subject = known.subject
    for part in subject.split(","):
        if part.startswith("CN="):
            return part[3:]
    return subject


def _where(ctx: Context) -> str:
    system = ctx.system
    return (
        f"Apple's trust store {system.version}"
        if system and system.version
        else "Apple's trust store"
    )


def _ending_in(ctx: Context, status: str) -> tuple[int, KnownRoot, str, str] | None:
    """(position, the fact, "ends in" / "names as its issuer", Apple check key) when the
    path ends at a certificate Apple's store knows with this status."""
    end = store_end(ctx)
    if end is None or end[1].status != status:
        return None
    position, known, is_issuer = end
    if is_issuer:
        return position, known, "names as its issuer", "MissingIntermediate"
    return position, known, "ends in", "AnchorTrusted"


@rule(
    id="store_root_removed",
    title="Root removed from Apple's trust store",
    checks="The chain ends in, or names as its issuer, a certificate that Apple removed from its trust store (security_certificates certificates/removed/, by SHA-256 or by name and key identifier): iPhones with that store no longer trust it.",
    check_key="AnchorTrusted",
    result_class=ResultClass.RECOVERABLE,
    applies_to=(AnchorKind.NONE,),
    since="per trust store release",
    citation=f"ios-trust-rules.md §1e; {CERTS} certificates/removed/; support.apple.com/103272",
    fix="Get a certificate from a CA whose root is in Apple's current store (most CAs have re-issued under a newer root; the CA's documentation names it), and have the server send the chain up to that root. Installing the removed root as a profile is not a fix: it re-trusts a root Apple distrusted.",
    user_sees=PROMPT_SHEET,
    remedy="reissue",
)
def store_root_removed(ctx: Context) -> list[Hit]:
    ending = _ending_in(ctx, "removed")
    if ending is None:
        return []
    position, known, what, key = ending
    return [
        Hit(
            position,
            f"The chain {what} '{_name(known)}', which was removed from Apple's store; {_where(ctx)} does not trust it, so neither does the iPhone.",
            {"removed_root": known.subject, "removed_root_sha256": known.sha256},
            check_key=key,
        )
    ]


@rule(
    id="store_root_restricted",
    title="Root limited by Apple to other uses",
    checks="constraints.json limits some roots of Apple's store to particular Apple policies (1.2.840.113635.100.1.x); such a root anchors a mail server's chain only if the SSL server policy (1.2.840.113635.100.1.3.1, or its compatibility form .3) is among them. Only the system group limits roots for TLS; platform and custom records are anchors for other policies.",
    check_key="AnchorTrusted",
    result_class=ResultClass.RECOVERABLE,
    applies_to=(AnchorKind.NONE,),
    since="per trust store release",
    citation=f"ios-trust-rules.md §1a; {CERTS} certificates/constraints.json; anchorRecordsPermitttedForPolicy: ({SECURITY} trust/trustd/SecAnchorCache.m), SecSystemConstrainedAnchorSourceContains (trust/trustd/SecCertificateSource.c)",
    fix="Use a certificate from a public CA whose root is trusted for TLS, or a private CA installed on the iPhones; this root is for Apple's own services only.",
    user_sees=PROMPT_SHEET,
    remedy="reissue",
)
def store_root_restricted(ctx: Context) -> list[Hit]:
    ending = _ending_in(ctx, "restricted")
    if ending is None:
        return []
    position, known, what, key = ending
    return [
        Hit(
            position,
            f"The chain {what} '{_name(known)}', which {_where(ctx)} limits to Apple policies other than TLS ({SSL_POLICY} is not among them): it does not anchor a mail server's certificate.",
            {
                "restricted_root": known.subject,
                "restricted_root_sha256": known.sha256,
                "apple_policies": list(known.policies),
            },
            check_key=key,
        )
    ]


@rule(
    id="store_root_not_verified",
    title="Root of Apple's store not available to mailtls here",
    checks="With the certifi stand-in only: the chain names as its issuer (or ends in a copy not byte-identical to) a root of Apple's store that certifi's bundle lacks. Every iPhone trusts that root, but mailtls cannot verify the signature, so it does not call the chain trusted.",
    check_key="AnchorTrusted",
    result_class=ResultClass.RECOVERABLE,
    applies_to=(AnchorKind.NONE,),
    since="mailtls (stand-in store)",
    citation="docs/trust-store.md (the stand-in); ios-trust-rules.md §1a",
    fix="Run `mailtls roots update` (or `mailtls roots update --from PATH` offline) and check again.",
    user_sees="Probably nothing: the iPhone has this root. mailtls could not check the rest of the chain against it.",
    remedy=None,
)
def store_root_not_verified(ctx: Context) -> list[Hit]:
    ending = _ending_in(ctx, "trusted")
    if ending is None:
        return []
    position, known, _, _ = ending
    return [
        Hit(
            position,
            f"The iPhone trusts '{_name(known)}'; mailtls could not verify the signature here: run `mailtls roots update`.",
            {"apple_root": known.subject, "apple_root_sha256": known.sha256},
        )
    ]
