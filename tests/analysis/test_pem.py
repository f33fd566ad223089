"""PEM blocks: the find-based scanner agrees with the regular expression that defines it."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

import certifi
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.analysis.certs import parse_certificate, pem_blocks
from mailtls.analysis.stores import _subject_of, system_store

#: The definition of a PEM block (what the package's scanner used to be).
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)


def reference(data: bytes) -> list[tuple[str, bytes]]:
    """The definition: every match of _PEM_BLOCK, header and blank lines left out."""
    blocks = []
    for match in _PEM_BLOCK.finditer(data):
        body = b"".join(
            line for line in match.group(2).splitlines() if line.strip() and b":" not in line
        )
        blocks.append((match.group(1).decode("ascii"), base64.b64decode(body, validate=False)))
    return blocks


def outcome(function, data: bytes):  # type: ignore[no-untyped-def]
    try:
        return function(data)
    except (binascii.Error, ValueError) as exc:
        return type(exc)


def test_certifi_bundle_reads_the_same() -> None:
    data = Path(certifi.where()).read_bytes()
    assert pem_blocks(data) == reference(data) and len(pem_blocks(data)) > 100


pieces = st.sampled_from(
    [
        b"-----BEGIN CERTIFICATE-----",
        b"-----END CERTIFICATE-----",
        b"-----BEGIN PRIVATE KEY-----",
        b"-----END PRIVATE KEY-----",
        b"-----BEGIN x-----",
        b"-----BEGIN ",
        b"-----END ",
        b"-----",
        b"MIIB",
        b"AAAA",
        b"QUJD",
        b"=",
        b"\n",
        b"\r\n",
        b" ",
        b"Proc-Type: 4,ENCRYPTED",
        b"junk",
    ]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(pieces, max_size=24).map(b"".join))
def test_scanner_agrees_with_the_regular_expression(data: bytes) -> None:
    assert outcome(pem_blocks, data) == outcome(reference, data)


def test_subject_index_of_the_bundle() -> None:
    store = system_store(None)
    for der in store.certificates:
        assert _subject_of(der) == parse_certificate(der).subject_der
    assert _subject_of(b"\x30\x03\x02\x01\x01") == b""
    assert _subject_of(b"") == b""
