"""What a person types for "judge as of" (``--at``, the TUI's form) -> an aware UTC time.

One parser for every front end, so each says the same thing about a bad date.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mailtls.errors import UsageError


def parse_moment(text: str, label: str = "--at") -> datetime:
    """``2027-03-01``, ``2027-03-01T12:00Z``, ``2027-03-01T14:00+02:00`` -> UTC (a time
    without an offset is UTC). ``label`` names the input in the one-line error."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{label} {text!r}: not a date or time "
            "(use ISO 8601, e.g. 2027-03-01 or 2027-03-01T12:00Z)"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
