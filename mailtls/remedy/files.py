"""Write artefacts safely: private keys 0600, nothing overwritten without ``force``.

Every writer refuses to replace an existing file unless ``force`` is true, and then it
replaces the file atomically (a temporary file in the same directory, then ``os.replace``),
so a reader never sees a half-written key and an interrupted run never leaves one behind.
A symbolic link at the target is replaced, never followed.

Commands that write several files call :func:`check_writable` for all of them first, so a
refusal happens before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from mailtls.errors import ArtefactError

PRIVATE_KEY_MODE = 0o600
PUBLIC_FILE_MODE = 0o644
PRIVATE_DIRECTORY_MODE = 0o700


def output_path(path: str | os.PathLike[str]) -> Path:
    """Validate a path to write to; raise :class:`ArtefactError` with one line if unusable."""
    text = os.fspath(path)
    if not text or not text.strip():
        raise ArtefactError("empty output path")
    if "\x00" in text:
        raise ArtefactError(f"output path {text!r} contains a NUL byte")
    result = Path(text)
    if result.name in ("", ".", ".."):
        raise ArtefactError(f"{text}: not a file name")
    if result.is_dir():
        raise ArtefactError(f"{text} is a directory; give a file name")
    parent = result.parent
    if not parent.exists():
        raise ArtefactError(f"{text}: directory {parent} does not exist")
    if not parent.is_dir():
        raise ArtefactError(f"{text}: {parent} is not a directory")
    return result


def check_writable(paths: Iterable[str | os.PathLike[str]], *, force: bool) -> None:
    """Refuse before writing anything if one of ``paths`` exists and ``force`` is false."""
    for path in paths:
        target = output_path(path)
        if not force and (target.exists() or target.is_symlink()):
            raise ArtefactError(f"{target} exists; use --force to replace it")


def ensure_directory(path: str | os.PathLike[str], *, mode: int = 0o755) -> Path:
    """Create ``path`` (and parents) if missing; an existing directory is left as it is."""
    text = os.fspath(path)
    if not text or "\x00" in text:
        raise ArtefactError(f"invalid directory name {text!r}")
    directory = Path(text)
    if directory.exists() and not directory.is_dir():
        raise ArtefactError(f"{directory} exists and is not a directory")
    try:
        directory.mkdir(mode=mode, parents=True, exist_ok=True)
    except OSError as exc:
        raise ArtefactError(f"cannot create directory {directory}: {exc.strerror}") from exc
    return directory


def write_file(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    force: bool = False,
    mode: int = PUBLIC_FILE_MODE,
) -> Path:
    """Write ``data`` to a new file with ``mode``; with ``force`` replace atomically."""
    target = output_path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if force:
        _replace_atomically(target, payload, mode)
    else:
        _create_exclusive(target, payload, mode)
    return target


def write_private_key(path: str | os.PathLike[str], pem: bytes, *, force: bool = False) -> Path:
    """Write a private key, readable by its owner only (0600), never over an existing file
    unless ``force``."""
    return write_file(path, pem, force=force, mode=PRIVATE_KEY_MODE)


def file_mode(path: str | os.PathLike[str]) -> int:
    """Permission bits of ``path`` (for reports and tests)."""
    return stat.S_IMODE(os.stat(path).st_mode)


def _create_exclusive(target: Path, payload: bytes, mode: int) -> None:
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags, mode)
    except FileExistsError as exc:
        raise ArtefactError(f"{target} exists; use --force to replace it") from exc
    except OSError as exc:
        raise ArtefactError(f"cannot write {target}: {exc.strerror}") from exc
    try:
        os.fchmod(fd, mode)  # the umask may have removed bits; be exact
        _write_all(fd, payload)
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise ArtefactError(f"cannot write {target}: {exc.strerror}") from exc
    os.close(fd)


def _replace_atomically(target: Path, payload: bytes, mode: int) -> None:
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    temporary = None
    for attempt in range(100):
        candidate = target.with_name(f".{target.name}.mailtls-{os.getpid()}-{attempt}.tmp")
        try:
            fd = os.open(candidate, flags, mode)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ArtefactError(f"cannot write {target}: {exc.strerror}") from exc
        temporary = candidate
        break
    if temporary is None:
        raise ArtefactError(f"cannot write {target}: no free temporary file name")
    try:
        try:
            os.fchmod(fd, mode)
            _write_all(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ArtefactError(f"cannot replace {target}: {exc.strerror}") from exc


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]
