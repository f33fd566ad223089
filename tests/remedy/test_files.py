"""mailtls.remedy.files: 0600 keys, no overwrite without force, atomic replace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailtls.errors import ArtefactError
from mailtls.remedy import files


def test_private_key_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = files.write_private_key(tmp_path / "k.pem", b"secret")
    finally:
        os.umask(old)
    assert files.file_mode(path) == 0o600
    assert path.read_bytes() == b"secret"


def test_public_file_mode_is_exact_under_a_strict_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        path = files.write_file(tmp_path / "c.pem", "cert")
    finally:
        os.umask(old)
    assert files.file_mode(path) == 0o644


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "k.pem"
    target.write_bytes(b"old")
    with pytest.raises(ArtefactError, match=r"k\.pem exists; use --force to replace it"):
        files.write_private_key(target, b"new")
    assert target.read_bytes() == b"old"


def test_force_replaces_atomically_and_keeps_0600(tmp_path: Path) -> None:
    target = tmp_path / "k.pem"
    target.write_bytes(b"old")
    target.chmod(0o644)
    files.write_private_key(target, b"new", force=True)
    assert target.read_bytes() == b"new"
    assert files.file_mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pem"]  # no temporary left


def test_force_replaces_a_symlink_instead_of_following_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    link = tmp_path / "k.pem"
    link.symlink_to(victim)
    with pytest.raises(ArtefactError, match="exists"):
        files.write_private_key(link, b"new")
    files.write_private_key(link, b"new", force=True)
    assert victim.read_bytes() == b"keep me"
    assert not link.is_symlink()
    assert link.read_bytes() == b"new"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "empty output path"),
        ("a\x00b", "NUL byte"),
        ("missing-dir/file.pem", "does not exist"),
    ],
)
def test_bad_paths_give_one_line(tmp_path: Path, name: str, message: str) -> None:
    path = str(tmp_path / name) if name else name
    with pytest.raises(ArtefactError, match=message) as info:
        files.write_file(path, b"x")
    assert "\n" not in str(info.value)


def test_a_directory_is_not_a_file_name(tmp_path: Path) -> None:
    with pytest.raises(ArtefactError, match="is a directory"):
        files.write_file(tmp_path, b"x", force=True)


def test_check_writable_refuses_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "b").write_bytes(b"b")
    with pytest.raises(ArtefactError, match="b exists"):
        files.check_writable([tmp_path / "a", tmp_path / "b"], force=False)
    files.check_writable([tmp_path / "a", tmp_path / "b"], force=True)
    assert not (tmp_path / "a").exists()
