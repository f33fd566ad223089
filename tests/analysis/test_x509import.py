"""cryptography.x509 imported with its RFC 4514 regular expression compiled on first use.

mailtls never parses RFC 4514 strings, but cryptography compiles that parser's expression
(character classes up to U+10FFFF) when ``cryptography.x509`` is imported: ~15 % of a
one-host check's instructions (issue 8). These tests run in fresh interpreters, where the
import really happens.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


LAZY = """
import re
compile_before = re.compile
from mailtls.analysis.x509import import LazyPattern, import_x509
x509 = import_x509()
from cryptography.x509 import name
lazy = [k for k, v in vars(name._RFC4514NameParser).items() if isinstance(v, LazyPattern)]
eager = [k for k, v in vars(name._RFC4514NameParser).items() if isinstance(v, re.Pattern)]
print("LAZY", sorted(lazy))
print("EAGER", sorted(eager))
print("RESTORED", re.compile is compile_before)
print("FIRST", x509.load_der_x509_certificate is not None)
"""


def test_only_the_big_unicode_expression_is_left_for_later() -> None:
    out = dict(line.split(" ", 1) for line in _run(LAZY).splitlines())
    assert out["LAZY"] == "['_STRING_RE']"  # the one with classes up to U+10FFFF
    assert "_OID_RE" in out["EAGER"] and "_HEXSTRING_RE" in out["EAGER"]
    assert out["RESTORED"] == "True"
    assert out["FIRST"] == "True"


PARSE = """
from mailtls.analysis.x509import import import_x509
x509 = import_x509()
from cryptography.x509.oid import NameOID
cases = {
    "CN=mail.example.com,O=Acme\\\\, Inc.,C=DE": [
        (NameOID.COUNTRY_NAME, "DE"), (NameOID.ORGANIZATION_NAME, "Acme, Inc."),
        (NameOID.COMMON_NAME, "mail.example.com")],
    "CN=Jürgen Müller ☃,OU=Mail": [
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "Mail"), (NameOID.COMMON_NAME, "Jürgen Müller ☃")],
    "CN=\\\\#hash\\\\ ,O=\\\\E2\\\\98\\\\83": [
        (NameOID.ORGANIZATION_NAME, "☃"), (NameOID.COMMON_NAME, "#hash ")],
}
for text, attributes in cases.items():
    parsed = x509.Name.from_rfc4514_string(text)
    built = x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])
    assert parsed == built, (text, parsed, built)
    assert x509.Name.from_rfc4514_string(parsed.rfc4514_string()) == parsed
try:
    x509.Name.from_rfc4514_string("CN=a,UNKNOWN=b")
except ValueError:
    print("REJECTED")
print("PARSED", len(cases))
"""


def test_the_rfc4514_parser_answers_as_usual_after_a_lazy_import() -> None:
    out = _run(PARSE).split()
    assert out == ["REJECTED", "PARSED", "3"]


THREADS = """
import threading
from mailtls.analysis.x509import import import_x509
got = []
def one():
    got.append(import_x509().load_der_x509_certificate)
threads = [threading.Thread(target=one) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(len(got), len(set(got)))
"""


def test_several_threads_all_get_the_whole_module() -> None:
    assert _run(THREADS).split() == ["4", "1"]
