"""``mailtls deploy`` judges the whole chain with Apple's trust store by default (issue 14).

Each test has a data directory of its own into which the shared copy of Apple's published
store (``../shared/apple-trust-store``) is imported, with or without a root of our own laid
out the way Apple lays it out (``roots/<SHA-256>.cer``). Our leaf has a notBefore before
2018-10-16 and is judged during its validity (``--at``), so Certificate Transparency does
not apply to it.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailtls import pki, roots
from mailtls.analysis import stores
from mailtls.cli import main
from tests.conftest import SHARED_STORE
from tests.roots.storebuild import set_version

pytestmark = pytest.mark.skipif(
    not (SHARED_STORE / "roots").is_dir(), reason="no ../shared/apple-trust-store"
)

VERSION = 2025072000
OLDER = 2024051501
AT = "2019-03-01T12:00Z"
HOST = "mail.example.test"


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | bytes]:
    """our root -> intermediate -> leaf; fullchain.pem is leaf + intermediate."""
    directory = tmp_path_factory.mktemp("deploy-chain")
    keys = [pki.generate_key("ec", 256) for _ in range(3)]
    window = {
        "not_before": datetime(2017, 1, 1, tzinfo=UTC),
        "not_after": datetime(2035, 1, 1, tzinfo=UTC),
    }
    root = pki.issue(pki.ca_spec("mailtls Deploy Test Root"), keys[0], **window)
    inter = pki.issue(
        pki.ca_spec("mailtls Deploy Test CA"),
        keys[1],
        issuer_cert=root,
        issuer_key=keys[0],
        **window,
    )
    leaf = pki.issue(
        pki.leaf_spec(HOST),
        keys[2],
        issuer_cert=inter,
        issuer_key=keys[1],
        not_before=datetime(2018, 9, 1, tzinfo=UTC),
        not_after=datetime(2019, 9, 1, tzinfo=UTC),
    )
    paths: dict[str, Path | bytes] = {
        "fullchain": directory / "fullchain.pem",
        "key": directory / "privkey.pem",
        "root": directory / "root.pem",
        "root_der": pki.cert_to_der(root),
    }
    Path(str(paths["fullchain"])).write_bytes(pki.cert_to_pem(leaf) + pki.cert_to_pem(inter))
    key = Path(str(paths["key"]))
    key.write_bytes(pki.key_to_pem(keys[2]))
    key.chmod(0o600)
    Path(str(paths["root"])).write_bytes(pki.cert_to_pem(root))
    return paths


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "data"
    monkeypatch.setenv("MAILTLS_DATA_DIR", str(path))
    stores._system_store.cache_clear()
    yield path
    stores._system_store.cache_clear()


def _store(tmp_path: Path, root_der: bytes | None, version: int = VERSION) -> Path:
    copy = tmp_path / f"store-{version}"
    shutil.copytree(SHARED_STORE, copy)
    if root_der is not None:
        name = hashlib.sha256(root_der).hexdigest().upper() + ".cer"
        (copy / "roots" / name).write_bytes(root_der)
    if version != VERSION:
        set_version(copy / "AssetVersion.plist", version)
    return copy


def _deploy(chain: dict[str, Path | bytes], *extra: str) -> list[str]:
    return ["deploy", "--cert", str(chain["fullchain"]), "--key", str(chain["key"]),
            "--server", "postfix", "--at", AT, *extra]  # fmt: skip


def _verdict_line(out: str) -> str:
    (line,) = [line for line in out.splitlines() if line.startswith("iPhone verdict: ")]
    return line


def test_a_chain_to_a_root_of_apples_store_is_trusted_with_no_flag(
    data: Path, tmp_path: Path, chain: dict[str, Path | bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    roots.import_from(_store(tmp_path, bytes(chain["root_der"])))  # type: ignore[arg-type]
    assert main(_deploy(chain)) == 0
    captured = capsys.readouterr()
    line = _verdict_line(captured.out)
    assert line.startswith(f"iPhone verdict: TRUSTED (Apple trust store {VERSION} (157 roots)): ")
    assert "PROBLEM" not in captured.out
    assert "smtpd_tls_chain_files" in captured.out  # the snippets still follow
    # a cached, fresh store: no hint; only the note that 2019 is before the store's date
    assert captured.err == (
        f"mailtls: note: --at 2019-03-01 is before Apple's trust store {VERSION} in use "
        "(no cached release is that old): iPhones then had an older store\n"
    )


def test_a_chain_to_a_root_apples_store_lacks_is_not_trusted_and_exits_1(
    data: Path, chain: dict[str, Path | bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    roots.import_from(SHARED_STORE)  # without our root
    assert main(_deploy(chain)) == 1
    out = capsys.readouterr().out
    assert "PROBLEM" not in out  # the files themselves are fine: the verdict decides
    line = _verdict_line(out)
    assert line.startswith(f"iPhone verdict: PROMPT (Apple trust store {VERSION} (156 roots)): ")


def test_the_ca_file_root_counts_as_installed_on_the_iphone(
    data: Path, chain: dict[str, Path | bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    roots.import_from(SHARED_STORE)
    assert main(_deploy(chain, "--ca-file", str(chain["root"]))) == 0
    assert _verdict_line(capsys.readouterr().out).startswith("iPhone verdict: TRUSTED (")


def test_an_expired_chain_is_not_trusted_even_with_its_root(
    data: Path, tmp_path: Path, chain: dict[str, Path | bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    roots.import_from(_store(tmp_path, bytes(chain["root_der"])))  # type: ignore[arg-type]
    argv = _deploy(chain)
    argv[argv.index("--at") + 1] = "2020-01-01"
    assert main(argv) == 1
    line = _verdict_line(capsys.readouterr().out)
    assert not line.startswith("iPhone verdict: TRUSTED")


def test_roots_version_picks_a_cached_release(
    data: Path, tmp_path: Path, chain: dict[str, Path | bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    roots.import_from(SHARED_STORE)
    roots.import_from(_store(tmp_path, bytes(chain["root_der"]), OLDER), force=True)  # type: ignore[arg-type]
    roots.import_from(SHARED_STORE, force=True)  # the current one again: no root of ours
    assert main(_deploy(chain)) == 1  # the current store: ours is not in it
    assert _verdict_line(capsys.readouterr().out).startswith(
        f"iPhone verdict: PROMPT (Apple trust store {VERSION} (156 roots)): "
    )
    assert main(_deploy(chain, "--roots-version", str(OLDER))) == 0
    line = _verdict_line(capsys.readouterr().out)
    assert line.startswith(f"iPhone verdict: TRUSTED (Apple trust store {OLDER} (157 roots)): ")


def test_an_uncached_roots_version_is_a_one_line_error(
    data: Path, chain: dict[str, Path | bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    roots.import_from(SHARED_STORE)
    assert main(_deploy(chain, "--roots-version", "2023010100")) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"mailtls: error: --roots-version 2023010100: not cached (cached: {VERSION}); "
        "import it with `mailtls roots update --from PATH`"
    ]


def test_without_a_cached_store_the_standin_is_named_with_one_hint(
    data: Path, chain: dict[str, Path | bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_deploy(chain)) == 1  # our root is not one of Apple's: never trusted
    captured = capsys.readouterr()
    assert "stand-in for Apple's trust store" in _verdict_line(captured.out)
    assert not _verdict_line(captured.out).startswith("iPhone verdict: TRUSTED")
    hints = [line for line in captured.err.splitlines() if "mailtls roots update" in line]
    assert len(hints) == 1 and "stand-in" in hints[0], captured.err
    assert not data.exists() or not (data / "apple-trust-store" / "versions").exists()
