"""What the server sends (deployment findings, never the verdict): a missing intermediate,
the order of the chain, a root, unrelated or duplicate certificates."""

from __future__ import annotations

from mailtls.analysis.context import Context, Hit
from mailtls.analysis.names import dns_match
from mailtls.analysis.registry import (
    ALL_KINDS,
    PROMPT_SHEET,
    rule,
)
from mailtls.analysis.rules.common import (
    FETCHED,
    MISSING_ISSUER,
    colon_key_id,
    missing_issuer_fix,
    missing_issuer_text,
    who_at,
)
from mailtls.analysis.rules.store import store_end
from mailtls.model import Category, Severity

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
                f"The issuer of {who_at(ctx, last)} ({missing_issuer_text(cert)}) is neither sent by the server nor in a trust store{download}. "
                "If it is your private root, it must be installed on the iPhones; if it is an intermediate, the server must send it.",
                {
                    "missing_issuer": cert.info.issuer,
                    "missing_issuer_key_id": colon_key_id(cert.info.aki) or None,
                    "ca_issuer_urls": urls,
                },
                fix=missing_issuer_fix(cert, detail=True),
            )
        )
    for position in fetched:
        hits.append(
            Hit(
                position,
                f"The server did not send {who_at(ctx, position)}; it was found via the AIA caIssuers URL, which the iPhone also follows, silently.",
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
        return [Hit(last, f"The server also sends {who_at(ctx, last)}; this is harmless.", {})]
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
