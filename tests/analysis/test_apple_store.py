"""Apple's trust store as the default system store, and the certifi stand-in (issue 14).

Stores are built in throwaway data directories from the shared copy of Apple's published
store (``../shared/apple-trust-store``), with roots of our own laid out the way Apple lays
them out (``roots/<SHA-256>.cer``, ``constraints.json``). The stand-in is given a bundle
we write, so no test depends on the certifi bundle of the machine.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from mailtls import pki, roots
from mailtls.analysis import applefacts, stores
from mailtls.analysis.applefacts import facts_json
from mailtls.analysis.certs import describe_certificate, parse_certificate
from mailtls.analysis.engine import analyze_chain
from mailtls.analysis.stores import system_store
from mailtls.model import Analysis, AnchorKind, Verdict
from tests.conftest import SHARED_STORE

pytestmark = pytest.mark.skipif(not SHARED_STORE.is_dir(), reason="no ../shared/apple-trust-store")

AT = datetime(2026, 6, 1, tzinfo=UTC)
#: Our own leaves are judged at a moment before Certificate Transparency was required for
#: them (notBefore < 2018-10-16): no test can make SCTs that Apple's log list accepts.
OWN_AT = datetime(2019, 3, 1, tzinfo=UTC)
HOST = "mail.example.test"
#: A real CA certificate (custom/ of Apple's store) issued by "Entrust Root Certification
#: Authority", a root in Apple's store that Mozilla's list no longer has.
ENTRUST_CA = "C97F2F6E6A8ADB6ECFE4978F08CA8F6F0123A94784522B610ADF6"
REMOVED_ROOT = "removed/StartCom May 2013 G2.der"
RESTRICTED_ROOT = "0CB9124CADFF41D02701F59B477D71E2690B38ADD9F524C49BBED0140AD9B9EC"  # Apple Platform Code Signing


def _der(cert: x509.Certificate) -> bytes:
    return pki.cert_to_der(cert)


def _sha(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest().upper()


def _apple_root(subject: str) -> bytes:
    """The root of Apple's store with this subject (mailtls's reader: some roots have
    serial numbers that cryptography warns about)."""
    return next(
        p.read_bytes()
        for p in sorted((SHARED_STORE / "roots").glob("*.cer"))
        if describe_certificate(p.read_bytes()).subject == subject
    )


def _shared(prefix: str, folder: str = "custom") -> bytes:
    (path,) = sorted((SHARED_STORE / folder).glob(prefix + "*"))
    return path.read_bytes()


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MAILTLS_DATA_DIR", str(tmp_path / "data"))
    stores._system_store.cache_clear()
    yield
    stores._system_store.cache_clear()


class Pki:
    def __init__(self) -> None:
        self.root_key = pki.generate_key("ec", 256)
        self.leaf_key = pki.generate_key("ec", 256)
        nb = OWN_AT - timedelta(days=400)
        self.root = pki.issue(
            pki.ca_spec("Own Public Root"),
            self.root_key,
            not_before=nb,
            not_after=nb + timedelta(days=7300),
        )
        self.leaf = pki.issue(
            pki.leaf_spec(HOST),
            self.leaf_key,
            issuer_cert=self.root,
            issuer_key=self.root_key,
            not_before=datetime(2018, 9, 1, tzinfo=UTC),
            not_after=datetime(2019, 9, 1, tzinfo=UTC),
        )


@pytest.fixture(scope="module")
def own() -> Pki:
    return Pki()


def _store_copy(
    tmp_path: Path, own: Pki, *, constraints: list[str] | None = None, removed: bool = False
) -> Path:
    """The shared store with our own root added, laid out as Apple lays it out."""
    copy = tmp_path / "store"
    shutil.copytree(SHARED_STORE, copy)
    der = _der(own.root)
    (copy / ("removed" if removed else "roots") / f"{_sha(der)}.cer").write_bytes(der)
    if constraints is not None:
        data = json.loads((copy / "constraints.json").read_text())
        data["system"][_sha(der)] = constraints
        (copy / "constraints.json").write_text(json.dumps(data))
    return copy


def _standin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *ders: bytes) -> None:
    """The stand-in reads this bundle instead of the machine's certifi."""
    from cryptography.hazmat.primitives.serialization import Encoding

    bundle = tmp_path / "cacert.pem"
    bundle.write_bytes(
        b"".join(x509.load_der_x509_certificate(d).public_bytes(Encoding.PEM) for d in ders)
    )
    monkeypatch.setattr(stores, "certifi_bundle", lambda: (bundle, "2099.01.01"))


def _judge(chain: list[bytes], host: str | None = HOST, at: datetime = AT) -> Analysis:
    return analyze_chain(chain, host, at=at, system=system_store())


def _own(chain: list[bytes]) -> Analysis:
    return _judge(chain, at=OWN_AT)


def _rules(analysis: Analysis) -> set[str]:
    return {f.rule_id for f in analysis.findings}


# ------------------------------------------------------------------ Apple's store, imported


def test_a_chain_to_a_root_of_apples_store_is_trusted_with_no_flag(
    tmp_path: Path, own: Pki
) -> None:
    roots.import_from(_store_copy(tmp_path, own))
    store = system_store()
    assert store.source == "apple" and store.version == 2025072000
    assert store.label == "Apple trust store 2025072000 (157 roots)"
    analysis = _own([_der(own.leaf)])
    assert analysis.verdict is Verdict.TRUSTED, _rules(analysis)
    assert analysis.anchor_kind is AnchorKind.SYS
    assert "2025072000" in analysis.trust_store


def test_a_real_ca_below_an_apple_only_root_anchors_at_it(tmp_path: Path) -> None:
    roots.import_from(SHARED_STORE)
    analysis = _judge([_shared(ENTRUST_CA)], host=None)
    assert analysis.anchor_kind is AnchorKind.SYS
    assert analysis.path[-1].subject.startswith("CN=Entrust Root Certification Authority")
    assert not _rules(analysis) & {"chain_anchor_required", "store_root_not_verified"}


def test_a_root_only_in_mozillas_list_does_not_anchor(
    tmp_path: Path, own: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    roots.import_from(SHARED_STORE)  # without our root: to Apple's store it is nobody
    _standin(monkeypatch, tmp_path, _der(own.root))
    analysis = _own([_der(own.leaf)])
    assert analysis.verdict is not Verdict.TRUSTED
    assert "chain_anchor_required" in _rules(analysis)


def test_a_root_apple_removed_is_named_and_never_offered_as_a_profile(tmp_path: Path) -> None:
    roots.import_from(SHARED_STORE)
    root = (SHARED_STORE / REMOVED_ROOT).read_bytes()
    analysis = _judge([root], host=None)
    assert analysis.verdict is Verdict.PROMPT  # not needs_profile: re-trusting it is no fix
    (finding,) = [f for f in analysis.findings if f.rule_id == "store_root_removed"]
    assert "removed from Apple's store" in finding.summary
    assert "chain_anchor_required" not in _rules(analysis)


def test_a_missing_issuer_that_apple_removed_is_named(tmp_path: Path, own: Pki) -> None:
    roots.import_from(_store_copy(tmp_path, own, removed=True))
    analysis = _own([_der(own.leaf)])
    (finding,) = [f for f in analysis.findings if f.rule_id == "store_root_removed"]
    assert "Own Public Root" in finding.summary
    assert not _rules(analysis) & {"chain_anchor_required", "chain_missing_intermediate"}


@pytest.mark.parametrize(
    ("policies", "trusted"),
    [
        (["1.2.840.113635.100.1.16"], False),  # code signing only
        (["1.2.840.113635.100.1.3.2"], False),  # SSL client only
        (["1.2.840.113635.100.1.2", "1.2.840.113635.100.1.3.1"], True),  # SSL server among them
        (["1.2.840.113635.100.1.3"], True),  # the compatibility OID
    ],
)
def test_constraints_limit_a_root_to_apples_policies(
    tmp_path: Path, own: Pki, policies: list[str], trusted: bool
) -> None:
    roots.import_from(_store_copy(tmp_path, own, constraints=policies))
    analysis = _own([_der(own.leaf)])
    assert (analysis.verdict is Verdict.TRUSTED) is trusted, _rules(analysis)
    assert ("store_root_restricted" in _rules(analysis)) is not trusted


def test_apples_own_restricted_roots_do_not_anchor_tls(tmp_path: Path) -> None:
    roots.import_from(SHARED_STORE)
    analysis = _judge([(SHARED_STORE / "roots" / f"{RESTRICTED_ROOT}.cer").read_bytes()], host=None)
    assert "store_root_restricted" in _rules(analysis)
    assert analysis.anchor_kind is AnchorKind.NONE


def test_the_gts_roots_listed_under_custom_still_anchor(tmp_path: Path) -> None:
    """constraints.json's "custom" records serve other policies; they limit nothing for TLS."""
    roots.import_from(SHARED_STORE)
    store = system_store()
    (gts,) = (SHARED_STORE / "roots").glob("349DFA4058*.cer")
    assert store.contains(parse_certificate(gts.read_bytes()))


# ------------------------------------------------------------------ the certifi stand-in


def test_without_a_cached_store_the_standin_is_labelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _standin(monkeypatch, tmp_path)
    store = system_store()
    assert store.source == "standin"
    assert "stand-in" in store.label and "mailtls roots update" in store.hint


def test_the_standin_never_trusts_a_root_apple_lacks(
    tmp_path: Path, own: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    _standin(monkeypatch, tmp_path, _der(own.root))
    assert len(system_store()) == 0  # our root is not one of Apple's
    analysis = _own([_der(own.leaf)])
    assert analysis.verdict is not Verdict.TRUSTED


def test_the_standin_names_a_missing_apple_root_instead_of_a_private_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _standin(monkeypatch, tmp_path)  # the bundle lacks Entrust's root
    analysis = _judge([_shared(ENTRUST_CA)], host=None)
    assert analysis.verdict is not Verdict.TRUSTED
    (finding,) = [f for f in analysis.findings if f.rule_id == "store_root_not_verified"]
    assert (
        finding.summary
        == (
            "The iPhone trusts 'Entrust Root Certification Authority - G2'; mailtls could not verify "
            "the signature here: run `mailtls roots update`."
        )
        or "The iPhone trusts 'Entrust Root Certification Authority" in finding.summary
    )
    text = " ".join(f"{f.summary} {f.fix}" for f in analysis.findings)
    assert "private root" not in text


def test_the_standin_keeps_roots_apple_also_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entrust_root = _apple_root(describe_certificate(_shared(ENTRUST_CA)).issuer)
    _standin(monkeypatch, tmp_path, entrust_root)
    assert len(system_store()) == 1
    analysis = _judge([_shared(ENTRUST_CA)], host=None)
    assert analysis.anchor_kind is AnchorKind.SYS


def test_the_standin_anchors_an_apple_root_the_server_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A presented certificate with the fingerprint of one of Apple's roots is that root."""
    _standin(monkeypatch, tmp_path)
    ca = _shared(ENTRUST_CA)
    root = _apple_root(describe_certificate(ca).issuer)
    analysis = _judge([ca, root], host=None)
    assert analysis.anchor_kind is AnchorKind.SYS


# ------------------------------------------------------------------ the facts mailtls carries


def test_the_facts_file_is_made_from_apples_store_and_holds_only_facts() -> None:
    assert facts_json(SHARED_STORE) == applefacts.FACTS_FILE.read_text(encoding="utf-8"), (
        "remake it: scripts/apple-store-facts ../shared/apple-trust-store"
    )
    data = json.loads(applefacts.FACTS_FILE.read_text(encoding="utf-8"))
    assert set(data) == {"version", "roots"}
    for entry in data["roots"]:
        assert set(entry) <= {"sha256", "subject", "key_id", "status", "policies"}
    statuses = [e["status"] for e in data["roots"]]
    assert statuses.count("trusted") + statuses.count("restricted") == 156
