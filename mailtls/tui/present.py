"""What only the screens add to the shared words (:mod:`mailtls.report.words`).

* :func:`verdict_class` gives the CSS class of a verdict (colour doubles the word, never
  replaces it).
* :func:`summary_sentences` is the overview's read-out, ending with the key that changes
  the target when nothing could be checked.
"""

from __future__ import annotations

from mailtls.model import EndpointReport, Report, Verdict
from mailtls.report import words

#: CSS class per verdict (and for endpoints that could not be checked).
VERDICT_CLASSES: dict[Verdict | None, str] = {
    Verdict.FATAL: "verdict-fatal",
    Verdict.PROMPT: "verdict-prompt",
    Verdict.NEEDS_PROFILE: "verdict-profile",
    Verdict.TRUSTED: "verdict-trusted",
    None: "verdict-unchecked",
}


def verdict_class(report: EndpointReport) -> str:
    return VERDICT_CLASSES[report.verdict]


def summary_sentences(report: Report) -> list[str]:
    return words.summary_sentences(report, retry_hint=" (n changes the target)")
