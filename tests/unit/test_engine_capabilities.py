"""Engines say what they can do (`Engine.capabilities`); the harness asks that, never the name.

An external endpoint's capabilities come from its `/_concert/health` document: the served
embedded engine declares its warehouse there, as LocalStack with this project's extension can.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from concert_platform.engines import create_engine, default_region
from concert_platform.engines.base import Capabilities, EngineLacksCapability
from concert_platform.engines.embedded import SERVED_CAPABILITIES, health_document
from concert_platform.engines.localstack import LocalStackEngine, declared_capabilities
from concert_platform.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def test_each_engine_declares_what_differs() -> None:
    embedded = create_engine("embedded", "us-east-1").capabilities
    localstack = create_engine("localstack", "us-east-1", "http://127.0.0.1:9").capabilities
    aws = create_engine("aws", "us-east-1").capabilities
    assert (embedded.runs_function_code, localstack.runs_function_code, aws.runs_function_code) == (
        False,
        True,
        True,
    )
    assert (embedded.has_warehouse, localstack.has_warehouse, aws.has_warehouse) == (True, False, True)
    assert embedded.evaluates_alarms and embedded.iam_ledger and embedded.ephemeral
    assert not any((aws.evaluates_alarms, aws.iam_ledger, aws.ephemeral, localstack.ephemeral))
    assert aws.poll_seconds == 5.0 and embedded.poll_seconds == localstack.poll_seconds == 0.05
    assert "redshift-serverless" in localstack.optional_services and not embedded.optional_services


def test_what_an_engine_cannot_do_is_refused_with_its_name() -> None:
    aws = create_engine("aws", "us-east-1")
    with pytest.raises(EngineLacksCapability, match="the aws engine cannot advance its clock"):
        aws.advance_clock(60)
    with pytest.raises(EngineLacksCapability, match="the aws engine cannot run functions locally"):
        aws.function_runtime()
    with pytest.raises(EngineLacksCapability, match="record IAM decisions"):
        aws.iam_ledger()
    assert aws.unevaluated_filters() == []  # nothing to report is not a refusal
    assert aws.api_base_url("abc", "dev", "https://abc.execute-api/dev") == "https://abc.execute-api/dev"
    localstack = LocalStackEngine("us-east-1", "http://127.0.0.1:4566")
    assert localstack.api_base_url("abc", "dev", "ignored") == (
        "http://127.0.0.1:4566/restapis/abc/dev/_user_request_"
    )


def test_a_health_document_declares_only_known_capabilities() -> None:
    base = Capabilities()
    declared = declared_capabilities(base, {"capabilities": ["has_warehouse", "ephemeral", "bogus"]})
    assert declared == Capabilities(has_warehouse=True)  # ephemeral is not the endpoint's to say
    assert declared_capabilities(base, {"capabilities": "has_warehouse"}) is base
    assert declared_capabilities(base, {}) is base
    served = declared_capabilities(SERVED_CAPABILITIES, health_document())
    assert served.has_warehouse and not served.runs_function_code


class _Health(BaseHTTPRequestHandler):
    document: dict[str, Any] | None = None
    #: what POST /_concert/alarms/evaluate answers (status), and the bodies it was sent
    evaluate_status: int = 404
    evaluated: list[dict[str, Any]] = []
    #: the alarms the route says it evaluated
    alarms: list[str] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.path != "/_concert/alarms/evaluate" or self.evaluate_status != 200:
            self.send_error(self.evaluate_status if self.path == "/_concert/alarms/evaluate" else 404)
            return
        self.evaluated.append(body)
        answer = json.dumps({"evaluated": self.alarms}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self) -> None:
        if self.path != "/_concert/health" or self.document is None:
            self.send_error(404)
            return
        body = json.dumps(self.document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, type[_Health]]]:
    for name in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "LOCALSTACK_ENDPOINT", "USE_SSL"):
        monkeypatch.delenv(name, raising=False)
    handler = type("Health", (_Health,), {"document": None, "evaluated": [], "alarms": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_plain_localstack_has_no_warehouse_and_an_extension_can_declare_one(
    endpoint: tuple[str, type[_Health]],
) -> None:
    url, handler = endpoint
    with LocalStackEngine("us-east-1", url) as plain:  # no /_concert/health: LocalStack as it ships
        assert not plain.served_embedded and not plain.capabilities.has_warehouse
        assert plain.unverifiable_types  # its free tier has no Redshift Serverless
    handler.document = {"status": "running", "capabilities": ["has_warehouse"]}
    with LocalStackEngine("us-east-1", url) as extended:
        assert extended.capabilities.has_warehouse and extended.capabilities.runs_function_code
    handler.document = health_document()  # what `concert-platform engine serve` answers
    with LocalStackEngine("us-east-1", url) as served:
        assert served.served_embedded and served.capabilities.has_warehouse
        assert not served.runs_function_code and not served.unverifiable_types
        assert not served.capabilities.evaluates_alarms  # its clock is in the serving process


def test_the_region_default_is_the_same_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from concert_platform.cli import build_parser

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert default_region() == "eu-west-1"
    assert build_parser().parse_args(["status"]).region == "eu-west-1"
    assert build_parser().parse_args(["e2e"]).region == "eu-west-1"
    monkeypatch.delenv("AWS_REGION")
    assert default_region() == "eu-central-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert default_region() == "us-east-1"


def test_e2e_checks_the_template_files_as_the_cli_does(tmp_path: Path) -> None:
    from concert_platform.e2e import run_e2e
    from concert_platform.manifest import load_manifest

    shutil.copy(ROOT / "stacks.yaml", tmp_path / "stacks.yaml")  # the manifest without its templates
    with pytest.raises(UsageError, match=r"template .* for stack networking is missing"):
        run_e2e("embedded", "unit", "us-east-1", None, False, manifest=load_manifest(tmp_path))


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, frozenset):
        return ", ".join(sorted(value)) or "-"
    return str(value)


def test_localstack_with_the_extension_verifies_redshift_and_holds_sql_but_not_iam(
    endpoint: tuple[str, type[_Health]],
) -> None:
    from concert_platform.engines.localstack_gaps import KNOWN_LOCALSTACK_GAPS

    url, handler = endpoint
    handler.document = {
        "engine": "localstack",
        "extension": "concert-localstack-ext",
        "capabilities": ["has_warehouse"],
        "lambda_executor": "concert",
    }
    with LocalStackEngine("us-east-1", url) as extended:
        assert extended.capabilities.has_warehouse and extended.runs_function_code
        assert not extended.unverifiable_types  # its Redshift Serverless is read back
        assert extended.canary_exemption("sql") is None  # the Data API runs SQL: held to it
        assert "not enforce IAM" in (extended.canary_exemption("iam") or "")
        assert extended.canary_exemption("kms")
        assert "runtime executor: concert" in extended.function_path()
        # the committed list of LocalStack's gaps applies (empty since the extension fixed its last)
        assert extended.known_gaps is KNOWN_LOCALSTACK_GAPS
    handler.document = None
    with LocalStackEngine("us-east-1", url) as plain:
        assert plain.canary_exemption("sql") and not plain.known_gaps
        assert plain.known_gaps is not KNOWN_LOCALSTACK_GAPS


def test_a_mismatch_is_a_known_gap_only_when_every_property_is_listed() -> None:
    from concert_platform.engines.base import Engine

    class Gappy(Engine):
        known_gaps = {"AWS::Logs::LogGroup": {"RetentionInDays": "dropped by the provider"}}

    engine = Gappy("us-east-1")
    listed = ["RetentionInDays: the engine does not return it (retentionInDays)"]
    assert engine.known_gap("AWS::Logs::LogGroup", listed) == "RetentionInDays: dropped by the provider"
    assert engine.known_gap("AWS::Logs::LogGroup", [*listed, "KmsKeyId: engine has None"]) is None
    assert engine.known_gap("AWS::S3::Bucket", listed) is None
    assert Engine("us-east-1").known_gap("AWS::Logs::LogGroup", listed) is None


def test_the_capabilities_table_in_the_architecture_doc_is_the_code() -> None:
    import dataclasses

    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text.split("<!-- capabilities:start -->")[1].split("<!-- capabilities:end -->")[0]
    rows = {
        cells[0]: cells[1:5]
        for line in table.strip().splitlines()[2:]
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    served = declared_capabilities(SERVED_CAPABILITIES, health_document())
    engines = [
        create_engine("embedded", "us-east-1").capabilities,
        create_engine("localstack", "us-east-1", "http://127.0.0.1:9").capabilities,
        served,
        create_engine("aws", "us-east-1").capabilities,
    ]
    expected = {
        field.name: [_cell(getattr(capabilities, field.name)) for capabilities in engines]
        for field in dataclasses.fields(Capabilities)
    }
    assert rows == expected


def test_known_engine_gaps_do_not_fail_the_run_and_the_report_says_it_is_not_a_full_verification() -> None:
    from concert_platform.e2e import collect_failures
    from concert_platform.reports import _resources_line

    gap = {
        "stack": "compute",
        "logical_id": "ChatbotLogGroup",
        "type": "AWS::Logs::LogGroup",
        "reason": "RetentionInDays: ... (known engine gap: RetentionInDays: dropped)",
        "exempt": True,
        "known_gap": True,
    }
    failure = {**gap, "logical_id": "Other", "exempt": False, "known_gap": False, "reason": "Tags: missing"}
    report: dict[str, Any] = {
        "errors": [],
        "post_deploy": [],
        "resources": {"declared": 3, "verified": 1, "known_gaps": 1, "unverified": [gap, failure]},
        "smoke": {"checks": [{"name": "x", "ok": True, "detail": ""}], "ran": True},
    }
    failures = collect_failures(report)
    assert [f["check"] for f in failures] == ["compute/Other (AWS::Logs::LogGroup)"]
    line = _resources_line(report)
    assert "1 of 3 declared resources verified" in line
    assert "1 with known engine gaps only" in line and "not a full verification" in line


def test_localstack_with_the_extension_names_failed_functions_and_evaluates_alarms_on_request(
    endpoint: tuple[str, type[_Health]],
) -> None:
    url, handler = endpoint
    with LocalStackEngine("eu-west-1", url) as plain:  # LocalStack as it ships
        assert not plain.capabilities.enforces_iam and not plain.capabilities.names_failed_functions
        assert not plain.evaluate_alarms_now() and not handler.evaluated  # waits for its schedule
    handler.document = {
        "engine": "localstack",
        "extension": "concert-localstack-ext",
        "capabilities": ["has_warehouse", "names_failed_functions"],
        "lambda_executor": "concert",
        "alarm_evaluation": True,
    }
    with LocalStackEngine("eu-west-1", url) as extended:
        assert extended.capabilities.names_failed_functions and not extended.capabilities.enforces_iam
        assert not extended.capabilities.evaluates_alarms  # its clock still cannot be advanced
        handler.evaluate_status = 500  # the route fails: the caller waits, nothing is claimed
        assert not extended.evaluate_alarms_now()
        handler.evaluate_status = 200
        assert extended.evaluate_alarms_now()
        # the canary's own alarm must be among those evaluated (another account or region: not)
        assert not extended.evaluate_alarms_now("concert-canary-x")
        handler.alarms = ["concert-canary-x"]
        assert extended.evaluate_alarms_now("concert-canary-x")
        # only the named alarm is asked for (a shared LocalStack's other alarms keep their schedule)
        assert (
            handler.evaluated
            == [{"region": "eu-west-1"}] + [{"region": "eu-west-1", "alarms": ["concert-canary-x"]}] * 2
        )
