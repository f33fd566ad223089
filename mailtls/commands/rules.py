"""``mailtls rules``: the iOS trust rules mailtls checks, from the rule metadata.

``--format markdown`` writes docs/rules.md (generated; a test keeps it in step).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

FORMATS = ("text", "json", "markdown")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list the iOS trust rules mailtls checks (id, Apple key, class, root kinds)",
        description=(
            "Print the rule table: each iOS trust rule with its id (from ios-trust-rules.md), "
            "Apple's check key, result class (R recoverable / F fatal), the kinds of root it "
            "applies to, and where it comes from. docs/rules.md is "
            "'mailtls rules --format markdown'."
        ),
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default text)"
    )


def run(args: argparse.Namespace) -> int:
    from mailtls.analysis.ruledoc import rules_json, rules_markdown, rules_text

    if args.format == "json":
        sys.stdout.write(json.dumps(rules_json(), indent=2, ensure_ascii=False) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(rules_markdown())
    else:
        sys.stdout.write(rules_text())
    return 0
