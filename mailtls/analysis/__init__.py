"""Judge a certificate chain the way iOS does (ios-trust-rules.md); no sockets here.

Public API (imported lazily, so ``import mailtls.analysis`` stays cheap)::

    describe_certificate(der, index=0) -> CertificateInfo
    load_certificates(path) -> list[bytes]
    TrustStore, system_store(path=None), user_store(paths)
    analyze_chain(chain, host, *, at, system, user=None, ios_version=None, fetched=()) -> Analysis
    transport_findings(probe) -> list[Finding]
    RULES: dict[str, Rule]   (rule metadata, ids from ios-trust-rules.md)

Modules: ``asn1`` (lenient DER reader), ``certs`` (parsing, files, signatures), ``stores``,
``path`` (path building), ``names``/``hostname`` (SSLHostname), ``context`` (what a rule
reads and returns), ``registry`` (rule metadata, dates), ``rules/`` (one function per rule,
a module per Apple check family, transport §1f and cross-host findings included),
``engine`` (verdict).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailtls.analysis.certs import describe_certificate, load_certificates
    from mailtls.analysis.engine import analyze_chain
    from mailtls.analysis.registry import RULES, Rule
    from mailtls.analysis.rules.transport import transport_findings
    from mailtls.analysis.stores import TrustStore, system_store, user_store

__all__ = [
    "RULES",
    "Rule",
    "TrustStore",
    "analyze_chain",
    "describe_certificate",
    "load_certificates",
    "system_store",
    "transport_findings",
    "user_store",
]

_LOCATIONS = {
    "describe_certificate": "certs",
    "load_certificates": "certs",
    "analyze_chain": "engine",
    "TrustStore": "stores",
    "system_store": "stores",
    "user_store": "stores",
    "transport_findings": "rules.transport",
    "Rule": "registry",
}


def all_rules() -> dict[str, Any]:
    """The complete registry: every rule of every family (see :mod:`mailtls.analysis.rules`)."""
    importlib.import_module("mailtls.analysis.rules")
    from mailtls.analysis.registry import RULES as registry

    return registry


def __getattr__(name: str) -> Any:
    if name == "RULES":
        return all_rules()
    if name in _LOCATIONS:
        module = importlib.import_module(f"mailtls.analysis.{_LOCATIONS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'mailtls.analysis' has no attribute {name!r}")
