"""``mailtls roots update|status|list|list-versions``: Apple's trust store, cached locally.

``update`` fetches Apple's published store (the ``security_certificates`` archive) over
verified HTTPS, or imports it offline with ``--from``; it is verified and cached under the
data directory (docs/trust-store.md). Exit codes: 0 done, 2 the download failed (network,
TLS, deadline, cut-off transfer: could not check), 3 bad input or a store that fails
verification (one line ``mailtls: error: ...``).
"""

from __future__ import annotations

import argparse
import sys
from typing import IO, Any

STANDIN = (
    "none cached: mailtls uses certifi's bundle (Mozilla's list) as a stand-in, cut down "
    "to the roots Apple's store has; run `mailtls roots update`"
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "roots",
        help="fetch, import and show Apple's trust store (the roots an iPhone preinstalls)",
        description=(
            "Apple's trust store, the roots iOS preinstalls, from Apple's open-source "
            "security_certificates project: 'update' fetches (or imports) and caches it, "
            "'status' says which store is in use, 'list' lists its roots, 'list-versions' "
            "the cached versions."
        ),
    )
    actions = parser.add_subparsers(dest="roots_action", metavar="ACTION", required=True)
    update = actions.add_parser(
        "update",
        help="fetch Apple's store (or import it with --from) and cache it",
        description=(
            "Download Apple's security_certificates archive over verified HTTPS (or import a "
            "checkout, .tar.gz or a directory with roots/ at the top, with --from), verify "
            "every root against its SHA-256 file name, and cache it as the current store. A "
            "store with too few roots, or older than the cached one, needs --force."
        ),
    )
    update.add_argument("--from", dest="source", metavar="PATH", help="import offline from PATH")
    update.add_argument(
        "--url",
        metavar="URL",
        help="download from this https:// mirror (default $MAILTLS_ROOTS_URL, else Apple's "
        "archive on GitHub)",
    )
    update.add_argument(
        "--force", action="store_true", help="accept an older version or too few roots"
    )
    update.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="deadline of the download"
    )
    status = actions.add_parser("status", help="which trust store is in use, its age and path")
    status.add_argument("--format", choices=("text", "json"), default="text")
    listing = actions.add_parser("list", help="the roots of the cached store")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.add_argument(
        "--roots-version", type=int, metavar="N", help="a cached version other than the current"
    )
    cached = actions.add_parser("list-versions", help="the cached versions (current marked)")
    cached.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace, stdout: IO[str] | None = None) -> int:
    out = stdout or sys.stdout
    action = args.roots_action
    if action == "update":
        return _update(args, out)
    if action == "status":
        return _status(args.format, out)
    if action == "list":
        return _list(args.format, args.roots_version, out)
    return _list_versions(args.format, out)


def _update(args: argparse.Namespace, out: IO[str]) -> int:
    from pathlib import Path

    import mailtls.roots as roots
    from mailtls.errors import UsageError
    from mailtls.exitcodes import ExitCode

    if args.source and args.url:
        raise UsageError("roots update: give --from or --url, not both")
    before = roots.load()
    try:
        if args.source:
            print(f"mailtls: importing Apple's trust store from {args.source}", file=sys.stderr)
            store = roots.import_from(Path(args.source), force=args.force)
        else:
            from mailtls.roots.download import resolve_url

            url = resolve_url(args.url)
            print(f"mailtls: downloading Apple's trust store from {url}", file=sys.stderr)
            store = roots.fetch(url, deadline=args.timeout, force=args.force)
    except roots.FetchError as exc:
        print(f"mailtls: error: {exc}", file=sys.stderr)
        return ExitCode.UNCHECKED
    if before is not None and before.version == store.version and not args.force:
        out.write(f"{store.label}: already up to date, cached in {store.path}\n")
    else:
        out.write(f"{store.label} cached in {store.path}\n")
    return ExitCode.OK


def _status(fmt: str, out: IO[str]) -> int:
    import mailtls.roots as roots

    store = roots.load()
    if fmt == "json":
        import json

        data: dict[str, Any] = {
            "store": "certifi",
            "label": None,
            "data_dir": str(roots.data_dir()),
        }
        if store is not None:
            age = roots.age_days(store)
            data.update(
                store="apple",
                label=store.label,
                version=store.version,
                roots=len(store.roots),
                removed=len(store.removed),
                constrained=len(store.constraints),
                imported_at=store.imported_at.isoformat(),
                age_days=round(age, 2),
                old=age > roots.STALE_DAYS,
                path=str(store.path),
                source=store.source,
            )
        out.write(json.dumps(data, indent=2) + "\n")
        return 0
    if store is None:
        out.write(f"trust store: {STANDIN}\n")
        return 0
    age = roots.age_days(store)
    old = (
        f" - old (more than {roots.STALE_DAYS} days): run `mailtls roots update`"
        if age > roots.STALE_DAYS
        else ""
    )
    out.write(
        f"trust store: {store.label}\n"
        f"version:     {store.version}\n"
        f"roots:       {len(store.roots)} ({len(store.removed)} removed certificates known)\n"
        f"age:         {age:.0f} days (cached {store.imported_at:%Y-%m-%d %H:%M} UTC){old}\n"
        f"path:        {store.path}\n"
        f"source:      {_safe(store.source)}\n"
    )
    return 0


def _list(fmt: str, version: int | None, out: IO[str]) -> int:
    import hashlib
    import warnings

    from cryptography import x509

    import mailtls.roots as roots

    store = roots.load(version)
    if store is None:
        if version is not None:
            raise roots.StoreError(
                f"version {version} is not cached (see `mailtls roots list-versions`)"
            )
        raise roots.StoreError(
            f"no Apple trust store cached: {STANDIN.removeprefix('none cached: ')}"
        )
    rows: list[dict[str, Any]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # old roots' negative serial numbers
        for der in store.roots:
            sha = hashlib.sha256(der).hexdigest().upper()
            cert = x509.load_der_x509_certificate(der)
            rows.append(
                {
                    "sha256": sha,
                    "subject": cert.subject.rfc4514_string(),
                    "not_after": cert.not_valid_after_utc.isoformat(),
                    "constraints": list(store.constraints.get(sha, ())),
                    "ev_policies": list(store.ev_roots.get(sha, ())),
                }
            )
    if fmt == "json":
        import json

        data = {"label": store.label, "version": store.version, "roots": rows}
        out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return 0
    out.write(f"{store.label}\n")
    for row in rows:
        constrained = (
            f"  constrained to {', '.join(row['constraints'])}" if row["constraints"] else ""
        )
        out.write(
            f"{row['sha256']}  {row['not_after'][:10]}  {_safe(row['subject'])}{constrained}\n"
        )
    return 0


def _list_versions(fmt: str, out: IO[str]) -> int:
    import mailtls.roots as roots

    current = roots.load()
    stores = roots.versions()
    if fmt == "json":
        import json

        data = [
            {
                "version": s.version,
                "label": s.label,
                "roots": len(s.roots),
                "imported_at": s.imported_at.isoformat(),
                "path": str(s.path),
                "source": s.source,
                "current": current is not None and s.version == current.version,
            }
            for s in stores
        ]
        out.write(json.dumps(data, indent=2) + "\n")
        return 0
    if not stores:
        out.write(f"no cached versions ({STANDIN.removeprefix('none cached: ')})\n")
        return 0
    for s in stores:
        mark = "*" if current is not None and s.version == current.version else " "
        out.write(
            f"{mark} {s.version}  {len(s.roots):4d} roots  cached {s.imported_at:%Y-%m-%d}  "
            f"{_safe(s.source)}\n"
        )
    return 0


def _safe(text: str) -> str:
    """Terminal-safe: control characters (escape sequences included) shown as escapes."""
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
