"""Import and download Apple's trust store (``mailtls roots update``), and ``check``'s
automatic fetch with its day of back-off.

The download is HTTPS only, verified with ``ssl.create_default_context()`` (the system's
roots, or ``$SSL_CERT_FILE``), redirects only to HTTPS, one deadline for the whole
transfer (connect, every read), a size cap, and a Content-Length that must be met. The
archive goes to a temporary file in the data directory, is read member by member
(layout.py), verified (verify.py) and cached (cache.py). Nothing is cached unless all of
that succeeded; the previous cache is never touched by a failure.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mailtls.roots import DEFAULT_URL, URL_ENV, AppleStore, FetchError, StoreError, data_dir
from mailtls.roots import cache as _cache

#: After a failed automatic fetch, ``check`` does not try again for this long.
BACKOFF = timedelta(days=1)
_CHUNK = 64 * 1024
_HINT = "run `mailtls roots update` (or `mailtls roots update --from PATH` offline)"


def _store(files: dict[str, bytes], *, source: str, force: bool) -> AppleStore:
    from mailtls.roots.verify import verify

    version = verify(files, force=force)
    current = _cache.load()
    if current is not None and version < current.version and not force:
        raise StoreError(
            f"{source}: version {version} is older than the cached {current.version} "
            "(refused; --force to use it)"
        )
    if not force:
        existing = _cache.load(version)
        if existing is not None:  # the same version again: up to date, nothing to rewrite
            _cache.set_current(version)
            return existing
    return _cache.write_version(files, version, source=source)


def import_from(path: Path, *, force: bool = False) -> AppleStore:
    from mailtls.roots.layout import read_source

    path = path.expanduser()
    files = read_source(path)
    return _store(files, source=str(path.resolve()), force=force)


def resolve_url(url: str | None) -> str:
    chosen = url or os.environ.get(URL_ENV) or DEFAULT_URL
    if not chosen.lower().startswith("https://"):
        raise StoreError(
            f"{chosen}: only https:// URLs are fetched (give a local file or directory with --from)"
        )
    return chosen


def fetch(
    url: str | None = None,
    *,
    deadline: float = 30.0,
    force: bool = False,
    _context: Any = None,
) -> AppleStore:
    """Download ``url`` (default ``$MAILTLS_ROOTS_URL`` or :data:`DEFAULT_URL`), verify and
    cache it. ``_context`` (an ``ssl.SSLContext``) is for tests."""
    from mailtls.roots.layout import read_archive

    chosen = resolve_url(url)
    root = data_dir() / _cache.STORE_DIR
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix="tmp-download-", suffix=".tar.gz", dir=root)
    except OSError as exc:
        raise StoreError(f"{root}: cannot write the cache ({exc.strerror or exc})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _download(chosen, out, deadline=deadline, context=_context)
        try:
            files = read_archive(tmp)
        except StoreError as exc:
            raise StoreError(f"{chosen}: {str(exc).removeprefix(f'{tmp}: ')}") from None
        return _store(files, source=chosen, force=force)
    finally:
        tmp.unlink(missing_ok=True)


class _HTTPSOnlyRedirects:
    """Built lazily (urllib is imported inside functions): refuse a redirect off HTTPS."""

    @staticmethod
    def handler() -> Any:
        import urllib.request

        class Handler(urllib.request.HTTPRedirectHandler):
            def redirect_request(
                self, req: Any, fp: Any, code: Any, msg: Any, headers: Any, newurl: str
            ) -> Any:  # type: ignore[override]
                if not newurl.lower().startswith("https://"):
                    raise FetchError(
                        f"{req.full_url}: redirected to a non-HTTPS URL {newurl} (refused)"
                    )
                return super().redirect_request(req, fp, code, msg, headers, newurl)

        return Handler()


def _download(
    url: str, out: Any, *, deadline: float, context: Any, max_bytes: int | None = None
) -> None:
    """Copy ``url`` into ``out`` within ``deadline`` seconds; FetchError on any failure."""
    import http.client
    import ssl
    import urllib.error
    import urllib.request

    from mailtls.roots.layout import MAX_TOTAL_BYTES

    limit = MAX_TOTAL_BYTES if max_bytes is None else max_bytes
    end = time.monotonic() + deadline

    def remaining() -> float:
        left = end - time.monotonic()
        if left <= 0:
            raise FetchError(f"{url}: the download took longer than {deadline:g} s (gave up)")
        return left

    ctx = context if context is not None else ssl.create_default_context()
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=ctx), _HTTPSOnlyRedirects.handler()
    )
    request = urllib.request.Request(url, headers={"User-Agent": "mailtls (trust store update)"})
    received = 0
    try:
        with opener.open(request, timeout=remaining()) as response:
            length_header = response.headers.get("Content-Length")
            expected = int(length_header) if length_header and length_header.isdigit() else None
            if expected is not None and expected > limit:
                raise FetchError(f"{url}: {expected} bytes, more than {limit} bytes (refused)")
            sock = _socket_of(response)
            while True:
                left = remaining()
                if sock is not None and not response.isclosed():
                    with contextlib.suppress(OSError):  # closed once the body is all read
                        sock.settimeout(left)
                chunk = response.read(_CHUNK)
                remaining()
                if not chunk:
                    break
                received += len(chunk)
                if received > limit:
                    raise FetchError(f"{url}: more than {limit} bytes (refused)")
                out.write(chunk)
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        exc.close()
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except http.client.IncompleteRead as exc:
        raise FetchError(
            f"{url}: the transfer was cut off after {received + len(exc.partial)} bytes"
        ) from None
    except TimeoutError:
        raise FetchError(f"{url}: no answer within {deadline:g} s (gave up)") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            detail = f"the server's certificate could not be verified ({reason.verify_message})"
        elif isinstance(reason, TimeoutError):
            detail = f"no answer within {deadline:g} s"
        else:
            detail = str(reason)
        raise FetchError(f"{url}: {detail}") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}".rstrip(": ")) from None
    if expected is not None and received != expected:
        raise FetchError(f"{url}: the transfer was cut off ({received} of {expected} bytes)")


def _socket_of(response: Any) -> Any:
    """The socket under an http.client response, to apply the deadline to every read."""
    with contextlib.suppress(AttributeError):
        return response.fp.raw._sock
    return None


# --- check's automatic fetch ----------------------------------------------------------------


def auto_fetch(
    deadline: float = 8.0, *, _now: datetime | None = None
) -> tuple[AppleStore | None, str]:
    now = _now or datetime.now(UTC)
    failure = _cache.read_failure()
    if failure is not None and now - failure[0] < BACKOFF:
        when, reason = failure
        retry = (when + BACKOFF).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return None, (
            f"Apple's trust store is not cached and could not be fetched ({reason}); "
            f"not trying again before {retry}: {_HINT}"
        )
    result: list[AppleStore] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            result.append(fetch(None, deadline=max(deadline * 0.9, deadline - 0.5)))
        except BaseException as exc:  # handed to the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=work, name="mailtls-roots-fetch", daemon=True)
    thread.start()
    thread.join(deadline)  # the fetch keeps a shorter deadline; this bounds DNS look-ups too
    if result:
        _cache.clear_failure()
        return result[0], ""
    if errors and isinstance(errors[0], KeyboardInterrupt):
        raise errors[0]
    if errors:
        exc = errors[0]
        reason = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
    else:
        reason = f"no answer within {deadline:g} s"
    reason = " ".join(reason.split())
    _cache.write_failure(now, reason)
    return None, f"Apple's trust store could not be fetched ({reason}); {_HINT}"
