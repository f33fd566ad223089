"""Import ``cryptography.x509`` without the regular expression mailtls never uses (issue 8).

``cryptography.x509.name`` compiles, when it is imported, the regular expression of its
RFC 4514 string parser (``x509.Name.from_rfc4514_string``, which mailtls never calls), and
that expression has character classes up to U+10FFFF. Python 3.11's regular expression
compiler builds those classes by looping over 65,536 code points in Python, three times:
about 90 million instructions, 15 % of all a one-host ``mailtls check`` executes (callgrind),
and 9 % of its wall time (30 interleaved pairs of whole-process runs).

:func:`import_x509` imports the package with ``re.compile`` replaced, for that one import,
by a function that returns a :class:`LazyPattern` for patterns containing U+10FFFF and the
usual compiled pattern for any other. A LazyPattern compiles on first use and hands every
attribute (``match``, ``sub``, ``pattern``...) to the real pattern, so the parser works the
same if something ever calls it. Other threads calling ``re.compile`` meanwhile get their
patterns as usual (or a LazyPattern, which behaves as one, for such a pattern). If a
cryptography release drops or moves that expression, nothing is lazy and nothing breaks;
``tests/analysis/test_x509import.py`` checks both the laziness and the parser's answers.
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
from types import ModuleType
from typing import Any

#: The character whose presence marks the expensive class ranges ("\x80-\U0010ffff").
_LAST_CODE_POINT = chr(sys.maxunicode)

_lock = threading.Lock()


class LazyPattern:
    """A regular expression compiled on first use; attributes go to the compiled pattern."""

    __slots__ = ("_args", "_compile", "_compiled")

    def __init__(self, compile_: Any, pattern: str, flags: Any) -> None:
        self._compile = compile_
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = self._compile(*self._args)
        return self._compiled

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        return f"LazyPattern({self._args[0][:40]!r}...)"


def import_x509() -> ModuleType:
    """``cryptography.x509``, imported (the first time) with big Unicode classes compiled
    on first use. Safe from several threads: whoever comes second waits for the import."""
    with _lock:
        if "cryptography.x509" not in sys.modules:
            compile_ = re.compile

            def lazy_compile(pattern: Any, flags: Any = 0) -> Any:
                if isinstance(pattern, str) and _LAST_CODE_POINT in pattern:
                    return LazyPattern(compile_, pattern, flags)
                return compile_(pattern, flags)

            setattr(re, "compile", lazy_compile)  # noqa: B010 - mypy forbids assigning a function
            try:
                importlib.import_module("cryptography.x509")
            finally:
                setattr(re, "compile", compile_)  # noqa: B010
    # A plain import: complete even if another thread's import of it is still under way.
    from cryptography import x509

    return x509
