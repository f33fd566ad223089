"""The catalogue's building blocks: the Scenario record, rule ids, the registry, the kit.

:class:`Kit` makes the lab's certificates for one scenario at ``now`` with :mod:`mailtls.pki`:
the committed lab keys, fixed serial numbers per (scenario, role), and dates from ``now``
(CA dates rounded to whole years, so one lab root covers a calendar year).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources

from cryptography import x509

from mailtls import pki

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
        return tuple(pki.cert_to_der(cert) for cert in certs)

    @property
    def root_der(self) -> bytes | None:
        if self.root_pem is None:
            return None
        return pki.cert_to_der(x509.load_pem_x509_certificate(self.root_pem))


# --------------------------------------------------------------------------- building blocks


@dataclass
class Made:
    chain: list[x509.Certificate]
    key: pki.PrivateKey
    root: x509.Certificate | None


Builder = Callable[["Kit"], Made]


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    description: str
    build: Builder
    host: str
    verdicts: dict[str, str]
    rules: dict[str, tuple[str, ...]]
    absent: dict[str, tuple[str, ...]]
    demo: bool
    openssl_seclevel: int | None
    notices: dict[str, tuple[str, ...]]
    openssl_loads: bool


REGISTRY: dict[str, Entry] = {}


def scenario(
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
) -> Callable[[Builder], Builder]:
    def register(build: Builder) -> Builder:
        if name in REGISTRY:
            raise ValueError(f"duplicate scenario {name!r}")
        description = " ".join((build.__doc__ or "").split())
        REGISTRY[name] = Entry(
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


def utc(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


class Kit:
    """Keys, dates and serials for one scenario built at ``now``."""

    def __init__(self, name: str, now: datetime) -> None:
        self.name = name
        self.now = now
        self.ca_not_before = utc(now.year - 10)
        self.root_not_after = utc(now.year + 10)
        self.intermediate_not_after = utc(now.year + 5)
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
    ) -> Made:
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
        return Made(chain, leaf_key, root[0])


def leaf_spec(*names: str, cn: str | None = None, **knobs: object) -> pki.CertSpec:
    """A server leaf spec for ``names`` (default: :data:`HOST`) with ``knobs`` set."""
    return pki.leaf_spec(*(names or (HOST,)), cn=cn, **knobs)
