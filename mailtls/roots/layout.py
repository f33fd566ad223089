"""Read the store from its three source layouts into one canonical set of files.

Canonical layout (what the cache holds, and the layout of ``../shared/apple-trust-store``)::

    roots/*.cer  removed/*.cer  removed/intermediates/*.cer  custom/*.cer  platform/*.cer
    (removed/ also .crt and .der files: all DER)
    constraints.json  EVRoots.json  log_list.json  hash_to_human_name.json  AssetVersion.plist

Upstream (a checkout of apple-oss-distributions/security_certificates, or its ``.tar.gz``
with one top-level directory such as ``security_certificates-main/``)::

    certificates/{roots,removed,removed/intermediates,custom,platform}/*.cer
    certificates/{constraints,EVRoots,hash_to_human_name}.json
    certificate_transparency/log_list.json
    config/AssetVersion.plist

:func:`read_source` returns ``{canonical relative path: bytes}``; only the files above are
read, each capped in size, and an archive's links, absolute paths and ``..`` are refused.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from mailtls.roots import StoreError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import tarfile

#: Caps: a whole archive (compressed download and uncompressed members read) and one file.
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_MEMBER_BYTES = 16 * 1024 * 1024
#: Everything an archive may expand to, the members mailtls skips included (a gzip bomb).
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024

#: Canonical directories of certificate files and the single files, with upstream paths.
CERT_DIRS = {
    "roots": "certificates/roots",
    "removed": "certificates/removed",
    "removed/intermediates": "certificates/removed/intermediates",
    "custom": "certificates/custom",
    "platform": "certificates/platform",
}
FILES = {
    "AssetVersion.plist": "config/AssetVersion.plist",
    "constraints.json": "certificates/constraints.json",
    "EVRoots.json": "certificates/EVRoots.json",
    "hash_to_human_name.json": "certificates/hash_to_human_name.json",
    "log_list.json": "certificate_transparency/log_list.json",
}
#: Certificate files (all DER). removed/ also holds .crt and .der; its reissued/ and
#: invalid/ folders (old copies of roots Apple still trusts under a new certificate, a
#: malformed copy) are not read: they are not removals of a CA.
CERT_SUFFIXES = (".cer", ".crt", ".der")
_UPSTREAM_TO_CANONICAL = {v: k for k, v in {**CERT_DIRS, **FILES}.items()}
_CANONICAL_NAMES = {**{k: k for k in CERT_DIRS}, **{k: k for k in FILES}}
_SINGLE_FILES = frozenset(FILES) | frozenset(FILES.values())


def canonical_name(relative: str, mapping: dict[str, str]) -> str | None:
    """The canonical path of ``relative`` (a posix path inside the source), or None when the
    store does not need that file. ``mapping`` maps source directories/files to canonical."""
    parent, _, name = relative.rpartition("/")
    if relative in mapping and relative in _SINGLE_FILES:
        return mapping[relative]
    if parent in mapping and name.lower().endswith(CERT_SUFFIXES) and not name.startswith("."):
        return f"{mapping[parent]}/{name}"
    return None


class _Budget:
    __slots__ = ("total",)

    def __init__(self) -> None:
        self.total = 0

    def take(self, size: int, what: str) -> None:
        if size > MAX_MEMBER_BYTES:
            raise StoreError(f"{what}: {size} bytes, more than a store file may be (refused)")
        self.total += size
        if self.total > MAX_TOTAL_BYTES:
            raise StoreError(
                f"{what}: the store is larger than {MAX_TOTAL_BYTES >> 20} MiB (refused)"
            )


def read_source(path: Path) -> dict[str, bytes]:
    """The store's files from a directory (either layout) or a tar archive (gzip or not)."""
    if not path.exists():
        raise StoreError(f"{path}: no such file or directory")
    if path.is_dir():
        return _read_directory(path)
    return read_archive(path)


def _read_directory(path: Path) -> dict[str, bytes]:
    base, mapping = _directory_layout(path)
    files: dict[str, bytes] = {}
    budget = _Budget()
    for source_rel in mapping:
        source = base / source_rel
        if source_rel in _SINGLE_FILES:
            if source.is_file():
                files[mapping[source_rel]] = _read_file(source, budget)
            continue
        if not source.is_dir():
            continue
        for entry in sorted(source.iterdir()):
            target = canonical_name(f"{source_rel}/{entry.name}", mapping)
            if target is not None and entry.is_file():
                files[target] = _read_file(entry, budget)
    return files


def _directory_layout(path: Path) -> tuple[Path, dict[str, str]]:
    """Which layout a directory has: (its base, source-path -> canonical-path)."""
    if (path / "certificates" / "roots").is_dir():
        return path, _UPSTREAM_TO_CANONICAL
    if (path / "roots").is_dir():
        return path, _CANONICAL_NAMES
    inner = [p for p in path.iterdir() if p.is_dir() and (p / "certificates" / "roots").is_dir()]
    if len(inner) == 1:  # an extracted GitHub archive: security_certificates-main/...
        return inner[0], _UPSTREAM_TO_CANONICAL
    raise StoreError(
        f"{path}: not a trust store (no roots/ or certificates/roots/ directory; give a "
        "checkout or .tar.gz of Apple's security_certificates, or a directory with roots/)"
    )


def _read_file(path: Path, budget: _Budget) -> bytes:
    try:
        size = path.stat().st_size
        budget.take(size, str(path))
        return path.read_bytes()
    except OSError as exc:
        raise StoreError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_archive(path: Path) -> dict[str, bytes]:
    """The store's files from a tar archive of the upstream project (or of the canonical
    layout), with or without one top-level directory. Refuses unsafe members."""
    import tarfile
    import zlib

    try:
        with tarfile.open(path, mode="r:*") as archive:
            return _read_members(archive, str(path))
    except StoreError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(f"{path}: not a readable .tar.gz archive ({detail})") from None


def _read_members(archive: tarfile.TarFile, what: str) -> dict[str, bytes]:
    budget = _Budget()
    files: dict[str, bytes] = {}
    for info in archive:  # streams: reads the archive once, member by member
        name = info.name
        pure = PurePosixPath(name)
        if name.startswith(("/", "\\")) or pure.is_absolute() or ".." in pure.parts:
            raise StoreError(f"{what}: unsafe member name {name!r} in the archive (refused)")
        parts = [p for p in pure.parts if p not in ("", ".")]
        if info.offset_data + info.size > MAX_UNCOMPRESSED_BYTES:
            raise StoreError(
                f"{what}: expands to more than {MAX_UNCOMPRESSED_BYTES >> 20} MiB (refused)"
            )
        if not parts:
            continue
        if info.issym() or info.islnk():
            if _wanted(parts) is not None:
                raise StoreError(f"{what}: {name!r} is a link in the archive (refused)")
            continue
        if not info.isfile():
            continue
        target = _wanted(parts)
        if target is None:
            continue
        budget.take(info.size, f"{what}: {name}")
        extracted = archive.extractfile(info)
        if extracted is None:
            continue
        data = extracted.read(MAX_MEMBER_BYTES + 1)
        if len(data) != info.size:
            raise StoreError(f"{what}: {name!r} is truncated in the archive")
        files[target] = data
    # tarfile takes a damaged header after the first for the end of the archive, and gzip
    # checks its CRC only at the end of the stream: read to the end, so damage is an error.
    fileobj = archive.fileobj
    if fileobj is not None:
        while fileobj.read(1024 * 1024):
            if fileobj.tell() > MAX_UNCOMPRESSED_BYTES:
                raise StoreError(
                    f"{what}: expands to more than {MAX_UNCOMPRESSED_BYTES >> 20} MiB (refused)"
                )
    return files


def _wanted(parts: list[str]) -> str | None:
    """The canonical path of an archive member (parts of its name), trying the name as it is
    and without its first component (GitHub's ``security_certificates-main/``)."""
    for start in (0, 1):
        rel = "/".join(parts[start:])
        if not rel:
            continue
        for mapping in (_UPSTREAM_TO_CANONICAL, _CANONICAL_NAMES):
            target = canonical_name(rel, mapping)
            if target is not None:
                return target
    return None
