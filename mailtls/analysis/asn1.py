"""A small, lenient DER/BER reader (and a minimal DER writer used by tests and builders).

Why our own reader: real mail servers present certificates that strict DER parsers reject
(explicitly encoded DEFAULT values, non-minimal lengths, BER indefinite lengths, odd string
types) while OpenSSL and iOS accept them. mailtls reads every certificate with this walker so
such a certificate is analysed like any other, and only the parts that really cannot be
decoded are reported (see :mod:`mailtls.analysis.certs`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

# Universal tags (first identifier octet, with the constructed bit where it applies).
BOOLEAN = 0x01
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
UTF8_STRING = 0x0C
PRINTABLE_STRING = 0x13
T61_STRING = 0x14
IA5_STRING = 0x16
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
UNIVERSAL_STRING = 0x1C
BMP_STRING = 0x1E
SEQUENCE = 0x30
SET = 0x31

_MAX_DEPTH = 64


class DerError(ValueError):
    """The bytes are not a well-formed (even leniently read) ASN.1 structure."""


class Tlv(NamedTuple):
    """One decoded element: ``tag`` is the first identifier octet, ``raw`` the whole encoding.

    A NamedTuple rather than a frozen dataclass: certificates hold hundreds of elements and
    tuple construction is several times cheaper.
    """

    tag: int
    number: int  # tag number (handles multi-octet tags)
    raw: bytes
    content: bytes
    quirks: tuple[str, ...] = ()  # non-DER encodings seen in the header

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)

    @property
    def tag_class(self) -> int:
        return self.tag >> 6  # 0 universal, 1 application, 2 context, 3 private

    def is_context(self, number: int) -> bool:
        return self.tag_class == 2 and self.number == number

    def children(self) -> list[Tlv]:
        return read_all(self.content)


#: ``tuple.__new__``: builds a :class:`Tlv` without the NamedTuple's Python-level ``__new__``
#: (the hot loops below create dozens of elements per certificate).
_new = tuple.__new__


def read_tlv(data: bytes, offset: int = 0, depth: int = 0) -> tuple[Tlv, int]:
    """Read one element at ``offset``; return it and the offset after it."""
    size = len(data)
    # Fast path: low tag number and short-form length (most elements of a certificate).
    if offset + 1 < size:
        tag = data[offset]
        first = data[offset + 1]
        if tag & 0x1F != 0x1F and first < 0x80:
            end = offset + 2 + first
            if end <= size:
                return _new(
                    Tlv, (tag, tag & 0x1F, data[offset:end], data[offset + 2 : end], ())
                ), end
    return _read_tlv_slow(data, offset, depth)


def _read_tlv_slow(data: bytes, offset: int, depth: int) -> tuple[Tlv, int]:
    if depth > _MAX_DEPTH:
        raise DerError("nesting too deep")
    size = len(data)
    # Second fast path: low tag number, minimal DER long-form length of 1 or 2 octets
    # (certificate, TBS, key, extensions). Anything else goes the general way below.
    if offset + 3 < size and data[offset] & 0x1F != 0x1F:
        first = data[offset + 1]
        length = -1
        if first == 0x81 and data[offset + 2] >= 0x80:
            length, header = data[offset + 2], 3
        elif first == 0x82 and data[offset + 2]:
            length, header = (data[offset + 2] << 8) | data[offset + 3], 4
        if length >= 0:
            start = offset + header
            end = start + length
            if end <= size:
                tag = data[offset]
                return _new(Tlv, (tag, tag & 0x1F, data[offset:end], data[start:end], ())), end
    if offset >= size:
        raise DerError("unexpected end of data")
    start = offset
    tag = data[offset]
    offset += 1
    number = tag & 0x1F
    if number == 0x1F:  # high tag number form
        number = 0
        while True:
            if offset >= size:
                raise DerError("truncated tag")
            octet = data[offset]
            offset += 1
            number = (number << 7) | (octet & 0x7F)
            if not octet & 0x80:
                break
    if offset >= size:
        raise DerError("truncated length")
    first = data[offset]
    offset += 1
    quirks: tuple[str, ...] = ()
    if first < 0x80:
        length = first
    elif first == 0x80:
        if not tag & 0x20:
            raise DerError("indefinite length on a primitive element")
        # BER indefinite length: children until an end-of-contents (00 00) element.
        content_start = offset
        while True:
            if offset + 1 >= size:
                raise DerError("unterminated indefinite-length element")
            if data[offset] == 0 and data[offset + 1] == 0:
                content = data[content_start:offset]
                offset += 2
                return Tlv(tag, number, data[start:offset], content, ("indefinite length",)), offset
            _, offset = read_tlv(data, offset, depth + 1)
    else:
        count = first & 0x7F
        if count > 4 or offset + count > size:
            raise DerError("bad length")
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
        if length < 0x80 or data[offset - count] == 0:
            quirks = ("non-minimal length",)
    end = offset + length
    if end > size:
        raise DerError("element runs past the end of the data (truncated?)")
    return Tlv(tag, number, data[start:end], data[offset:end], quirks), end


def read_all(data: bytes) -> list[Tlv]:
    """Every element of a concatenation (the content of a SEQUENCE/SET)."""
    items: list[Tlv] = []
    append = items.append
    offset = 0
    size = len(data)
    while offset < size:
        # Inlined fast paths of read_tlv (this loop runs for every element of a certificate):
        # a low tag number with a short length, or a minimal 2- or 1-octet long form.
        if offset + 1 < size:
            tag = data[offset]
            if tag & 0x1F != 0x1F:
                first = data[offset + 1]
                start = -1
                if first < 0x80:
                    start = offset + 2
                    end = start + first
                elif first == 0x82 and offset + 3 < size and data[offset + 2]:
                    start = offset + 4
                    end = start + ((data[offset + 2] << 8) | data[offset + 3])
                elif first == 0x81 and offset + 2 < size and data[offset + 2] >= 0x80:
                    start = offset + 3
                    end = start + data[offset + 2]
                if start >= 0 and end <= size:
                    append(_new(Tlv, (tag, tag & 0x1F, data[offset:end], data[start:end], ())))
                    offset = end
                    continue
        item, offset = _read_tlv_slow(data, offset, 0)
        append(item)
    return items


def read_single(data: bytes) -> Tlv:
    item, end = read_tlv(data, 0)
    if end != len(data):
        raise DerError(f"{len(data) - end} extra bytes after the element")
    return item


# --------------------------------------------------------------------------- values


_OID_CACHE: dict[bytes, str] = {}


def decode_oid(content: bytes) -> str:
    cached = _OID_CACHE.get(content)
    if cached is not None:
        return cached
    value = _decode_oid(content)
    if len(_OID_CACHE) < 4096:
        _OID_CACHE[content] = value
    return value


def _decode_oid(content: bytes) -> str:
    if not content:
        raise DerError("empty OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for octet in content:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    if content[-1] & 0x80:
        raise DerError("truncated OBJECT IDENTIFIER")
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(a) for a in head + arcs[1:])


def decode_integer(content: bytes) -> int:
    if not content:
        raise DerError("empty INTEGER")
    return int.from_bytes(content, "big", signed=True)


def decode_boolean(content: bytes) -> bool:
    if len(content) != 1:
        raise DerError("BOOLEAN of wrong size")
    return content[0] != 0


def decode_bit_string(content: bytes) -> bytes:
    if not content:
        raise DerError("empty BIT STRING")
    return content[1:]


def decode_string(tlv: Tlv) -> str:
    """Any ASN.1 character string, decoded leniently (never raises for bad characters)."""
    content = tlv.content
    if tlv.tag == BMP_STRING:
        return content.decode("utf-16-be", errors="replace")
    if tlv.tag == UNIVERSAL_STRING:
        return content.decode("utf-32-be", errors="replace")
    if tlv.tag in (T61_STRING,):
        return content.decode("latin-1")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def decode_time(tlv: Tlv) -> datetime:
    """UTCTime / GeneralizedTime, accepting the variants real certificates carry."""
    content = tlv.content
    # Fast path: the DER forms almost every certificate uses (YYMMDDHHMMSSZ, YYYYMMDDHHMMSSZ).
    size = len(content)
    if (size == 13 or size == 15) and content[-1] == 0x5A and content[:-1].isdigit():
        if size == 13 and tlv.tag == UTC_TIME:
            number = int(content[:12])  # YYMMDDhhmmss, as one integer
            year = number // 10_000_000_000
            year += 2000 if year < 50 else 1900
        elif size == 15 and tlv.tag == GENERALIZED_TIME:
            number = int(content[2:14])  # the year's last two digits, then MMDDhhmmss
            year = int(content[:4])
        else:
            year = 0
        if year:
            try:
                return datetime(
                    year,
                    number // 100_000_000 % 100,
                    number // 1_000_000 % 100,
                    number // 10_000 % 100,
                    number // 100 % 100,
                    number % 100,
                    tzinfo=UTC,
                )
            except ValueError:
                pass  # the general path below reports it
    text = tlv.content.decode("ascii", errors="replace").strip()
    if tlv.tag == UTC_TIME:
        if len(text) < 10:
            raise DerError(f"bad UTCTime {text!r}")
        year = int(text[:2])
        text = f"{2000 + year if year < 50 else 1900 + year}{text[2:]}"
    elif tlv.tag != GENERALIZED_TIME:
        raise DerError("not a time value")
    offset = timedelta(0)
    if text.endswith("Z"):
        text = text[:-1]
    elif len(text) > 5 and text[-5] in "+-":
        sign = 1 if text[-5] == "+" else -1
        offset = sign * timedelta(hours=int(text[-4:-2]), minutes=int(text[-2:]))
        text = text[:-5]
    fraction = 0.0
    if "." in text:
        text, frac = text.split(".", 1)
        fraction = float("0." + frac) if frac.isdigit() else 0.0
    if not text.isdigit() or len(text) not in (10, 12, 14):
        raise DerError(f"bad time value {tlv.content!r}")
    if len(text) == 10:
        text += "0000"
    elif len(text) == 12:
        text += "00"
    try:
        value = datetime(
            int(text[:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise DerError(f"bad time value {tlv.content!r}: {exc}") from exc
    return value - offset + timedelta(seconds=fraction)


# --------------------------------------------------------------------------- writer


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(content)) + content


def encode_sequence(*items: bytes) -> bytes:
    return encode(SEQUENCE, b"".join(items))


def encode_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    values = [arcs[0] * 40 + arcs[1], *arcs[2:]]
    body = bytearray()
    for value in values:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        body.extend(reversed(chunk))
    return encode(OID, bytes(body))


def encode_integer(value: int) -> bytes:
    length = max(1, (value.bit_length() + 8) // 8)
    return encode(INTEGER, value.to_bytes(length, "big", signed=True))
