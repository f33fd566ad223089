"""The vocabulary every layer shares: endpoints, probe observations, certificates, findings.

Everything here is a frozen dataclass or a ``StrEnum`` that serialises as its value.
Nothing here does I/O, and "now" is always a parameter, never read from a clock.

Contract for the other layers (add fields freely, never rename or remove one: the JSON
output and scripts depend on these names):

* ``probe`` produces :class:`ProbeResult` for an :class:`Endpoint`.
* ``analysis`` turns a chain (DER bytes) into :class:`CertificateInfo` and an
  :class:`Analysis` (verdict + findings); it never imports ``probe``.
* ``service`` joins them into :class:`EndpointReport` and :class:`Report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# --------------------------------------------------------------------------- services


class Protocol(StrEnum):
    IMAP = "imap"
    POP3 = "pop3"
    SMTP = "smtp"


class TlsMode(StrEnum):
    STARTTLS = "starttls"
    IMPLICIT = "implicit"


@dataclass(frozen=True, slots=True)
class Service:
    """One way iPhone Mail reaches a mail host: a URL scheme, its protocol, TLS mode and port."""

    scheme: str
    protocol: Protocol
    tls_mode: TlsMode
    default_port: int
    role: str  # "incoming" or "outgoing", for sentences a person reads


SERVICES: dict[str, Service] = {
    "imaps": Service("imaps", Protocol.IMAP, TlsMode.IMPLICIT, 993, "incoming"),
    "imap": Service("imap", Protocol.IMAP, TlsMode.STARTTLS, 143, "incoming"),
    "pop3s": Service("pop3s", Protocol.POP3, TlsMode.IMPLICIT, 995, "incoming"),
    "pop3": Service("pop3", Protocol.POP3, TlsMode.STARTTLS, 110, "incoming"),
    "submissions": Service("submissions", Protocol.SMTP, TlsMode.IMPLICIT, 465, "outgoing"),
    "submission": Service("submission", Protocol.SMTP, TlsMode.STARTTLS, 587, "outgoing"),
    "smtp": Service("smtp", Protocol.SMTP, TlsMode.STARTTLS, 25, "outgoing"),
}
SCHEME_ALIASES: dict[str, str] = {"smtps": "submissions"}

#: The sweep iPhone Mail can use for a bare host name, in this order.
IPHONE_SWEEP: tuple[str, ...] = (
    "imaps",
    "imap",
    "pop3s",
    "pop3",
    "submissions",
    "submission",
    "smtp",
)


def service_for_scheme(scheme: str) -> Service:
    """Look up a scheme (aliases included); raises KeyError for an unknown scheme."""
    scheme = scheme.lower()
    return SERVICES[SCHEME_ALIASES.get(scheme, scheme)]


# --------------------------------------------------------------------------- endpoints


@dataclass(frozen=True, slots=True, order=True)
class Endpoint:
    """One (scheme, host, port, address) to probe.

    ``host`` is the name iPhone Mail is configured with, in ASCII (IDNA A-label) form,
    without a trailing dot; it is used for SNI and for the name check. ``address`` is the
    IP actually connected to (``None`` until resolved).
    """

    scheme: str
    host: str
    port: int
    address: str | None = None

    @property
    def service(self) -> Service:
        return service_for_scheme(self.scheme)

    @property
    def protocol(self) -> Protocol:
        return self.service.protocol

    @property
    def tls_mode(self) -> TlsMode:
        return self.service.tls_mode

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def with_address(self, address: str) -> Endpoint:
        return Endpoint(self.scheme, self.host, self.port, address)


# --------------------------------------------------------------------------- probing


class Status(StrEnum):
    """Outcome of probing one endpoint. Only ``ok`` carries a chain."""

    OK = "ok"
    NO_TLS = "no_tls"  # STARTTLS not offered or refused
    REFUSED = "refused"  # TCP connection refused
    TIMEOUT = "timeout"  # a phase or the overall deadline ran out
    HANDSHAKE_FAILED = "handshake_failed"  # TLS alert, garbage, closed during handshake
    PROTOCOL_ERROR = "protocol_error"  # server spoke something we could not follow
    DNS_ERROR = "dns_error"  # host name did not resolve
    UNREACHABLE = "unreachable"  # network/host unreachable, other socket errors
    ERROR = "error"  # anything else (a bug in mailtls if it ever shows)


class Phase(StrEnum):
    DNS = "dns"
    CONNECT = "connect"
    GREETING = "greeting"
    CAPABILITIES = "capabilities"
    STARTTLS = "starttls"
    HANDSHAKE = "handshake"
    VERSIONS = "versions"


#: Protocol version names as Python's ssl module prints them.
TLS_VERSIONS: tuple[str, ...] = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the plaintext dialog showed before TLS (STARTTLS variants only)."""

    greeting: str = ""
    starttls_offered: bool | None = None  # None: the protocol has no capability list
    login_disabled: bool | None = None  # IMAP LOGINDISABLED before TLS
    auth_before_tls: tuple[str, ...] = ()  # SASL mechanisms offered in plaintext
    plaintext_login_offered: bool = False  # IMAP LOGIN / POP3 USER usable in plaintext
    raw: tuple[str, ...] = ()  # capability lines as received (bounded)
    #: Bytes the server sent after its STARTTLS "go ahead" and before the handshake.
    #: Never interpreted; their presence is reported (STARTTLS injection class).
    injected_plaintext: bool = False


@dataclass(frozen=True, slots=True)
class ProbeResult:
    endpoint: Endpoint
    status: Status
    phase: Phase | None = None  # phase where it failed (None when ok)
    error: str | None = None  # one line a person can act on (None when ok)
    tls_version: str | None = None
    cipher: str | None = None
    chain: tuple[bytes, ...] = ()  # DER, exactly as presented, in order
    #: version name -> accepted? (None: not tested or could not tell)
    accepted_tls_versions: dict[str, bool | None] = field(default_factory=dict)
    capabilities: Capabilities | None = None
    elapsed_ms: float = 0.0
    started_at: datetime | None = None


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """The fields of one certificate that matter for iOS, as JSON-able values.

    Always available, even for an expired, untrusted or partly unparseable certificate:
    what could not be decoded is listed in ``parse_errors``.
    """

    index: int  # position in the chain as presented (0 = what the server sent first)
    sha256: str  # lowercase hex of the DER
    sha1: str
    subject: str  # RFC 4514 string
    issuer: str
    serial: str  # lowercase hex
    not_before: datetime | None
    not_after: datetime | None
    san: tuple[str, ...]  # "DNS:name", "IP:addr", "email:..", "URI:..", "other:.."
    key_type: str  # "RSA", "EC", "Ed25519", "Ed448", "DSA", "unknown"
    key_size: int | None  # bits; curve size for EC
    signature_algorithm: str  # e.g. "sha256WithRSAEncryption"
    signature_hash: str | None  # "sha256", "sha1", "md5", ... (None: EdDSA / unknown)
    basic_constraints: (
        dict[str, Any] | None
    )  # {"ca": bool, "path_length": int|None, "critical": bool}
    eku: tuple[str, ...] | None  # names ("serverAuth") or dotted OIDs; None = no extension
    key_usage: tuple[str, ...] | None
    self_signed: bool  # subject == issuer and the signature verifies with its own key
    version: int = 3
    subject_cn: str | None = None
    validity_days: float | None = None
    ski: str | None = None
    aki: str | None = None
    extensions: tuple[dict[str, Any], ...] = ()  # {"oid","name","critical"}
    parse_errors: tuple[str, ...] = ()
    der: bytes = field(default=b"", repr=False, compare=False)


# --------------------------------------------------------------------------- judging


class AnchorKind(StrEnum):
    """What kind of root the chain ends in on the iPhone (ios-trust-rules.md §1g)."""

    SYS = "SYS"  # preinstalled system root
    USR = "USR"  # root installed by profile with full trust, or by MDM
    USR_LEAF = "USR-LEAF"  # the leaf itself is trusted as an anchor
    NONE = "NONE"  # not anchored: unknown root or incomplete chain


class ResultClass(StrEnum):
    """Apple's result classes (SecPolicyChecks.list)."""

    RECOVERABLE = "recoverable"  # R: Mail prompts; "Trust" can store an exception
    FATAL = "fatal"  # F: no button makes it work
    DENY = "deny"  # D: explicitly distrusted


class Severity(StrEnum):
    """How bad a finding is, worst first; :attr:`rank` orders them."""

    FATAL = "fatal"  # the connection cannot work
    ERROR = "error"  # iPhone prompts / fails
    WARNING = "warning"  # works today, will break or is fragile (expiry soon, TLS 1.0)
    INFO = "info"  # worth knowing, nothing breaks

    @property
    def rank(self) -> int:
        """0 info .. 3 fatal: higher is worse (sort worst first with ``-rank``)."""
        return _SEVERITY_RANKS[self]


class Category(StrEnum):
    TRUST = "trust"  # a trust rule of the iOS engine
    DEPLOYMENT = "deployment"  # what the server sent: order, missing intermediate, extras
    TRANSPORT = "transport"  # TLS versions, STARTTLS, AUTH before TLS (§1f)
    CONSISTENCY = "consistency"  # addresses/ports of one host differ
    DISCOVERY = "discovery"  # names from DNS vs the certificate
    NOTICE = "notice"  # expiry warnings, leaf changed since last check, ...


class Verdict(StrEnum):
    """What the iPhone does with a chain, best first. The values are the JSON contract;
    :attr:`label` is the word people read, :attr:`rank` the order."""

    TRUSTED = "trusted"  # Mail connects without a prompt
    NEEDS_PROFILE = "needs_profile"  # only the root is missing; install + full trust fixes it
    PROMPT = "prompt"  # "Cannot Verify Server Identity"; Trust stores a per-cert exception
    FATAL = "fatal"  # no button makes it work

    @property
    def rank(self) -> int:
        """0 trusted .. 3 fatal: higher is worse."""
        return _VERDICT_RANKS[self]

    @property
    def label(self) -> str:
        """TRUSTED, NEEDS PROFILE, PROMPT, FATAL: the JSON word, spelled for people. The
        text report, the TUI, Nagios output and the runbooks all show this word."""
        return self.value.replace("_", " ").upper()


_SEVERITY_RANKS: dict[Severity, int] = {s: r for r, s in enumerate(reversed(Severity))}
_VERDICT_RANKS: dict[Verdict, int] = {v: r for r, v in enumerate(Verdict)}


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str  # stable id from ios-trust-rules.md, e.g. "ios13_san_only"
    title: str  # short, e.g. "Host name not in the certificate"
    category: Category
    severity: Severity
    summary: str  # one plain sentence: what is wrong
    check_key: str | None = None  # Apple's key, e.g. "SSLHostname"
    result_class: ResultClass | None = None  # trust rules only
    cert_index: int | None = None  # index in the presented chain (None: whole chain)
    evidence: dict[str, Any] = field(default_factory=dict)  # values that decided it
    user_sees: str = ""  # what the iPhone user sees
    fix: str = ""  # what to do
    citation: str = ""  # Apple document / source file
    remedy: str | None = None  # recovery path id: "profile", "reissue", "stale_exception", ...


@dataclass(frozen=True, slots=True)
class PathElement:
    """One certificate of the path iOS would build, leaf first."""

    source: str  # "presented" or the trust store's label
    index: int | None  # index in the presented chain, when it came from there
    sha256: str
    subject: str


@dataclass(frozen=True, slots=True, weakref_slot=True)  # weakref: caches and tests follow it weakly
class Analysis:
    verdict: Verdict
    anchor_kind: AnchorKind
    host: str
    evaluated_at: datetime
    ios_version: str
    chain: tuple[CertificateInfo, ...]  # as presented
    path: tuple[PathElement, ...]  # as iOS would build it
    findings: tuple[Finding, ...]
    summary: str  # one sentence a help-desk person can read out
    user_sees: str  # what the iPhone shows
    trust_store: str = ""  # label of the system store used, said honestly


@dataclass(frozen=True, slots=True, weakref_slot=True)  # weakref: caches and tests follow it weakly
class EndpointReport:
    probe: ProbeResult
    analysis: Analysis | None  # None when no chain was captured
    findings: tuple[Finding, ...] = ()  # transport findings (§1f), separate from trust

    @property
    def endpoint(self) -> Endpoint:
        return self.probe.endpoint

    @property
    def verdict(self) -> Verdict | None:
        return self.analysis.verdict if self.analysis else None


@dataclass(frozen=True, slots=True)
class HostSource:
    """Where a host name came from (discovery from an e-mail address or domain)."""

    host: str
    source: str  # "argument", "SRV _imaps._tcp.example.com", "MX", "guess imap."
    schemes: tuple[str, ...] = ()  # services this source says the host offers
    port: int | None = None


@dataclass(frozen=True, slots=True)
class Report:
    targets: tuple[str, ...]
    endpoints: tuple[EndpointReport, ...]
    started_at: datetime
    finished_at: datetime
    findings: tuple[Finding, ...] = ()  # across endpoints: consistency, discovery, history
    hosts: tuple[HostSource, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()  # target-level errors (bad input), one line each
