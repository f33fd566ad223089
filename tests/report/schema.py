"""The committed JSON Schema of ``mailtls check --format json``, as a validator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "schema" / "check-report.schema.json"


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def endpoint_validator() -> jsonschema.Draft202012Validator:
    """Validates one endpoint object (a jsonl line with record=endpoint)."""
    schema = json.loads(SCHEMA_PATH.read_text())
    sub = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/endpoint"}
    return jsonschema.Draft202012Validator(sub)


def validate(document: Any) -> None:
    errors = sorted(validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
