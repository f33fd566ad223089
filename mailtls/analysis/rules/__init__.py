"""The iOS trust rules, one small function each with its metadata, by Apple check family.

Importing this package registers every rule in :data:`mailtls.analysis.registry.RULES`:

* ``store``: what Apple's trust store says about the root (removed, restricted, stand-in);
* ``chain``: the path and its anchor, CA constraints, extensions, subjects;
* ``validity``: dates, maximum lifetimes, the expiry notice;
* ``keys``: key sizes and signature hashes;
* ``names``: name constraints and the host name (``SSLHostname``);
* ``eku``: extended key usage;
* ``ct``: Certificate Transparency;
* ``distrust``: distrusted CAs and blocked keys;
* ``deployment``: the chain as the server sends it;
* ``transport``: TLS versions and STARTTLS (§1f), judged from a probe result;
* ``across_hosts``: several endpoints of one host, discovered names, a failed analysis;
* ``history``: the certificate changed since the last check.

Each check returns a list of :class:`mailtls.analysis.context.Hit` values with the path
position of the certificate that failed and the evidence that decided it; the engine
(:mod:`mailtls.analysis.engine`) runs a rule only for the anchor kinds in its
``applies_to``.
"""

from __future__ import annotations

from mailtls.analysis.registry import order_rules
from mailtls.analysis.rules import (  # noqa: F401  (importing a family registers its rules)
    across_hosts,
    chain,
    ct,
    deployment,
    distrust,
    eku,
    history,
    keys,
    names,
    store,
    transport,
    validity,
)
from mailtls.analysis.rules.ct import CT_V1_BY_MONTHS, CT_V2_BY_DAYS, required_embedded_scts
from mailtls.analysis.rules.distrust import (
    BLOCKED,
    DISTRUSTED_ROOTS,
    ENTRUST_CAMERFIRMA_CUTOFF,
    ENTRUST_CAMERFIRMA_ROOTS,
    WOSIGN_STARTCOM_CUTOFF,
)
from mailtls.analysis.rules.eku import TLS_COMPATIBLE_EKUS
from mailtls.analysis.rules.keys import (
    FATAL_HASHES,
    FATAL_MIN_KEY_BITS,
    IOS13_MIN_KEY_BITS,
    IOS13_WEAK_HASHES,
)
from mailtls.analysis.rules.store import store_end
from mailtls.analysis.rules.validity import EXPIRY_WARNING, VALIDITY_LIMITS, ValidityLimit

__all__ = [
    "BLOCKED",
    "CT_V1_BY_MONTHS",
    "CT_V2_BY_DAYS",
    "DISTRUSTED_ROOTS",
    "ENTRUST_CAMERFIRMA_CUTOFF",
    "ENTRUST_CAMERFIRMA_ROOTS",
    "EXPIRY_WARNING",
    "FATAL_HASHES",
    "FATAL_MIN_KEY_BITS",
    "IOS13_MIN_KEY_BITS",
    "IOS13_WEAK_HASHES",
    "TLS_COMPATIBLE_EKUS",
    "VALIDITY_LIMITS",
    "WOSIGN_STARTCOM_CUTOFF",
    "ValidityLimit",
    "required_embedded_scts",
    "store_end",
]

# The order of ios-trust-rules.md §1, in which the rules run: findings that tie on severity,
# category and certificate keep it. Rules not named here follow in the order imported above.
order_rules(
    (
        "store_root_removed",
        "store_root_restricted",
        "store_root_not_verified",
        "chain_anchor_required",
        "ios_cts_ui_lists_ca_only",
        "profile_root_needs_full_trust",
        "temporal_validity",
        "ca_basic_constraints",
        "ca_keycertsign",
        "path_len",
        "name_constraints",
        "policy_constraints",
        "unknown_critical_extension",
        "duplicate_extension",
        "id_linkage",
        "non_empty_subject",
        "weak_key_fatal",
        "weak_signature_fatal",
        "ios13_key_size",
        "ios13_sha2",
        "ios13_san_only",
        "san_dns_syntax_filter",
        "hostname_match",
        "ip_address_names",
        "leaf_eku_compatible",
        "ios13_eku_serverauth",
        "validity_max_other",
        "validity_max_system",
        "ct_required_system",
        "distrust_wosign_startcom",
        "distrust_entrust_camerfirma",
        "blocked_certs_keys",
        "expiry_soon",
        "chain_missing_intermediate",
        "chain_order",
        "chain_leaf_not_first",
        "chain_root_included",
        "chain_unrelated_certificate",
        "chain_duplicate_certificate",
        "anchor_source_order",
        "aia_fetch",
        "user_anchor_semantics",
        "self_signed_leaf_anchor",
        "known_intermediates_only",
        "leaf_key_usage_not_checked",
        "leaf_may_be_ca",
        "sc081_not_client_enforced",
        "ct_policy_counts",
        "distrust_symantec",
        "distrust_cnnic",
        "distrust_trustcor",
        "revocation",
        "certificate_unreadable",
        "tls10_11_deprecated",
        "starttls_not_offered",
        "auth_before_starttls",
        "starttls_injection",
    )
)
