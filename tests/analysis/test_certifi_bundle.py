"""The default system store finds certifi's bundle without importing certifi (issue 8).

``import certifi`` costs a check about 10 ms (importlib.resources with tempfile, zipfile and
shutil); the bundle is a file beside the package in every ordinary installation. These tests
hold the shortcut against certifi's own answer and show the fallback.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import certifi
import pytest

from mailtls.analysis import stores
from mailtls.analysis.stores import _version_in, certifi_bundle

REPO = Path(__file__).resolve().parents[2]


def test_the_shortcut_gives_certifis_own_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "certifi")
    bundle, version = certifi_bundle()
    assert "certifi" not in sys.modules
    assert bundle == Path(certifi.where())
    assert version == certifi.__version__


def test_an_imported_certifi_is_simply_asked() -> None:
    assert "certifi" in sys.modules  # imported by this test module
    assert certifi_bundle() == (Path(certifi.where()), certifi.__version__)


def test_a_layout_without_the_bundle_falls_back_to_certifi(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = tmp_path / "certifi"
    package.mkdir()
    (package / "__init__.py").write_text('__version__ = "1999.01.01"\n')  # no cacert.pem
    spec = importlib.machinery.ModuleSpec("certifi", None, is_package=True)
    spec.submodule_search_locations = [str(package)]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    monkeypatch.delitem(sys.modules, "certifi")
    bundle, version = certifi_bundle()
    assert "certifi" in sys.modules  # the fallback imported the real one
    assert (bundle, version) == (Path(certifi.where()), certifi.__version__)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'from .core import contents, where\n\n__all__ = ["contents", "where"]\n__version__ = "2026.05.20"\n',
            "2026.05.20",
        ),
        ("__version__ = '1.2.3'  # release\n", "1.2.3"),
        ("__version__='4'\n", "4"),
        ("version = '1.0'\n", None),
        ("__version__ = get_version()\n", None),
        ('__version__ = "unterminated\n', None),
        ("", None),
    ],
)
def test_the_version_is_read_from_the_assignment(
    tmp_path: Path, text: str, expected: str | None
) -> None:
    init = tmp_path / "__init__.py"
    init.write_text(text)
    assert _version_in(init) == expected


def test_a_missing_init_has_no_version(tmp_path: Path) -> None:
    assert _version_in(tmp_path / "missing.py") is None


def test_a_fresh_check_process_never_imports_certifi(tmp_path: Path) -> None:
    # -S: no site, so no .pth file of this machine imports certifi first; the paths a normal
    # start-up would add are given explicitly.
    site_packages = str(Path(certifi.__file__).resolve().parents[1])
    code = (
        "import sys\n"
        "from mailtls.analysis.stores import system_store\n"
        "store = system_store()\n"
        "print(len(store.certificates), 'certifi' in sys.modules, store.label.split()[1])\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), site_packages]),
        "MAILTLS_DATA_DIR": str(tmp_path),  # no Apple store cached: the certifi stand-in
    }
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    ).stdout.split()
    # the stand-in keeps the roots of certifi's bundle that Apple's store also has
    expected = stores.standin_store().certificates
    assert (
        0
        < len(expected)
        <= len(stores.certificates_from_bytes(Path(certifi.where()).read_bytes(), "certifi"))
    )
    assert out == [str(len(expected)), "False", certifi.__version__]
    assert len(expected) > 50  # most of Moz's roots are in Apple's store too
