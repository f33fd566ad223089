"""Validity (ios-trust-rules.md §1b, §1c): dates of every certificate, the maximum
lifetime of a server certificate, and the expiry notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mailtls.analysis.context import Context, Hit
from mailtls.analysis.registry import (
    ALL_KINDS,
    JUL_2019,
    MAR_2018,
    SEP_2020,
    rule,
)
from mailtls.analysis.rules.common import (
    NONE,
    SECURITY,
    SYS,
    USR,
    documented,
    prompt_rule,
    who_at,
)
from mailtls.model import Category, Severity

EXPIRY_WARNING = timedelta(days=30)
SLIP = 3600  # the hour of slack Apple adds to 825 days


@dataclass(frozen=True, slots=True)
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


@rule(
    id="temporal_validity",
    title="Certificate expired or not yet valid",
    checks="Every certificate of the path, the trusted root included, must satisfy notBefore <= evaluation time <= notAfter (both inclusive).",
    check_key="TemporalValidity",
    applies_to=ALL_KINDS,
    since="long-standing",
    citation=f"ios-trust-rules.md §1b temporal_validity; SecCertificateIsValid ({SECURITY} OSX/sec/Security/SecCertificate.c), SecPolicyCheckTemporalValidity",
    fix="Renew the certificate (and make sure the server actually loads the renewed file).",
    **prompt_rule(),
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
                    f"{who_at(ctx, position).capitalize()} expired on {info.not_after:%Y-%m-%d %H:%M} UTC.",
                    {"not_after": info.not_after, "evaluated_at": ctx.at},
                )
            )
        elif ctx.at < info.not_before:
            hits.append(
                Hit(
                    position,
                    f"{who_at(ctx, position).capitalize()} is not valid before {info.not_before:%Y-%m-%d %H:%M} UTC.",
                    {"not_before": info.not_before, "evaluated_at": ctx.at},
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
    **prompt_rule(),
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
    **prompt_rule(),
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
                    f"{who_at(ctx, position).capitalize()} expires in {left:.0f} day(s), on {not_after:%Y-%m-%d}.",
                    {"not_after": not_after, "days_left": round(left, 2)},
                )
            )
    return hits


documented(
    "sc081_not_client_enforced",
    "200/100/47-day limits are CA policy, not iOS checks",
    "CA/B Forum SC-081 caps public certificates at 200 days (2026-03-15), 100 (2027), 47 (2029); no client check exists in Apple's code.",
    "ios-trust-rules.md §1c sc081_not_client_enforced",
    "Not a client rule: mailtls does not flag it.",
    applies_to=(SYS,),
)
