"""Distrust (ios-trust-rules.md §1e): CAs distrusted after a date, the OTA blocklist, and
the distrust rules mailtls cannot evaluate offline."""

from __future__ import annotations

from datetime import UTC, datetime

from mailtls.analysis.context import Context, Hit
from mailtls.analysis.registry import (
    ALL_KINDS,
    DEC_2016,
    NO_TRUST_BUTTON,
    rule,
)
from mailtls.analysis.rules.common import (
    SECURITY,
    SYS,
    F,
    documented,
    prompt_rule,
    who_at,
)
from mailtls.model import ResultClass, Severity

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
                        f"{who_at(ctx, below).capitalize()} chains to {name}, which Apple distrusts for certificates issued from {cutoff:%Y-%m-%d}.",
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
    **prompt_rule(),
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
                    f"The {what} of {who_at(ctx, position)} is on Apple's blocklist ({name}).",
                    {"sha256": digest, "blocked_as": name},
                    check_key=key,
                    result_class=result_class,
                    severity=Severity.FATAL if result_class is F else Severity.ERROR,
                )
            )
    return hits


for _id, _title, _text in (
    (
        "distrust_symantec",
        "Symantec distrust",
        "Symantec-issued TLS certificates by date (2018-2022).",
    ),
    ("distrust_cnnic", "CNNIC distrust", "Two CNNIC roots removed in 2015, with an allow-list."),
    ("distrust_trustcor", "TrustCor", "No Apple statement found."),
):
    documented(
        _id,
        _title,
        _text,
        f"ios-trust-rules.md §1e {_id}",
        "Not evaluated: needs Apple's lists of affected roots; with Apple's roots via --system-roots a removed root simply does not anchor.",
        applies_to=(SYS,),
    )
documented(
    "revocation",
    "Revoked certificate",
    "A definitive 'revoked' from Apple's Valid data or OCSP is fatal.",
    "ios-trust-rules.md §1e revocation",
    "Not evaluated offline.",
    check_key="Revocation",
    result_class=ResultClass.FATAL,
)
