"""Damaged certificates never crash the reader or the engine (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtls import pki
from mailtls.analysis import describe_certificate
from mailtls.analysis.engine import analyze_chain
from mailtls.analysis.stores import TrustStore
from mailtls.errors import CertificateParseError
from mailtls.model import AnchorKind

_KEY = pki.generate_key("ec", 256)
_T0 = datetime(2025, 1, 1, tzinfo=UTC)
_ROOT = pki.issue(
    pki.ca_spec("Fuzz Root"), _KEY, not_before=_T0, not_after=_T0 + timedelta(days=999)
)
_LEAF = pki.issue(
    pki.leaf_spec("mail.example.test"),
    _KEY,
    issuer_cert=_ROOT,
    issuer_key=_KEY,
    not_before=_T0,
    not_after=_T0 + timedelta(days=90),
)
LEAF = pki.cert_to_der(_LEAF)
ROOT = pki.cert_to_der(_ROOT)
SYSTEM = TrustStore("fuzz", AnchorKind.SYS, (ROOT,))


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(LEAF)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_describe_never_crashes(data: bytes) -> None:
    try:
        info = describe_certificate(data)
    except CertificateParseError:
        return
    assert info.sha256 and isinstance(info.parse_errors, tuple)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged(), st.booleans())
def test_engine_never_crashes(data: bytes, first: bool) -> None:
    chain = [data, ROOT] if first else [LEAF, data, ROOT]
    result = analyze_chain(chain, "mail.example.test", at=_T0 + timedelta(days=1), system=SYSTEM)
    assert result.verdict in ("trusted", "prompt", "fatal", "needs_profile")
    assert not [f for f in result.findings if "bug in mailtls" in f.summary]
