"""History: what changed since the last check of the same endpoint.

The finding is made by :func:`mailtls.history.leaf_changed_finding` (it needs the stored
row); its metadata lives here so that ``mailtls rules`` lists it.
"""

from __future__ import annotations

from mailtls.analysis.registry import ALL_KINDS, Rule, register
from mailtls.model import Category, Severity

RULE_LEAF_CHANGED = "history_leaf_changed"

LEAF_CHANGED = register(
    Rule(
        id=RULE_LEAF_CHANGED,
        title="The certificate changed since the last check",
        checks="The endpoint (URL and address) serves a different server certificate than at the "
        "last check recorded in the history. Info when the new certificate is trusted; a warning "
        "otherwise, because every iPhone that tapped Trust for the old one is asked again.",
        check_key=None,
        result_class=None,
        applies_to=ALL_KINDS,
        since="—",
        citation="ios-trust-rules.md §2: SecTrustSetExceptions rejects a cookie whose leaf "
        "SHA-1 differs",
        fix="Make the new chain trusted (see the other findings); until then tell users "
        "to expect one prompt per account after a certificate change.",
        user_sees="Every iPhone that tapped Trust for the old certificate will be asked again "
        "('Cannot Verify Server Identity'), because the stored exception names the old "
        "certificate only.",
        category=Category.NOTICE,
        severity=Severity.WARNING,
        remedy="stale_exception",
    )
)
