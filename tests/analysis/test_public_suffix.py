"""Wildcards over public suffixes, judged with the Public Suffix List (``SecDNSIsTLD``).

Apple's ``SecDNSMatch`` refuses "*.<suffix>" when CFNetwork's certificate-policy TLD test
says the part after "*." is a public suffix; mailtls asks the ICANN section of the list the
``publicsuffixlist`` package ships (see ``mailtls.analysis.names.is_public_suffix``).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from mailtls import pki
from mailtls.analysis import names
from mailtls.analysis.names import dns_match, is_public_suffix, wildcard_refused_reason
from mailtls.model import Verdict
from tests.analysis.factory import Lab, analyse, failing


@pytest.mark.parametrize(
    ("name", "public"),
    [
        ("com", True),  # every single label, known or not
        ("zz-not-a-tld", True),
        ("co.uk", True),
        ("com.au", True),
        ("ltd.uk", True),  # in the list, never in the old compact list's way of thinking
        ("kawasaki.jp", True),  # "*.kawasaki.jp" rule: the label under it is a suffix too
        ("foo.kawasaki.jp", True),
        ("city.kawasaki.jp", False),  # "!city.kawasaki.jp" exception rule
        ("foo.ck", True),  # "*.ck"
        ("www.ck", False),  # "!www.ck"
        ("example.com", False),
        ("example.co.uk", False),
        ("foo.zz-not-a-tld", False),  # an unknown TLD is one label deep (the implicit "*")
        ("CO.UK", True),  # case
        ("co.uk.", True),  # a trailing dot
        ("xn--55qx5d.cn", True),  # 公司.cn in A-label form, as certificates hold it
        ("公司.cn", True),  # and in U-label form
        ("example.xn--55qx5d.cn", False),
    ],
)
def test_public_suffix_list(name: str, public: bool) -> None:
    assert is_public_suffix(name) is public


def test_private_section_is_not_a_public_suffix() -> None:
    # Inferred from Apple's certificate-specific CFNetwork entry point and from these
    # wildcards working on iPhones: only the ICANN section counts.
    assert names.PSL_ICANN_ONLY
    for private in ("github.io", "blogspot.com", "s3.amazonaws.com", "us.com"):
        assert not is_public_suffix(private), private
    assert dns_match("user.github.io", "*.github.io")


@pytest.mark.parametrize(
    ("host", "presented", "match"),
    [
        ("mail.co.uk", "*.co.uk", False),
        ("mail.ltd.uk", "*.ltd.uk", False),
        ("mail.example.co.uk", "*.example.co.uk", True),
        ("www.foo.ck", "*.foo.ck", False),  # foo.ck is a suffix by the "*.ck" rule
        ("mail.www.ck", "*.www.ck", True),  # www.ck is not, by its exception
        ("mail.foo.kawasaki.jp", "*.foo.kawasaki.jp", False),
        ("mail.city.kawasaki.jp", "*.city.kawasaki.jp", True),
        ("mail.xn--55qx5d.cn", "*.xn--55qx5d.cn", False),
        ("mail.公司.cn", "*.xn--55qx5d.cn", False),  # the reference is turned into A-labels
        ("mail.example.xn--55qx5d.cn", "*.example.xn--55qx5d.cn", True),
        ("mail.例え.jp", "*.xn--r8jz45g.jp", True),  # 例え.jp is not a suffix
        ("mail.example.zz-not-a-tld", "*.example.zz-not-a-tld", True),
        ("mail.zz-not-a-tld", "*.zz-not-a-tld", False),  # two labels: refused before the list
    ],
)
def test_wildcard_over_suffix(host: str, presented: str, match: bool) -> None:
    assert dns_match(host, presented) is match


def test_refusal_reason_names_the_suffix() -> None:
    reason = wildcard_refused_reason("mail.ltd.uk", "*.ltd.uk")
    assert reason is not None and "'ltd.uk' is a public suffix" in reason
    assert wildcard_refused_reason("mail.example.co.uk", "*.example.co.uk") is None


def test_chain_with_wildcard_over_listed_suffix_fires_hostname_match(lab: Lab) -> None:
    root = pki.cert_to_der(lab.root())
    refused = analyse(lab.chain(lab.leaf("*.ltd.uk")), "USR", root, host="mail.ltd.uk")
    assert refused.verdict is Verdict.PROMPT
    assert "public suffix" in str(failing(refused)["hostname_match"].evidence["why"])
    accepted = analyse(lab.chain(lab.leaf("*.github.io")), "USR", root, host="me.github.io")
    assert accepted.verdict is Verdict.TRUSTED


def test_list_is_loaded_lazily_and_once() -> None:
    code = (
        "import sys, mailtls.analysis.names as n\n"
        "assert 'publicsuffixlist' not in sys.modules\n"
        "n.is_public_suffix('com')\n"  # a single label never needs the list
        "assert 'publicsuffixlist' not in sys.modules\n"
        "n.is_public_suffix('co.uk')\n"
        "assert 'publicsuffixlist' in sys.modules\n"
        "first = n._public_suffix_list()\n"
        "n.is_public_suffix('example.co.uk')\n"
        "assert n._public_suffix_list() is first\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
