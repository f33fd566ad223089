"""Shared constants for the remedy tests."""

from __future__ import annotations

from datetime import UTC, datetime

#: The fixed "now" every remedy test uses (mailtls never reads the clock in a library call
#: that takes ``now``/``at``).
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
