"""Which release of Apple's trust store an iOS release shipped with, where a source says.

The version shows on the iPhone under Settings > General > About > Certificate Trust
Settings. Apple's per-release lists of trusted roots (support.apple.com/103272) name it,
but mailtls could only cite user-collected tables for these pairs; docs/trust-store.md
lists them with their sources. A release not in the table picks nothing (``--ios`` then
only changes the rules, and the current store is used, said so on stderr).
"""

from __future__ import annotations

#: (first iOS release, last iOS release) -> trust store version; both ends inclusive, as
#: (major, minor). Source: discussions.apple.com/docs/DOC-250009603 (user table; iOS 26
#: matches security_certificates-55349.0.11's AssetVersion.plist), and for 18.0-18.3
#: discussions-jp-prz.apple.com/thread/256010658.
IOS_STORES: tuple[tuple[tuple[int, int], tuple[int, int], int], ...] = (
    ((18, 0), (18, 3), 2024051501),
    ((18, 4), (18, 4), 2025022600),
    ((18, 5), (18, 99), 2025031200),
    ((26, 0), (26, 99), 2025072000),
)


def store_version_for_ios(text: str) -> int | None:
    """The trust store version of that iOS release, if a source ties one to it."""
    from mailtls.analysis.registry import parse_ios_version

    try:
        wanted = parse_ios_version(text)
    except ValueError:
        return None
    for first, last, version in IOS_STORES:
        if first <= wanted <= last:
            return version
    return None
