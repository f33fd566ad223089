"""The lenient DER/BER reader: the encodings real certificates carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailtls.analysis import asn1


def test_short_and_long_lengths() -> None:
    short = asn1.encode(asn1.OCTET_STRING, b"x" * 5)
    long = asn1.encode(asn1.OCTET_STRING, b"x" * 300)
    assert asn1.read_single(short).content == b"x" * 5
    item = asn1.read_single(long)
    assert item.content == b"x" * 300 and item.quirks == ()


def test_non_minimal_length_is_read_and_noted() -> None:
    item = asn1.read_single(b"\x04\x81\x02ab")
    assert item.content == b"ab" and item.quirks == ("non-minimal length",)


def test_ber_indefinite_length() -> None:
    data = b"\x30\x80" + asn1.encode_integer(5) + b"\x00\x00"
    item = asn1.read_single(data)
    assert item.quirks == ("indefinite length",)
    assert asn1.decode_integer(item.children()[0].content) == 5


def test_high_tag_numbers() -> None:
    item = asn1.read_single(b"\x9f\x81\x00\x01\x07")
    assert item.number == 128 and item.content == b"\x07"


@pytest.mark.parametrize(
    "data", [b"\x04\x05ab", b"\x04", b"\x30\x80\x02\x01\x01", b"\x04\x85\x01\x01\x01\x01\x01"]
)
def test_truncated_or_bad_data_raises(data: bytes) -> None:
    with pytest.raises(asn1.DerError):
        asn1.read_single(data)


def test_trailing_bytes_are_an_error() -> None:
    with pytest.raises(asn1.DerError, match="extra bytes"):
        asn1.read_single(asn1.encode_integer(1) + b"\x00")


def test_oid_round_trip() -> None:
    for dotted in ("2.5.29.17", "1.2.840.113549.1.1.11", "2.999.3", "1.3.6.1.4.1.11129.2.4.2"):
        assert asn1.decode_oid(asn1.read_single(asn1.encode_oid(dotted)).content) == dotted


def _time(tag: int, text: str) -> datetime:
    return asn1.decode_time(asn1.read_single(asn1.encode(tag, text.encode())))


def test_time_variants() -> None:
    assert _time(asn1.UTC_TIME, "250101120000Z") == datetime(2025, 1, 1, 12, tzinfo=UTC)
    assert _time(asn1.UTC_TIME, "491231235959Z").year == 2049
    assert _time(asn1.UTC_TIME, "500101000000Z").year == 1950
    assert _time(asn1.UTC_TIME, "2501011200Z") == datetime(2025, 1, 1, 12, tzinfo=UTC)  # no seconds
    assert _time(asn1.UTC_TIME, "250101120000+0100") == datetime(2025, 1, 1, 11, tzinfo=UTC)
    assert _time(asn1.GENERALIZED_TIME, "20500101000000Z") == datetime(2050, 1, 1, tzinfo=UTC)
    assert _time(asn1.GENERALIZED_TIME, "20250101000000.5Z") == datetime(
        2025, 1, 1, tzinfo=UTC
    ) + timedelta(seconds=0.5)
    with pytest.raises(asn1.DerError):
        _time(asn1.UTC_TIME, "25013X000000Z")


def test_strings_never_raise() -> None:
    latin = asn1.read_single(asn1.encode(asn1.UTF8_STRING, b"caf\xe9"))
    assert asn1.decode_string(latin) == "café"
    bmp = asn1.read_single(asn1.encode(asn1.BMP_STRING, "Zürich".encode("utf-16-be")))
    assert asn1.decode_string(bmp) == "Zürich"
