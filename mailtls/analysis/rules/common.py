"""What the rule families share: anchor-kind and result-class shorthands, how a certificate
of the path is named in a sentence, and the helper that registers a documented-only rule."""

from __future__ import annotations

from mailtls.analysis.certs import ParsedCertificate
from mailtls.analysis.context import Context
from mailtls.analysis.path import Ending, Source
from mailtls.analysis.registry import (
    ALL_KINDS,
    PROMPT_SHEET,
    Rule,
    register,
)
from mailtls.model import AnchorKind, ResultClass, Severity

SYS, USR, USR_LEAF, NONE = AnchorKind.SYS, AnchorKind.USR, AnchorKind.USR_LEAF, AnchorKind.NONE
R, F = ResultClass.RECOVERABLE, ResultClass.FATAL
#: Module globals the checks compare with (cheaper than enum lookups).
UNTRUSTED_ROOT, MISSING_ISSUER, FETCHED = (
    Ending.UNTRUSTED_ROOT,
    Ending.MISSING_ISSUER,
    Source.FETCHED,
)
SECURITY = "apple-oss-distributions/Security"


def who_at(ctx: Context, position: int) -> str:
    node = ctx.nodes[position]
    info = node.cert.info
    name = info.subject_cn or info.subject or "(empty subject)"
    if position == 0:
        return f"the server certificate '{name}'"
    if position == len(ctx.nodes) - 1 and info.self_signed:
        return f"the root '{name}'"
    return f"the intermediate '{name}'"


def colon_key_id(hex_id: str | None) -> str:
    """A key identifier as openssl prints it (``AB:CD:...``), or ""."""
    return ":".join(hex_id[i : i + 2] for i in range(0, len(hex_id), 2)).upper() if hex_id else ""


def missing_issuer_text(cert: ParsedCertificate) -> str:
    """The issuer a path could not find: its subject DN and, if known, its key id."""
    key_id = colon_key_id(cert.info.aki)
    return f"'{cert.info.issuer}'" + (f", key id {key_id}" if key_id else "")


def missing_issuer_fix(cert: ParsedCertificate, *, detail: bool = False) -> str:
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


def prompt_rule(**kw: object) -> dict[str, object]:
    return {"result_class": R, "user_sees": PROMPT_SHEET, **kw}


def documented(
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
