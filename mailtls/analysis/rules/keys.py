"""Keys and signatures (ios-trust-rules.md §1b, §1c): weak keys and hashes that are fatal
everywhere, and the iOS 13 minimums for chains that are not anchored by a system root."""

from __future__ import annotations

from mailtls.analysis.context import Context, Hit
from mailtls.analysis.registry import (
    ALL_KINDS,
    NO_TRUST_BUTTON,
    rule,
)
from mailtls.analysis.rules.common import (
    NONE,
    SECURITY,
    SYS,
    USR,
    USR_LEAF,
    F,
    prompt_rule,
    who_at,
)
from mailtls.model import Severity

#: ``SecCertificateIsWeakKey``: below these sizes (bits) a key is fatal; algorithms not
#: listed at all are fatal too (MIN_RSA_KEY_SIZE 128 bytes, MIN_EC_KEY_SIZE 20 bytes).
FATAL_MIN_KEY_BITS: dict[str, int] = {"RSA": 1024, "EC": 160, "Ed25519": 0, "Ed448": 0}
#: ``SecPolicyAddStrongKeySizeOptions``: only RSA and EC have entries; anything else fails.
IOS13_MIN_KEY_BITS: dict[str, int] = {"RSA": 2048, "EC": 256}
FATAL_HASHES = frozenset({"md2", "md4", "md5"})
IOS13_WEAK_HASHES = frozenset({"md2", "md4", "md5", "sha1"})


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
                    f"{who_at(ctx, position).capitalize()} has a {info.key_type} key, which iOS does not accept {what}.",
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
                    f"{who_at(ctx, position).capitalize()} has a {info.key_size}-bit {info.key_type} key; iOS needs at least {minimum} bits {what}.",
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
                    f"{who_at(ctx, position).capitalize()} is signed with {info.signature_hash.upper()}, which iOS refuses outright.",
                    {"signature_algorithm": info.signature_algorithm},
                )
            )
    return hits


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
    **prompt_rule(),
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
    **prompt_rule(),
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
                f"{who_at(ctx, position).capitalize()} is signed with {info.signature_hash.upper()}; iOS needs SHA-256 or better.",
                {"signature_algorithm": info.signature_algorithm},
                check_key=None if ctx.ios_at_least(13) else "SystemTrustedWeakHash",
            )
        )
    return hits
