"""The scenario catalogue: every chain-decidable iOS trust rule, broken and intact.

A :class:`Scenario` is what a lab server sends (``chain_pem`` with its ``key_pem``), the
name the client is configured with (``host``), the private root (``root_pem``), and what
an iPhone does with it for each kind of root (ios-trust-rules.md §1g):

* ``"NONE"`` — default stores, the private root not installed (Mail prompts);
* ``"USR"``  — ``root_pem`` installed with full trust (``--ca-file``);
* ``"SYS"``  — ``root_pem`` treated as a preinstalled system root (``--system-roots``).

``expected_verdict`` maps those keys to ``trusted`` / ``needs_profile`` / ``prompt`` /
``fatal``; ``expected_rules`` lists the trust rule ids (ios-trust-rules.md) that must fire
and ``absent_rules`` the ones that must stay silent (the other direction of a boundary);
``expected_notices`` names deployment/advisory findings that must appear (any severity).
A key that is missing from ``expected_verdict`` is not asserted for that scenario.
``openssl_seclevel`` / ``openssl_loads`` tell a server what OpenSSL needs to send it.

Each scenario is one decorated builder whose docstring is its provenance line. Builders
use the lab keys committed under ``mailtls/lab/keys/`` (public test keys!), fixed serial
numbers, RSA PKCS#1 v1.5 and Ed25519 signatures only, and dates computed from ``now``: the
same ``now`` always gives byte-identical PEM. CA dates are rounded to whole years so the
"mailtls Lab Root CA" stays the same certificate for a whole calendar year (one root to
install on a test phone covers every private-chain scenario).

Decisions where Apple's rules are finer than the brief (see ios-trust-rules.md):

* Under ``SYS`` a chain whose leaf was issued after 2018-10-15 must be CT-qualified
  (§1d ``ct_required_system``); lab leaves carry no SCTs, so every recent lab chain is
  ``prompt`` under ``SYS``. Only ``legacy-2018-long-lived`` is ``trusted`` there.
* 825 days: ``notAfter - notBefore <= 825 d + 3600 s`` passes (§1c ``validity_max_other``),
  so exactly 825 d + 1 h passes and one second more fails.
* 398 days under ``SYS``: exactly 398 × 86 400 s passes in Apple's code (§1c
  ``validity_max_system``); one second more fails.

Regenerate the committed fixtures with::

    python -m mailtls.lab.scenarios build fixtures --at 2026-11-01 --force
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from mailtls import pki
from mailtls.errors import ArtefactError, MailtlsError, UsageError

#: The host name most scenarios are configured with (RFC 6761 ``.test``: never resolves).
HOST = "mail.example.test"
#: Anchor kinds a scenario states expectations for, in display order.
ANCHOR_KINDS: tuple[str, ...] = ("NONE", "USR", "SYS")
#: The reference moment the committed fixtures/ are built for.
FIXTURE_DATE = datetime(2026, 11, 1, tzinfo=UTC)

ROOT_CN = "mailtls Lab Root CA"
INTERMEDIATE_CN = "mailtls Lab Intermediate CA"
LAB_ORG = "mailtls lab (PUBLIC TEST KEY - DO NOT TRUST)"

# Rule ids from ios-trust-rules.md, used in the expectations below.
ANCHOR = "chain_anchor_required"  # §1a AnchorTrusted / MissingIntermediate
TEMPORAL = "temporal_validity"  # §1b
BASIC_CONSTRAINTS = "ca_basic_constraints"  # §1b
KEY_CERT_SIGN = "ca_keycertsign"  # §1b
PATH_LEN = "path_len"  # §1b
NAME_CONSTRAINTS = "name_constraints"  # §1b
CRITICAL_EXTENSION = "unknown_critical_extension"  # §1b
ID_LINKAGE = "id_linkage"  # §1b
EMPTY_SUBJECT = "non_empty_subject"  # §1b
WEAK_KEY = "weak_key_fatal"  # §1b, F
WEAK_SIGNATURE = "weak_signature_fatal"  # §1b, F
KEY_SIZE = "ios13_key_size"  # §1c
SHA2 = "ios13_sha2"  # §1c
SAN_ONLY = "ios13_san_only"  # §1c
DNS_SYNTAX = "san_dns_syntax_filter"  # §1c
HOSTNAME = "hostname_match"  # §1c
IP_NAMES = "ip_address_names"  # §1c
EKU_COMPATIBLE = "leaf_eku_compatible"  # §1c
EKU_SERVER_AUTH = "ios13_eku_serverauth"  # §1c
MAX_825 = "validity_max_other"  # §1c
MAX_398 = "validity_max_system"  # §1c
CT = "ct_required_system"  # §1d
DUPLICATE_EXTENSION = "duplicate_extension"  # §1b unknown_critical_extension row

#: The issue-3 acceptance matrix for real Dovecot/Postfix: (scenario, anchor kind).
#: The verdict each must yield is the scenario's ``expected_verdict[anchor kind]``:
#: needs_profile, prompt, prompt, prompt, prompt, trusted.
REAL_SERVER_MATRIX: tuple[tuple[str, str], ...] = (
    ("self-signed-ca", "NONE"),
    ("self-signed-leaf", "NONE"),
    ("missing-intermediate", "NONE"),
    ("expired", "NONE"),
    ("wrong-host", "NONE"),
    ("good-private", "USR"),
)


@dataclass(frozen=True)
class Scenario:
    """One server configuration and what an iPhone makes of it."""

    name: str
    title: str  # one line
    description: str  # what it is and how it was made (the provenance line)
    host: str  # the name iPhone Mail is configured with
    chain_pem: bytes  # exactly what the server sends, in order (leaf first)
    key_pem: bytes  # the leaf's private key (PKCS#8 PEM; a public lab key)
    root_pem: bytes | None  # the private root for --ca-file / --system-roots
    expected_verdict: dict[str, str]  # anchor kind -> verdict word
    expected_rules: dict[str, tuple[str, ...]]  # anchor kind -> rule ids that must fire
    demo: bool = False  # used by `mailtls demo`
    absent_rules: dict[str, tuple[str, ...]] = field(default_factory=dict)  # must not fire
    at: datetime = FIXTURE_DATE  # the moment it was built for; evaluate at this time
    #: None: any OpenSSL server loads it. 0: OpenSSL 3 refuses the chain or key at its default
    #: security level (SHA-1/MD5 signature, RSA < 2048); serve it with "DEFAULT:@SECLEVEL=0".
    openssl_seclevel: int | None = None
    #: False: OpenSSL (so the lab, Dovecot and Postfix) refuses to load this chain at all
    #: (e.g. duplicate extensions); it exists as files for ``mailtls inspect`` only.
    openssl_loads: bool = True
    #: anchor kind -> ids of other findings that must appear (any severity): deployment and
    #: notice findings, named as mailtls.analysis names them (chain_order, expiry_soon, ...),
    #: and advisory rules such as ios_cts_ui_lists_ca_only.
    expected_notices: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def chain_ders(self) -> tuple[bytes, ...]:
        """The chain as DER, in the order sent."""
        certs = x509.load_pem_x509_certificates(self.chain_pem)
        return tuple(cert.public_bytes(Encoding.DER) for cert in certs)

    @property
    def root_der(self) -> bytes | None:
        if self.root_pem is None:
            return None
        return x509.load_pem_x509_certificate(self.root_pem).public_bytes(Encoding.DER)


# --------------------------------------------------------------------------- building blocks


@dataclass
class _Made:
    chain: list[x509.Certificate]
    key: pki.PrivateKey
    root: x509.Certificate | None


_Builder = Callable[["_Kit"], _Made]


@dataclass(frozen=True)
class _Entry:
    name: str
    title: str
    description: str
    build: _Builder
    host: str
    verdicts: dict[str, str]
    rules: dict[str, tuple[str, ...]]
    absent: dict[str, tuple[str, ...]]
    demo: bool
    openssl_seclevel: int | None
    notices: dict[str, tuple[str, ...]]
    openssl_loads: bool


_REGISTRY: dict[str, _Entry] = {}


def _scenario(
    name: str,
    title: str,
    *,
    verdicts: dict[str, str],
    rules: dict[str, tuple[str, ...]] | None = None,
    absent: dict[str, tuple[str, ...]] | None = None,
    host: str = HOST,
    demo: bool = False,
    openssl_seclevel: int | None = None,
    notices: dict[str, tuple[str, ...]] | None = None,
    openssl_loads: bool = True,
) -> Callable[[_Builder], _Builder]:
    def register(build: _Builder) -> _Builder:
        if name in _REGISTRY:
            raise ValueError(f"duplicate scenario {name!r}")
        description = " ".join((build.__doc__ or "").split())
        _REGISTRY[name] = _Entry(
            name,
            title,
            description,
            build,
            host,
            verdicts,
            rules or {},
            absent or {},
            demo,
            openssl_seclevel,
            notices or {},
            openssl_loads,
        )
        return build

    return register


_KEY_CACHE: dict[str, pki.PrivateKey] = {}


def lab_key(name: str) -> pki.PrivateKey:
    """A committed lab key by file stem ("root", "leaf", "leaf-rsa512", ...). Public; tests only."""
    if name not in _KEY_CACHE:
        data = resources.files("mailtls.lab").joinpath("keys", f"{name}.pem").read_bytes()
        _KEY_CACHE[name] = pki.key_from_pem(data)
    return _KEY_CACHE[name]


def _utc(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


class _Kit:
    """Keys, dates and serials for one scenario built at ``now``."""

    def __init__(self, name: str, now: datetime) -> None:
        self.name = name
        self.now = now
        self.ca_not_before = _utc(now.year - 10)
        self.root_not_after = _utc(now.year + 10)
        self.intermediate_not_after = _utc(now.year + 5)
        self.leaf_not_before = now - timedelta(days=30)
        self.leaf_not_after = self.leaf_not_before + timedelta(days=397)

    def serial(self, role: str) -> int:
        """A fixed serial per (scenario, role): deterministic, positive, < 2**63."""
        digest = hashlib.sha256(f"{self.name}/{role}".encode()).digest()
        return int.from_bytes(digest[:8], "big") >> 1 | 1

    def root(self) -> tuple[x509.Certificate, pki.PrivateKey]:
        """The shared "mailtls Lab Root CA" (same certificate in every scenario)."""
        key = lab_key("root")
        spec = pki.ca_spec(ROOT_CN, org=LAB_ORG)
        cert = pki.issue(
            spec, key, not_before=self.ca_not_before, not_after=self.root_not_after, serial=0x1AB001
        )
        return cert, key

    def other_root(
        self, cn: str, *, key: str = "other-root", **spec: object
    ) -> tuple[x509.Certificate, pki.PrivateKey]:
        """A root that differs on purpose (own name and serial, same lab org; cn "" = no CN)."""
        signer = lab_key(key)
        nb = spec.pop("not_before", self.ca_not_before)
        na = spec.pop("not_after", self.root_not_after)
        cert = pki.issue(
            pki.ca_spec(cn, org=LAB_ORG, **spec),
            signer,
            not_before=nb,  # type: ignore[arg-type]
            not_after=na,  # type: ignore[arg-type]
            serial=self.serial("root"),
        )
        return cert, signer

    def intermediate(
        self,
        root: tuple[x509.Certificate, pki.PrivateKey] | None = None,
        **spec: object,
    ) -> tuple[x509.Certificate, pki.PrivateKey]:
        """The lab intermediate; with ``spec`` knobs or another root it gets its own serial."""
        root_cert, root_key = root or self.root()
        standard = root is None and not spec
        key = lab_key("intermediate")
        cert = pki.issue(
            pki.ca_spec(INTERMEDIATE_CN, org=LAB_ORG, **spec),
            key,
            issuer_cert=root_cert,
            issuer_key=root_key,
            not_before=self.ca_not_before,
            not_after=self.intermediate_not_after,
            serial=0x1AB002 if standard else self.serial("intermediate"),
        )
        return cert, key

    def leaf(
        self,
        spec: pki.CertSpec,
        issuer: tuple[x509.Certificate, pki.PrivateKey] | None,
        *,
        key: str = "leaf",
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> tuple[x509.Certificate, pki.PrivateKey]:
        """A leaf signed by ``issuer``, or self-signed when ``issuer`` is None."""
        leaf_key = lab_key(key)
        cert = pki.issue(
            spec,
            leaf_key,
            issuer_cert=issuer[0] if issuer else None,
            issuer_key=issuer[1] if issuer else None,
            not_before=not_before or self.leaf_not_before,
            not_after=not_after or self.leaf_not_after,
            serial=self.serial("leaf"),
        )
        return cert, leaf_key

    def private_chain(
        self,
        spec: pki.CertSpec | None = None,
        *,
        key: str = "leaf",
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        send_root: bool = False,
    ) -> _Made:
        """Lab root -> lab intermediate -> leaf; sends leaf + intermediate (+ root)."""
        root = self.root()
        intermediate = self.intermediate()
        leaf, leaf_key = self.leaf(
            spec or pki.leaf_spec(HOST),
            intermediate,
            key=key,
            not_before=not_before,
            not_after=not_after,
        )
        chain = [leaf, intermediate[0]] + ([root[0]] if send_root else [])
        return _Made(chain, leaf_key, root[0])


def _leaf(*names: str, cn: str | None = None, **knobs: object) -> pki.CertSpec:
    return pki.leaf_spec(*(names or (HOST,)), cn=cn, **knobs)


# --------------------------------------------------------------------------- the catalogue
# Good chains and the issue-3 real-server matrix first.


@_scenario(
    "good-private",
    "Private CA, full chain sent (leaf + intermediate), 397-day leaf",
    verdicts={"NONE": "prompt", "USR": "trusted", "SYS": "prompt"},
    rules={"NONE": (ANCHOR,), "SYS": (CT,)},
    absent={"SYS": (MAX_398, EKU_SERVER_AUTH, ANCHOR), "NONE": (MAX_825, EKU_SERVER_AUTH)},
    demo=True,
    notices={"USR": ("profile_root_needs_full_trust",)},
)
def _good_private(kit: _Kit) -> _Made:
    """mkcert-style private chain: lab root (RSA-2048, CA:TRUE, CN) -> lab intermediate ->
    leaf mail.example.test (SAN+CN, serverAuth, RSA-2048, SHA-256, notBefore now-30d, 397 days);
    the server sends leaf and intermediate, not the root. Without the root installed the path
    ends at the intermediate (MissingIntermediate); under SYS only CT fails (no SCTs)."""
    return kit.private_chain()


@_scenario(
    "good-private-with-root",
    "Private CA, server also sends its root",
    verdicts={"NONE": "needs_profile", "USR": "trusted", "SYS": "prompt"},
    rules={"NONE": (ANCHOR,), "SYS": (CT,)},
    notices={"NONE": ("chain_root_included",), "USR": ("chain_root_included",)},
)
def _good_private_with_root(kit: _Kit) -> _Made:
    """Same chain as good-private, but the server sends leaf, intermediate and the lab root.
    The path ends in a self-signed CA:TRUE root with a CN that is not trusted (AnchorTrusted):
    installing that root with full trust fixes everything."""
    return kit.private_chain(send_root=True)


@_scenario(
    "self-signed-ca",
    "Self-signed CA:TRUE server certificate (leaf is its own root)",
    verdicts={"NONE": "needs_profile", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (EKU_SERVER_AUTH, MAX_825, KEY_SIZE)},
    demo=True,
)
def _self_signed_ca(kit: _Kit) -> _Made:
    """One self-signed certificate for mail.example.test with basicConstraints CA:TRUE
    (critical), CN and SAN mail.example.test, EKU serverAuth, keyUsage digitalSignature +
    keyEncipherment + keyCertSign, RSA-2048, SHA-256, 397 days. iOS lists it in Certificate
    Trust Settings, so a profile with full trust makes it a user anchor (USR-LEAF)."""
    spec = _leaf(
        is_ca=True,
        key_usage=("digital_signature", "key_encipherment", "key_cert_sign"),
        subject_org=LAB_ORG,
    )
    leaf, key = kit.leaf(spec, None)
    return _Made([leaf], key, leaf)


@_scenario(
    "self-signed-ca-no-cn",
    "Self-signed CA:TRUE server certificate without a subject CN",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("ios_cts_ui_lists_ca_only",)},
)
def _self_signed_ca_no_cn(kit: _Kit) -> _Made:
    """Like self-signed-ca but the subject is only O=mailtls lab (no CN; SAN still
    mail.example.test): reportedly not listed in Certificate Trust Settings, so not
    needs_profile (ios_cts_ui_lists_ca_only)."""
    spec = _leaf(
        is_ca=True,
        key_usage=("digital_signature", "key_encipherment", "key_cert_sign"),
        subject_org=LAB_ORG,
        subject_cn=None,
    )
    leaf, key = kit.leaf(spec, None)
    return _Made([leaf], key, leaf)


@_scenario(
    "self-signed-leaf",
    "Self-signed CA:FALSE server certificate (cannot be offered for full trust)",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("ios_cts_ui_lists_ca_only",)},
)
def _self_signed_leaf(kit: _Kit) -> _Made:
    """One self-signed certificate for mail.example.test with basicConstraints CA:FALSE, SAN and
    CN mail.example.test, serverAuth, RSA-2048, SHA-256, 397 days (like Apple's
    _testSHA2SelfSigned). Not a CA, so Certificate Trust Settings never lists it
    (ios_cts_ui_lists_ca_only): prompt, never needs_profile. Only MDM (USR) can anchor it."""
    leaf, key = kit.leaf(_leaf(), None)
    return _Made([leaf], key, leaf)


@_scenario(
    "missing-intermediate",
    "Private chain served without its intermediate",
    verdicts={"NONE": "prompt", "USR": "prompt", "SYS": "prompt"},
    rules={"NONE": (ANCHOR,), "USR": (ANCHOR,), "SYS": (ANCHOR,)},
    demo=True,
    notices={k: ("chain_missing_intermediate",) for k in ANCHOR_KINDS},
)
def _missing_intermediate(kit: _Kit) -> _Made:
    """The good-private leaf sent alone: its issuer (lab intermediate) is neither sent nor in
    any store and the leaf has no AIA, so no path reaches the root even when the root is
    installed (MissingIntermediate)."""
    made = kit.private_chain()
    return _Made(made.chain[:1], made.key, made.root)


@_scenario(
    "expired",
    "Leaf expired 30 days ago",
    verdicts={"NONE": "prompt", "USR": "prompt", "SYS": "prompt"},
    rules={"NONE": (ANCHOR, TEMPORAL), "USR": (TEMPORAL,), "SYS": (TEMPORAL,)},
)
def _expired(kit: _Kit) -> _Made:
    """Private chain (leaf + intermediate sent); leaf notBefore now-427d, notAfter now-30d
    (397 days), otherwise like good-private."""
    return kit.private_chain(
        not_before=kit.now - timedelta(days=427), not_after=kit.now - timedelta(days=30)
    )


@_scenario(
    "not-yet-valid",
    "Leaf valid only from 7 days from now",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, TEMPORAL), "USR": (TEMPORAL,)},
)
def _not_yet_valid(kit: _Kit) -> _Made:
    """Private chain; leaf notBefore now+7d, 397 days (a clock or a too-early deployment)."""
    nb = kit.now + timedelta(days=7)
    return kit.private_chain(not_before=nb, not_after=nb + timedelta(days=397))


@_scenario(
    "expiring-soon",
    "Valid leaf that expires in 10 days",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"USR": (TEMPORAL,), "NONE": (TEMPORAL,)},
    notices={"NONE": ("expiry_soon",), "USR": ("expiry_soon",)},
)
def _expiring_soon(kit: _Kit) -> _Made:
    """Private chain; leaf notBefore now-387d, notAfter now+10d (397 days): trusted today,
    with an expiry warning (within 30 days)."""
    return kit.private_chain(
        not_before=kit.now - timedelta(days=387), not_after=kit.now + timedelta(days=10)
    )


@_scenario(
    "expired-root",
    "The installed root itself has expired",
    verdicts={"USR": "prompt"},
    rules={"USR": (TEMPORAL,)},
)
def _expired_root(kit: _Kit) -> _Made:
    """Root "mailtls Lab Expired Root CA" (other-root key, notBefore 20 years back, notAfter
    now-1d) -> intermediate -> leaf, all else good; leaf + intermediate sent. Validity is
    checked on every certificate of the path, the trusted root included."""
    root = kit.other_root(
        "mailtls Lab Expired Root CA",
        not_before=_utc(kit.now.year - 20),
        not_after=kit.now - timedelta(days=1),
    )
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(_leaf(), intermediate)
    return _Made([leaf, intermediate[0]], key, root[0])


# Host names ------------------------------------------------------------------------------


@_scenario(
    "wrong-host",
    "Certificate for another name (the hoster's machine name)",
    verdicts={"NONE": "prompt", "USR": "prompt", "SYS": "prompt"},
    rules={"NONE": (ANCHOR, HOSTNAME), "USR": (HOSTNAME,), "SYS": (HOSTNAME,)},
    demo=True,
)
def _wrong_host(kit: _Kit) -> _Made:
    """Private chain whose leaf names only server17.hoster.example (SAN and CN) while Mail is
    configured with mail.example.test: the shared-hosting classic."""
    return kit.private_chain(_leaf("server17.hoster.example"))


@_scenario(
    "cn-only",
    "No SAN; the CN matches (ignored since iOS 13)",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, SAN_ONLY), "USR": (SAN_ONLY,)},
)
def _cn_only(kit: _Kit) -> _Made:
    """Private chain; leaf CN mail.example.test and no subjectAltName extension at all."""
    return kit.private_chain(_leaf(san=None))


@_scenario(
    "wildcard-ok",
    "Wildcard *.example.test for mail.example.test",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (HOSTNAME,)},
)
def _wildcard_ok(kit: _Kit) -> _Made:
    """Private chain; leaf SAN and CN *.example.test (whole left-most label, 3 labels, the
    rest is not a public suffix)."""
    return kit.private_chain(_leaf("*.example.test"))


@_scenario(
    "wildcard-public-suffix",
    "Wildcard over a public suffix (*.co.uk)",
    host="mail.co.uk",
    verdicts={"USR": "prompt"},
    rules={"USR": (HOSTNAME,)},
)
def _wildcard_public_suffix(kit: _Kit) -> _Made:
    """Private chain; leaf SAN and CN *.co.uk, host mail.co.uk: the part after "*." is a
    public suffix, so SecDNSMatch refuses the wildcard. Only a string: nothing resolves it."""
    return kit.private_chain(_leaf("*.co.uk"))


@_scenario(
    "wildcard-partial-label",
    "Partial-label wildcard m*.example.test",
    verdicts={"USR": "prompt"},
    rules={"USR": (HOSTNAME,)},
)
def _wildcard_partial_label(kit: _Kit) -> _Made:
    """Private chain; leaf SAN and CN m*.example.test: partial-label wildcards never match."""
    return kit.private_chain(_leaf("m*.example.test"))


@_scenario(
    "wildcard-too-few-labels",
    "Wildcard with only two labels (*.test)",
    host="example.test",
    verdicts={"USR": "prompt"},
    rules={"USR": (HOSTNAME,)},
)
def _wildcard_too_few_labels(kit: _Kit) -> _Made:
    """Private chain; leaf SAN and CN *.test, host example.test: a wildcard name needs at
    least three labels."""
    return kit.private_chain(_leaf("*.test"))


@_scenario(
    "san-trailing-dot",
    "SAN dNSName with a trailing dot",
    verdicts={"USR": "prompt"},
    rules={"USR": (DNS_SYNTAX,)},
)
def _san_trailing_dot(kit: _Kit) -> _Made:
    """Private chain; leaf SAN dNSName "mail.example.test." (trailing dot), CN without:
    SecFrameworkIsDNSName drops the entry, so nothing matches."""
    return kit.private_chain(_leaf("DNS:mail.example.test.", cn=HOST))


@_scenario(
    "ip-in-san",
    "IP literal host, SAN iPAddress matches",
    host="127.0.0.1",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (IP_NAMES,)},
)
def _ip_in_san(kit: _Kit) -> _Made:
    """Private chain; Mail configured with 127.0.0.1; leaf SAN iPAddress 127.0.0.1, CN
    127.0.0.1."""
    return kit.private_chain(_leaf("IP:127.0.0.1", cn="127.0.0.1"))


@_scenario(
    "ip-in-cn",
    "IP literal host found only in the CN",
    host="127.0.0.1",
    verdicts={"USR": "prompt"},
    rules={"USR": (IP_NAMES,)},
)
def _ip_in_cn(kit: _Kit) -> _Made:
    """Private chain; Mail configured with 127.0.0.1; leaf CN 127.0.0.1, SAN only
    DNS:mail.example.test: an IP in the CN never matches."""
    return kit.private_chain(_leaf(f"DNS:{HOST}", cn="127.0.0.1"))


@_scenario(
    "ip-in-dns-san",
    "IP literal host written as a SAN dNSName",
    host="127.0.0.1",
    verdicts={"USR": "prompt"},
    rules={"USR": (IP_NAMES,)},
)
def _ip_in_dns_san(kit: _Kit) -> _Made:
    """Private chain; Mail configured with 127.0.0.1; leaf SAN dNSName "127.0.0.1" (not an
    iPAddress entry), CN 127.0.0.1: an IP in a dNSName never matches."""
    return kit.private_chain(_leaf("DNS:127.0.0.1", cn="127.0.0.1"))


# Signatures and keys ---------------------------------------------------------------------


@_scenario(
    "sha1-leaf",
    "Leaf signed with SHA-1",
    openssl_seclevel=0,
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, SHA2), "USR": (SHA2,)},
    absent={"USR": (WEAK_SIGNATURE,)},
)
def _sha1_leaf(kit: _Kit) -> _Made:
    """Private chain; the intermediate signs the leaf with sha1WithRSAEncryption (the SHA-256
    TBS re-signed, see mailtls.pki)."""
    return kit.private_chain(_leaf(hash="sha1"))


@_scenario(
    "sha1-root",
    "Self-signed root signed with SHA-1 (allowed)",
    verdicts={"NONE": "needs_profile", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (SHA2,), "USR": (SHA2,)},
)
def _sha1_root(kit: _Kit) -> _Made:
    """Root "mailtls Lab SHA-1 Root CA" (other-root key) self-signed with SHA-1 ->
    intermediate (SHA-256) -> leaf (SHA-256); server sends all three. Self-signed
    certificates are never hash-checked."""
    root = kit.other_root("mailtls Lab SHA-1 Root CA", hash="sha1")
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(_leaf(), intermediate)
    return _Made([leaf, intermediate[0], root[0]], key, root[0])


@_scenario(
    "md5-leaf",
    "Leaf signed with MD5 (fatal)",
    openssl_seclevel=0,
    verdicts={"NONE": "fatal", "USR": "fatal", "SYS": "fatal"},
    rules={"NONE": (WEAK_SIGNATURE, SHA2), "USR": (WEAK_SIGNATURE, SHA2), "SYS": (WEAK_SIGNATURE,)},
)
def _md5_leaf(kit: _Kit) -> _Made:
    """Private chain; the intermediate signs the leaf with md5WithRSAEncryption (re-signed TBS,
    see mailtls.pki): WeakSignature is fatal, Trust cannot help."""
    return kit.private_chain(_leaf(hash="md5"))


@_scenario(
    "rsa1024-leaf",
    "RSA-1024 leaf key",
    openssl_seclevel=0,
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, KEY_SIZE), "USR": (KEY_SIZE,)},
    absent={"USR": (WEAK_KEY,)},
)
def _rsa1024_leaf(kit: _Kit) -> _Made:
    """Private chain; leaf key is the committed RSA-1024 lab key (below 2048, above the
    fatal 1024 minimum)."""
    return kit.private_chain(key="leaf-rsa1024")


@_scenario(
    "rsa1024-root",
    "RSA-1024 root key (roots count too)",
    verdicts={"USR": "prompt"},
    rules={"USR": (KEY_SIZE,)},
    absent={"USR": (WEAK_KEY,)},
)
def _rsa1024_root(kit: _Kit) -> _Made:
    """Root "mailtls Lab RSA-1024 Root CA" with the RSA-1024 lab key -> intermediate (RSA-2048)
    -> leaf (RSA-2048); leaf + intermediate sent. KeySize covers the trusted root as well."""
    root = kit.other_root("mailtls Lab RSA-1024 Root CA", key="root-rsa1024")
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(_leaf(), intermediate)
    return _Made([leaf, intermediate[0]], key, root[0])


@_scenario(
    "rsa512-leaf",
    "RSA-512 leaf key (fatal)",
    openssl_seclevel=0,
    verdicts={"NONE": "fatal", "USR": "fatal", "SYS": "fatal"},
    rules={"NONE": (WEAK_KEY,), "USR": (WEAK_KEY,), "SYS": (WEAK_KEY,)},
)
def _rsa512_leaf(kit: _Kit) -> _Made:
    """Private chain; leaf key is the committed RSA-512 lab key (made with openssl genrsa 512):
    WeakKeySize is fatal. OpenSSL 3 only serves it at @SECLEVEL=0."""
    return kit.private_chain(key="leaf-rsa512")


@_scenario(
    "ed25519-leaf",
    "Ed25519 leaf key (not in Apple's TLS key-size table)",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, KEY_SIZE), "USR": (KEY_SIZE,)},
    absent={"USR": (WEAK_KEY,)},
)
def _ed25519_leaf(kit: _Kit) -> _Made:
    """Private chain; leaf key is the committed Ed25519 lab key (keyUsage digitalSignature),
    signed by the RSA intermediate with SHA-256."""
    return kit.private_chain(_leaf(key_usage=("digital_signature",)), key="leaf-ed25519")


# Extended key usage ------------------------------------------------------------------------


@_scenario(
    "no-eku-after-2019",
    "Leaf without extendedKeyUsage, issued after 2019-06-30",
    verdicts={"NONE": "prompt", "USR": "trusted", "SYS": "prompt"},
    rules={"NONE": (ANCHOR, EKU_SERVER_AUTH), "SYS": (EKU_SERVER_AUTH, CT)},
    absent={"NONE": (EKU_COMPATIBLE,), "SYS": (EKU_COMPATIBLE,)},
)
def _no_eku_after_2019(kit: _Kit) -> _Made:
    """Private chain; leaf has no EKU extension (notBefore now-30d): serverAuth is required
    for NONE and SYS, the check is skipped for a user-trusted root."""
    return kit.private_chain(_leaf(eku=None))


@_scenario(
    "eku-any",
    "Leaf EKU anyExtendedKeyUsage only",
    verdicts={"NONE": "prompt", "USR": "trusted", "SYS": "prompt"},
    rules={"NONE": (ANCHOR,), "SYS": (EKU_SERVER_AUTH, CT)},
    absent={"NONE": (EKU_COMPATIBLE,), "SYS": (EKU_COMPATIBLE,)},
)
def _eku_any(kit: _Kit) -> _Made:
    """Private chain; leaf EKU is only anyExtendedKeyUsage (2.5.29.37.0): TLS-compatible, but
    a system-anchored chain needs serverAuth listed explicitly."""
    return kit.private_chain(_leaf(eku=(ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,)))


@_scenario(
    "eku-clientauth-only",
    "Leaf EKU clientAuth only",
    verdicts={"NONE": "prompt", "USR": "prompt", "SYS": "prompt"},
    rules={
        "NONE": (ANCHOR, EKU_COMPATIBLE, EKU_SERVER_AUTH),
        "USR": (EKU_COMPATIBLE,),
        "SYS": (EKU_COMPATIBLE, EKU_SERVER_AUTH),
    },
    absent={"USR": (EKU_SERVER_AUTH,)},
)
def _eku_clientauth_only(kit: _Kit) -> _Made:
    """Private chain; leaf EKU is only clientAuth: not TLS-server compatible under any root."""
    return kit.private_chain(_leaf(eku=(ExtendedKeyUsageOID.CLIENT_AUTH,)))


@_scenario(
    "intermediate-eku-clientauth",
    "Intermediate restricted to clientAuth",
    verdicts={"USR": "prompt"},
    rules={"USR": (EKU_COMPATIBLE,)},
)
def _intermediate_eku_clientauth(kit: _Kit) -> _Made:
    """Lab root -> intermediate with EKU clientAuth only (own serial) -> good leaf; leaf +
    intermediate sent. Every intermediate with an EKU must allow TLS server use."""
    intermediate = kit.intermediate(eku=(ExtendedKeyUsageOID.CLIENT_AUTH,))
    leaf, key = kit.leaf(_leaf(), intermediate)
    return _Made([leaf, intermediate[0]], key, kit.root()[0])


# Validity periods ----------------------------------------------------------------------------


@_scenario(
    "validity-825-plus-1h",
    "Leaf lifetime exactly 825 days + 1 hour (the limit, passes)",
    verdicts={"NONE": "prompt", "USR": "trusted", "SYS": "prompt"},
    rules={"NONE": (ANCHOR,), "SYS": (MAX_398, CT)},
    absent={"NONE": (MAX_825,), "USR": (MAX_825,)},
)
def _validity_825_plus_1h(kit: _Kit) -> _Made:
    """Private chain; leaf notBefore now-30d, notAfter = notBefore + 825 d + 3600 s, the
    largest lifetime validity_max_other allows."""
    nb = kit.leaf_not_before
    return kit.private_chain(not_before=nb, not_after=nb + timedelta(days=825, seconds=3600))


@_scenario(
    "validity-825-plus-1h-1s",
    "Leaf lifetime 825 days + 1 hour + 1 second (fails)",
    verdicts={"NONE": "prompt", "USR": "prompt", "SYS": "prompt"},
    rules={"NONE": (ANCHOR, MAX_825), "USR": (MAX_825,), "SYS": (MAX_825, MAX_398)},
)
def _validity_825_plus_1h_1s(kit: _Kit) -> _Made:
    """Private chain; leaf notBefore now-30d, notAfter = notBefore + 825 d + 3601 s."""
    nb = kit.leaf_not_before
    return kit.private_chain(not_before=nb, not_after=nb + timedelta(days=825, seconds=3601))


@_scenario(
    "validity-398",
    "Leaf lifetime exactly 398 days (passes even under a system root)",
    verdicts={"USR": "trusted", "SYS": "prompt"},
    rules={"SYS": (CT,)},
    absent={"SYS": (MAX_398,)},
)
def _validity_398(kit: _Kit) -> _Made:
    """Private chain; leaf notBefore now-30d, notAfter = notBefore + 398 × 86 400 s (Apple's
    code compares the plain difference, so this passes)."""
    nb = kit.leaf_not_before
    return kit.private_chain(not_before=nb, not_after=nb + timedelta(days=398))


@_scenario(
    "validity-398-plus-1s",
    "Leaf lifetime 398 days + 1 second (fails only under a system root)",
    verdicts={"USR": "trusted", "SYS": "prompt"},
    rules={"SYS": (MAX_398, CT)},
    absent={"USR": (MAX_398, MAX_825), "SYS": (MAX_825,)},
)
def _validity_398_plus_1s(kit: _Kit) -> _Made:
    """Private chain; leaf notBefore now-30d, notAfter = notBefore + 398 d + 1 s: the 398-day
    rule binds only preinstalled roots, a profile root gets 825 days."""
    nb = kit.leaf_not_before
    return kit.private_chain(not_before=nb, not_after=nb + timedelta(days=398, seconds=1))


# notBefore = 2019-06-30T23:00:00Z is CFAbsoluteTime 583628400 (ios-trust-rules.md §0).
_JULY_2019 = datetime(2019, 6, 30, 23, 0, 0, tzinfo=UTC)


@_scenario(
    "legacy-2018-long-lived",
    "Leaf issued 2018-02-28, no lifetime or CT limit applies",
    verdicts={"NONE": "prompt", "USR": "trusted", "SYS": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"SYS": (CT, MAX_398, MAX_825), "USR": (MAX_825,)},
)
def _legacy_2018_long_lived(kit: _Kit) -> _Made:
    """Private chain; leaf notBefore 2018-02-28T00:00Z (before the 2018-03-01 system 825-day
    rule, the 2018-10-16 CT rule and the 2019 rules), notAfter now+180d, serverAuth: the
    only recent chain trusted under SYS without SCTs."""
    return kit.private_chain(
        not_before=datetime(2018, 2, 28, tzinfo=UTC), not_after=kit.now + timedelta(days=180)
    )


@_scenario(
    "no-eku-2019-boundary",
    "No EKU, notBefore exactly 2019-06-30T23:00Z",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, MAX_825), "USR": (MAX_825,)},
    absent={"NONE": (EKU_SERVER_AUTH,), "USR": (EKU_SERVER_AUTH,)},
)
def _no_eku_2019_boundary(kit: _Kit) -> _Made:
    """Private chain; leaf without EKU, notBefore exactly 2019-06-30T23:00:00Z, notAfter
    now+180d: the EKU rule needs notBefore > that moment (silent), the 825-day rule
    notBefore >= it (fires)."""
    return kit.private_chain(
        _leaf(eku=None), not_before=_JULY_2019, not_after=kit.now + timedelta(days=180)
    )


@_scenario(
    "no-eku-before-2019",
    "No EKU, notBefore one second before 2019-06-30T23:00Z",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (EKU_SERVER_AUTH, MAX_825), "USR": (MAX_825,)},
)
def _no_eku_before_2019(kit: _Kit) -> _Made:
    """Private chain; leaf without EKU, notBefore 2019-06-30T22:59:59Z, notAfter now+180d:
    neither the EKU nor the 825-day rule applies."""
    return kit.private_chain(
        _leaf(eku=None),
        not_before=_JULY_2019 - timedelta(seconds=1),
        not_after=kit.now + timedelta(days=180),
    )


# CA certificates -----------------------------------------------------------------------------


@_scenario(
    "intermediate-not-ca",
    "Intermediate with basicConstraints CA:FALSE",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, BASIC_CONSTRAINTS), "USR": (BASIC_CONSTRAINTS,)},
)
def _intermediate_not_ca(kit: _Kit) -> _Made:
    """Lab root -> "intermediate" with basicConstraints CA:FALSE (keyCertSign still set) ->
    good leaf; leaf + intermediate sent (BasicConstraintsCA)."""
    intermediate = kit.intermediate(is_ca=False)
    leaf, key = kit.leaf(_leaf(), intermediate)
    return _Made([leaf, intermediate[0]], key, kit.root()[0])


@_scenario(
    "intermediate-no-basic-constraints",
    "Intermediate without basicConstraints",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, BASIC_CONSTRAINTS), "USR": (BASIC_CONSTRAINTS,)},
)
def _intermediate_no_basic_constraints(kit: _Kit) -> _Made:
    """Lab root -> v3 intermediate with no basicConstraints extension -> good leaf; leaf +
    intermediate sent (BasicConstraints)."""
    intermediate = kit.intermediate(is_ca=None)
    leaf, key = kit.leaf(_leaf(), intermediate)
    return _Made([leaf, intermediate[0]], key, kit.root()[0])


@_scenario(
    "intermediate-no-keycertsign",
    "Intermediate keyUsage without keyCertSign",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, KEY_CERT_SIGN), "USR": (KEY_CERT_SIGN,)},
)
def _intermediate_no_keycertsign(kit: _Kit) -> _Made:
    """Lab root -> intermediate (CA:TRUE) whose keyUsage is digitalSignature + cRLSign only ->
    good leaf; leaf + intermediate sent."""
    intermediate = kit.intermediate(key_usage=("digital_signature", "crl_sign"))
    leaf, key = kit.leaf(_leaf(), intermediate)
    return _Made([leaf, intermediate[0]], key, kit.root()[0])


@_scenario(
    "root-pathlen-zero",
    "Root with pathLenConstraint 0 above an intermediate",
    verdicts={"USR": "prompt"},
    rules={"USR": (PATH_LEN,)},
)
def _root_pathlen_zero(kit: _Kit) -> _Made:
    """Root "mailtls Lab pathLen-0 Root CA" (other-root key, pathLenConstraint 0) ->
    intermediate -> leaf; leaf + intermediate sent. A trusted anchor's own pathLen applies."""
    root = kit.other_root("mailtls Lab pathLen-0 Root CA", path_length=0)
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(_leaf(), intermediate)
    return _Made([leaf, intermediate[0]], key, root[0])


def _name_constraints_chain(kit: _Kit, permitted: str) -> _Made:
    constraint = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName(permitted)], excluded_subtrees=None
    )
    intermediate = kit.intermediate(extra_extensions=[(constraint, True)])
    leaf, key = kit.leaf(_leaf(), intermediate)
    return _Made([leaf, intermediate[0]], key, kit.root()[0])


@_scenario(
    "name-constraints-violated",
    "Intermediate name-constrained to example.org, leaf for mail.example.test",
    verdicts={"USR": "prompt"},
    rules={"USR": (NAME_CONSTRAINTS,)},
)
def _name_constraints_violated(kit: _Kit) -> _Made:
    """Lab root -> intermediate with critical nameConstraints permitting only DNS example.org
    -> leaf mail.example.test; leaf + intermediate sent."""
    return _name_constraints_chain(kit, "example.org")


@_scenario(
    "name-constraints-ok",
    "Intermediate name-constrained to example.test, leaf inside it",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (NAME_CONSTRAINTS,)},
)
def _name_constraints_ok(kit: _Kit) -> _Made:
    """Lab root -> intermediate with critical nameConstraints permitting DNS example.test ->
    leaf mail.example.test; leaf + intermediate sent."""
    return _name_constraints_chain(kit, "example.test")


# Extensions and structure --------------------------------------------------------------------

# A private-use OID (2.25 UUID arc, RFC 4122 §3 / X.667) that no verifier knows.
_UNKNOWN_OID = ObjectIdentifier("2.25.329800735698586629295641978511506172918")


@_scenario(
    "unknown-critical-extension",
    "Leaf with an unknown critical extension",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, CRITICAL_EXTENSION), "USR": (CRITICAL_EXTENSION,)},
)
def _unknown_critical_extension(kit: _Kit) -> _Made:
    """Private chain; leaf carries extension 2.25.329800735698586629295641978511506172918
    (value DER NULL) marked critical (CriticalExtensions)."""
    ext = x509.UnrecognizedExtension(_UNKNOWN_OID, b"\x05\x00")
    return kit.private_chain(_leaf(extra_extensions=[(ext, True)]))


@_scenario(
    "unknown-noncritical-extension",
    "Leaf with an unknown non-critical extension (ignored)",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (CRITICAL_EXTENSION,)},
)
def _unknown_noncritical_extension(kit: _Kit) -> _Made:
    """Private chain; leaf carries the same unknown extension (value DER NULL), not critical."""
    ext = x509.UnrecognizedExtension(_UNKNOWN_OID, b"\x05\x00")
    return kit.private_chain(_leaf(extra_extensions=[(ext, False)]))


@_scenario(
    "aki-mismatch",
    "Leaf authorityKeyIdentifier does not match the issuer's SKI",
    verdicts={"USR": "prompt"},
    rules={"USR": (ID_LINKAGE,)},
)
def _aki_mismatch(kit: _Kit) -> _Made:
    """Private chain; leaf AKI keyIdentifier is 20 bytes of 0x5A instead of the intermediate's
    SKI (issuer name and signature still correct): IdLinkage."""
    aki = x509.AuthorityKeyIdentifier(b"\x5a" * 20, None, None)
    return kit.private_chain(_leaf(aki=False, extra_extensions=[(aki, False)]))


@_scenario(
    "empty-subject-noncritical-san",
    "Leaf with an empty subject and a non-critical SAN",
    verdicts={"USR": "prompt"},
    rules={"USR": (EMPTY_SUBJECT,)},
)
def _empty_subject_noncritical_san(kit: _Kit) -> _Made:
    """Private chain; leaf subject is the empty name, SAN mail.example.test not marked
    critical (RFC 5280 §4.2.1.6 requires critical): NonEmptySubject."""
    return kit.private_chain(_leaf(cn=None, subject_cn=None))


@_scenario(
    "empty-subject-critical-san",
    "Leaf with an empty subject and a critical SAN",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (EMPTY_SUBJECT,)},
)
def _empty_subject_critical_san(kit: _Kit) -> _Made:
    """Private chain; leaf subject is the empty name, SAN mail.example.test marked critical."""
    return kit.private_chain(_leaf(subject_cn=None, san_critical=True))


@_scenario(
    "wrong-order",
    "Server sends leaf, root, intermediate (scrambled order)",
    verdicts={"NONE": "needs_profile", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("chain_order", "chain_root_included"), "USR": ("chain_order",)},
)
def _wrong_order(kit: _Kit) -> _Made:
    """The good-private-with-root chain sent as leaf, root, intermediate: iOS still builds
    the path (a deployment finding, not a trust failure)."""
    made = kit.private_chain(send_root=True)
    leaf, intermediate, root = made.chain
    return _Made([leaf, root, intermediate], made.key, made.root)


@_scenario(
    "extra-unrelated-cert",
    "Server also sends an unrelated certificate",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("chain_unrelated_certificate",), "USR": ("chain_unrelated_certificate",)},
)
def _extra_unrelated_cert(kit: _Kit) -> _Made:
    """Good-private chain plus the self-signed "mailtls Lab Unrelated CA" (other-root key) at
    the end: ignored by path building (a deployment finding)."""
    made = kit.private_chain()
    unrelated = kit.other_root("mailtls Lab Unrelated CA")
    return _Made([*made.chain, unrelated[0]], made.key, made.root)


@_scenario(
    "root-without-cn",
    "Server sends a private root that has no subject CN",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("ios_cts_ui_lists_ca_only",)},
)
def _root_without_cn(kit: _Kit) -> _Made:
    """Root with subject O=mailtls lab only (other-root key, CA:TRUE) -> intermediate -> leaf;
    server sends all three. Installing the root would fix it, but iOS reportedly does not list
    a root without CN in Certificate Trust Settings: prompt, not needs_profile."""
    root = kit.other_root("")
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(_leaf(), intermediate)
    return _Made([leaf, intermediate[0], root[0]], key, root[0])


@_scenario(
    "root-pathlen-one",
    "Root with pathLenConstraint 1 above one intermediate (allowed)",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    absent={"NONE": (PATH_LEN,)},
)
def _root_pathlen_one(kit: _Kit) -> _Made:
    """Root "mailtls Lab pathLen-1 Root CA" (other-root key, pathLenConstraint 1) ->
    intermediate -> leaf; leaf + intermediate sent."""
    root = kit.other_root("mailtls Lab pathLen-1 Root CA", path_length=1)
    intermediate = kit.intermediate(root)
    leaf, key = kit.leaf(_leaf(), intermediate)
    return _Made([leaf, intermediate[0]], key, root[0])


@_scenario(
    "leaf-is-ca",
    "Server leaf carries basicConstraints CA:TRUE (allowed for TLS)",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
)
def _leaf_is_ca(kit: _Kit) -> _Made:
    """Private chain; the leaf (signed by the intermediate) has CA:TRUE and keyCertSign added:
    the SSL policy has no NotCA check (leaf_may_be_ca)."""
    return kit.private_chain(
        _leaf(is_ca=True, key_usage=("digital_signature", "key_encipherment", "key_cert_sign"))
    )


@_scenario(
    "leaf-keyusage-unusual",
    "Leaf keyUsage without digitalSignature (not checked by the SSL policy)",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
)
def _leaf_keyusage_unusual(kit: _Kit) -> _Made:
    """Private chain; leaf keyUsage is only keyEncipherment (no digitalSignature): the plain SSL
    policy adds no keyUsage requirement (leaf_key_usage_not_checked). A TLS 1.3 stack may still
    refuse it; the trust verdict does not."""
    return kit.private_chain(_leaf(key_usage=("key_encipherment",)))


@_scenario(
    "duplicate-certificate",
    "Server sends the intermediate twice",
    verdicts={"NONE": "prompt", "USR": "trusted"},
    rules={"NONE": (ANCHOR,)},
    notices={"NONE": ("chain_duplicate_certificate",), "USR": ("chain_duplicate_certificate",)},
)
def _duplicate_certificate(kit: _Kit) -> _Made:
    """Good-private chain with the lab intermediate sent twice (leaf, intermediate,
    intermediate): harmless, a deployment notice."""
    made = kit.private_chain()
    return _Made([*made.chain, made.chain[1]], made.key, made.root)


# DER surgery for what cryptography's builder refuses to make (duplicate extensions).


def _der_header(data: bytes, offset: int) -> tuple[int, int]:
    """(header length, content length) of the TLV at ``offset`` (definite lengths only)."""
    first = data[offset + 1]
    if first < 0x80:
        return 2, first
    count = first & 0x7F
    return 2 + count, int.from_bytes(data[offset + 2 : offset + 2 + count], "big")


def _der_children(content: bytes) -> list[bytes]:
    out, offset = [], 0
    while offset < len(content):
        header, length = _der_header(content, offset)
        out.append(content[offset : offset + header + length])
        offset += header + length
    return out


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def _with_duplicated_extension(
    cert: x509.Certificate, oid: ObjectIdentifier, issuer_key: pki.PrivateKey
) -> x509.Certificate:
    """``cert`` with its extension ``oid`` repeated at the end, re-signed (RSA, SHA-256)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    assert isinstance(issuer_key, rsa.RSAPrivateKey)
    tbs = cert.tbs_certificate_bytes
    header, length = _der_header(tbs, 0)
    fields = _der_children(tbs[header : header + length])
    wrapper = fields[-1]  # [3] EXPLICIT Extensions
    assert wrapper[0] == 0xA3
    inner = wrapper[_der_header(wrapper, 0)[0] :]
    extensions = _der_children(inner[_der_header(inner, 0)[0] :])
    wanted = oid.dotted_string
    repeated = [e for e in extensions if _extension_oid(e) == wanted]
    new_tbs = _der(
        0x30,
        b"".join(fields[:-1]) + _der(0xA3, _der(0x30, b"".join(extensions + repeated[:1]))),
    )
    signature = issuer_key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA256())
    algorithm = _der(0x30, bytes.fromhex("06092a864886f70d01010b") + b"\x05\x00")
    return x509.load_der_x509_certificate(
        _der(0x30, new_tbs + algorithm + _der(0x03, b"\x00" + signature))
    )


def _extension_oid(extension: bytes) -> str:
    content = extension[_der_header(extension, 0)[0] :]
    oid_tlv = _der_children(content)[0]
    arcs, value, body = [], 0, oid_tlv[2:]
    for byte in body:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


@_scenario(
    "duplicate-extension",
    "Leaf carries the subjectKeyIdentifier extension twice",
    verdicts={"NONE": "prompt", "USR": "prompt"},
    rules={"NONE": (ANCHOR, DUPLICATE_EXTENSION), "USR": (DUPLICATE_EXTENSION,)},
    openssl_loads=False,
)
def _duplicate_extension(kit: _Kit) -> _Made:
    """Private chain; the leaf's DER was edited to repeat its subjectKeyIdentifier extension
    and re-signed by the intermediate (SHA-256): DuplicateExtension (R). OpenSSL refuses to
    load such a certificate, so no OpenSSL server can send it: a file fixture for inspect."""
    made = kit.private_chain()
    intermediate_key = lab_key("intermediate")
    leaf = _with_duplicated_extension(
        made.chain[0], x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER, intermediate_key
    )
    return _Made([leaf, *made.chain[1:]], made.key, made.root)


# --------------------------------------------------------------------------- public API

SCENARIO_NAMES: tuple[str, ...] = tuple(_REGISTRY)
DEMO_SCENARIOS: tuple[str, ...] = tuple(n for n, e in _REGISTRY.items() if e.demo)
#: name -> one-line title, without building anything (cheap, for listings).
SCENARIO_TITLES: dict[str, str] = {n: e.title for n, e in _REGISTRY.items()}


def build_scenario(name: str, *, now: datetime) -> Scenario:
    """Build the scenario ``name`` for the moment ``now`` (naive means UTC).

    Deterministic: the same ``name`` and ``now`` give byte-identical PEM.
    """
    entry = _REGISTRY.get(name)
    if entry is None:
        raise UsageError(f"unknown scenario {name!r}; valid names: {', '.join(SCENARIO_NAMES)}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    now = now.astimezone(UTC).replace(microsecond=0)
    made = entry.build(_Kit(name, now))
    return Scenario(
        name=name,
        title=entry.title,
        description=entry.description,
        host=entry.host,
        chain_pem=b"".join(pki.cert_to_pem(cert) for cert in made.chain),
        key_pem=pki.key_to_pem(made.key),
        root_pem=pki.cert_to_pem(made.root) if made.root is not None else None,
        expected_verdict=dict(entry.verdicts),
        expected_rules={kind: entry.rules.get(kind, ()) for kind in entry.verdicts},
        demo=entry.demo,
        absent_rules=dict(entry.absent),
        at=now,
        openssl_seclevel=entry.openssl_seclevel,
        expected_notices=dict(entry.notices),
        openssl_loads=entry.openssl_loads,
    )


def build_all(*, now: datetime) -> tuple[Scenario, ...]:
    return tuple(build_scenario(name, now=now) for name in SCENARIO_NAMES)


def write_scenario(s: Scenario, directory: Path, *, force: bool = False) -> dict[str, Path]:
    """Write chain.pem, key.pem (mode 0600) and root.pem (if any) into ``directory``.

    Refuses to overwrite an existing file unless ``force``. Returns {"chain"|"key"|"root": path}.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, tuple[Path, bytes]] = {
        "chain": (directory / "chain.pem", s.chain_pem),
        "key": (directory / "key.pem", s.key_pem),
    }
    if s.root_pem is not None:
        files["root"] = (directory / "root.pem", s.root_pem)
    if not force:
        existing = [str(path) for path, _ in files.values() if path.exists()]
        if existing:
            raise ArtefactError(f"{existing[0]} exists; use --force to overwrite")
    for role, (path, data) in files.items():
        if role == "key":
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        else:
            path.write_bytes(data)
    return {role: path for role, (path, _) in files.items()}


def _describe_chain(chain_pem: bytes) -> str:
    names = []
    for cert in x509.load_pem_x509_certificates(chain_pem):
        cns = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        names.append(str(cns[0].value) if cns else "(empty subject)")
    return ", ".join(names)


def _expectation_text(s: Scenario) -> str:
    parts = []
    for kind in ANCHOR_KINDS:
        if kind not in s.expected_verdict:
            continue
        rules = s.expected_rules.get(kind, ())
        absent = s.absent_rules.get(kind, ())
        detail = ", ".join(rules)
        if absent:
            detail += ("; " if detail else "") + "not " + ", ".join(absent)
        notices = s.expected_notices.get(kind, ())
        if notices:
            detail += ("; " if detail else "") + "notices " + ", ".join(notices)
        parts.append(f"{kind} {s.expected_verdict[kind]}" + (f" ({detail})" if detail else ""))
    return "; ".join(parts)


def provenance_markdown(scenarios: Sequence[Scenario]) -> str:
    """The generated fixtures/PROVENANCE.md: one line per fixture."""
    at = scenarios[0].at.strftime("%Y-%m-%dT%H:%M:%SZ") if scenarios else "?"
    lines = [
        "# Fixture provenance (generated; do not edit)",
        "",
        f"Built for {at} by `python -m mailtls.lab.scenarios build fixtures --at {at[:10]}"
        " --force` from `mailtls/lab/scenarios.py` with `mailtls.pki` (cryptography), the "
        "public lab keys in `mailtls/lab/keys/`, fixed serial numbers and RSA PKCS#1 v1.5 / "
        "Ed25519 signatures (deterministic). Each directory holds `chain.pem` (what the "
        "server sends, in order), `key.pem` (the leaf key) and `root.pem` (the private root). "
        "Expected verdicts per root kind (ios-trust-rules.md §1g): NONE = default stores, "
        "USR = root.pem as `--ca-file`, SYS = root.pem as `--system-roots`; rule ids that "
        "must fire, then those that must not, then other findings that must appear (notices).",
        "",
    ]
    for s in scenarios:
        lines.append(
            f"- **{s.name}** — {s.description} Host `{s.host}`; sends: {_describe_chain(s.chain_pem)}."
            f" Expected: {_expectation_text(s)}."
            + (" Serve with OpenSSL @SECLEVEL=0." if s.openssl_seclevel == 0 else "")
            + ("" if s.openssl_loads else " OpenSSL refuses to load it: files only.")
        )
    return "\n".join(lines) + "\n"


def build_fixtures(directory: Path, *, now: datetime, force: bool = False) -> list[Path]:
    """Write every scenario into ``directory/NAME/`` plus PROVENANCE.md; returns the files."""
    scenarios = build_all(now=now)
    written: list[Path] = []
    for s in scenarios:
        written.extend(write_scenario(s, directory / s.name, force=force).values())
    provenance = directory / "PROVENANCE.md"
    if provenance.exists() and not force:
        raise ArtefactError(f"{provenance} exists; use --force to overwrite")
    provenance.write_text(provenance_markdown(scenarios), encoding="utf-8")
    written.append(provenance)
    return written


def _parse_at(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--at {text!r}: not an ISO date or date-time (e.g. 2026-11-01)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mailtls.lab.scenarios build DIR --at DATE [--force]`` / ``list``."""
    parser = argparse.ArgumentParser(
        prog="python -m mailtls.lab.scenarios", description="Build the scenario catalogue."
    )
    sub = parser.add_subparsers(dest="action", required=True)
    build = sub.add_parser("build", help="write every scenario into DIR/NAME/ + PROVENANCE.md")
    build.add_argument("directory", type=Path)
    build.add_argument("--at", default=FIXTURE_DATE.strftime("%Y-%m-%d"), help="build moment")
    build.add_argument("--force", action="store_true", help="overwrite existing files")
    sub.add_parser("list", help="list scenario names and titles")
    args = parser.parse_args(argv)
    try:
        if args.action == "list":
            for name in SCENARIO_NAMES:
                print(f"{name:32} {_REGISTRY[name].title}")
            return 0
        files = build_fixtures(args.directory, now=_parse_at(args.at), force=args.force)
    except MailtlsError as exc:
        print(f"scenarios: {exc}", file=sys.stderr)
        return 3
    print(f"wrote {len(files)} files under {args.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
