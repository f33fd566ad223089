"""--format json / jsonl on hand-built reports: the names of the contract and the schema."""

from __future__ import annotations

import io
import json

import pytest

from mailtls.model import Status
from mailtls.report.json import (
    SCHEMA_VERSION,
    JsonLinesWriter,
    endpoint_to_json,
    render,
    render_lines,
)
from tests.report.factory import HOSTNAME_FINDING, endpoint, mixed_report, report
from tests.report.schema import endpoint_validator, validate

CONTRACT = {
    "url",
    "host",
    "address",
    "port",
    "protocol",
    "tls_mode",
    "status",
    "error",
    "phase",
    "tls_version",
    "cipher",
    "accepted_tls_versions",
    "capabilities",
    "chain",
    "verdict",
    "anchor_kind",
    "findings",
    "summary",
}
CERT_FIELDS = {
    "sha256",
    "subject",
    "issuer",
    "serial",
    "not_before",
    "not_after",
    "san",
    "key_type",
    "key_size",
    "signature_algorithm",
    "basic_constraints",
    "eku",
}
FINDING_FIELDS = {
    "rule_id",
    "check_key",
    "result_class",
    "severity",
    "cert_index",
    "evidence",
    "summary",
    "user_sees",
    "fix",
    "citation",
}


def test_document_validates_and_has_every_contract_name() -> None:
    document = json.loads(render(mixed_report()))
    validate(document)
    assert document["schema_version"] == SCHEMA_VERSION
    for item in document["endpoints"]:
        assert set(item) >= CONTRACT
    prompt = next(e for e in document["endpoints"] if e["verdict"] == "prompt")
    assert prompt["tls_mode"] == "starttls" and prompt["port"] == 587
    assert set(prompt["chain"][0]) >= CERT_FIELDS
    assert set(prompt["findings"][0]) >= FINDING_FIELDS
    assert prompt["findings"][0]["check_key"] == "SSLHostname"
    assert prompt["chain"][0]["not_after"].endswith("Z")
    refused = next(e for e in document["endpoints"] if e["status"] == "refused")
    assert refused["verdict"] is None and refused["chain"] == [] and refused["phase"] == "connect"
    assert document["summary"]["exit_code"] == 1


def test_schema_rejects_a_missing_contract_name() -> None:
    document = json.loads(render(mixed_report()))
    del document["endpoints"][0]["tls_mode"]
    with pytest.raises(AssertionError, match="tls_mode"):
        validate(document)


def test_schema_rejects_uppercase_fingerprint() -> None:
    document = json.loads(render(mixed_report()))
    document["endpoints"][0]["chain"][0]["sha256"] = "AB" * 32
    with pytest.raises(AssertionError, match=r"sha256|does not match"):
        validate(document)


def test_jsonl_streams_one_endpoint_per_line_and_concatenates() -> None:
    first = report(endpoint("imaps"), findings=(HOSTNAME_FINDING,), errors=("'x': bad target",))
    second = report(endpoint("pop3", verdict=None, status=Status.TIMEOUT))
    stream = io.StringIO()
    writer = JsonLinesWriter(stream)
    for e in first.endpoints:
        writer.on_endpoint_done(e)
    writer.finish(first)
    assert stream.getvalue() == render_lines(first)
    combined = stream.getvalue() + render_lines(second)
    records = [json.loads(line) for line in combined.splitlines()]
    assert [r["record"] for r in records] == ["endpoint", "finding", "error", "endpoint"]
    check = endpoint_validator()
    for r in records:
        assert r["schema_version"] == SCHEMA_VERSION
        if r["record"] == "endpoint":
            check.validate(r)
    assert records[-1]["status"] == "timeout"


def test_endpoint_json_keeps_chain_details_for_untrusted_chains() -> None:
    data = endpoint_to_json(mixed_report().endpoints[1])
    assert data["verdict"] == "prompt"
    assert [c["index"] for c in data["chain"]] == [0, 1]
    assert data["chain"][0]["san"] == ["DNS:server17.hoster.net"]
