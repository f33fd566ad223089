"""Rich styles for table cells, which cannot take CSS classes.

Kept next to the app's .tcss colours: green trusted, yellow needs profile, red warns,
reverse red fatal, grey unchecked. Each is always paired with a word.
"""

from __future__ import annotations

from mailtls.model import Severity

VERDICT_STYLES: dict[str, str] = {
    "verdict-trusted": "bold green",
    "verdict-profile": "bold yellow",
    "verdict-prompt": "bold red",
    "verdict-fatal": "bold reverse red",
    "verdict-unchecked": "bold bright_black",
}

SEVERITY_STYLES: dict[Severity, str] = {
    Severity.FATAL: "bold reverse red",
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.INFO: "cyan",
}


def verdict_style(css_class: str) -> str:
    return VERDICT_STYLES.get(css_class, "bold")


def severity_style(severity: Severity) -> str:
    return SEVERITY_STYLES[severity]
