"""The external-endpoint path: `engine serve`, localstack-client sessions, and an engine that lies.

Raw `moto_server` (no extensions) is what LocalStack's community edition does with types it does
not support: it creates nothing and reports the stack complete. The e2e must say so, by
resource, write its reports, and leave nothing behind that it could delete.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 - a local test URL
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds}s")


@pytest.fixture
def no_endpoint_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "LOCALSTACK_ENDPOINT", "USE_SSL"):
        monkeypatch.delenv(name, raising=False)


def test_engine_serve_answers_health_serves_localstack_client_and_stops_cleanly(
    no_endpoint_settings: None,
) -> None:
    from concert_platform.engines.localstack import LocalStackEngine

    server = subprocess.Popen(
        [str(BIN / "concert-platform"), "engine", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = server.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("embedded engine serving on http://127.0.0.1:"), first
        endpoint = first.rsplit(" ", 1)[1].strip()
        with urllib.request.urlopen(f"{endpoint}/_concert/health", timeout=5) as response:  # noqa: S310
            health = json.loads(response.read())
        assert health["engine"] == "embedded" and health["services"]["cloudformation"] == "running"
        with LocalStackEngine("us-east-1", endpoint) as engine:
            assert engine.served_embedded and not engine.runs_function_code
            engine.client("s3").create_bucket(Bucket="served-bucket")
            assert [b["Name"] for b in engine.client("s3").list_buckets()["Buckets"]] == ["served-bucket"]
            # a service localstack-client does not map still reaches the same endpoint
            assert engine.client("redshift-serverless").list_namespaces()["namespaces"] == []
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "embedded engine stopped" in err and "Traceback" not in err


def test_localstack_engine_follows_localstack_client_conventions(monkeypatch: pytest.MonkeyPatch) -> None:
    from concert_platform.engines.localstack import LocalStackEngine
    from concert_platform.errors import UsageError

    for name in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "LOCALSTACK_ENDPOINT", "USE_SSL"):
        monkeypatch.delenv(name, raising=False)
    assert LocalStackEngine("us-east-1").endpoint_url == "http://localhost:4566"
    monkeypatch.setenv("LOCALSTACK_HOST", "emulator:4599")
    assert LocalStackEngine("us-east-1").endpoint_url == "http://emulator:4599"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://other:1234")
    assert LocalStackEngine("us-east-1").endpoint_url == "http://other:1234"
    conflicting = LocalStackEngine("us-east-1", "http://127.0.0.1:9")
    with pytest.raises(UsageError, match="disagrees with localstack-client"):
        conflicting.localstack_session()


@pytest.fixture
def raw_moto() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_for(f"{endpoint}/moto-api/")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_an_engine_that_reports_complete_without_creating_is_named_and_cleaned_up(
    raw_moto: str,
    no_endpoint_settings: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from test_embedded_lifecycle import small_artifacts

    from concert_platform import cli, workflow

    monkeypatch.setattr(workflow, "build_artifacts", lambda _manifest: small_artifacts())
    code = cli.main(
        [
            "e2e",
            "--engine",
            "localstack",
            "--endpoint-url",
            raw_moto,
            "--environment",
            "lie",
            "--reports-dir",
            str(tmp_path),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    report = json.loads((tmp_path / "e2e-localstack-lie.json").read_text())
    assert (tmp_path / "e2e-localstack-lie.xml").is_file() and (tmp_path / "e2e-localstack-lie.md").is_file()
    reason = report["reason"]
    assert reason.startswith(
        "deploy: engine localstack reported stack concert-platform-networking-lie CREATE_COMPLETE"
    )
    assert "declared resource LambdaHttpsEgress (AWS::EC2::SecurityGroupEgress) does not exist" in reason
    assert "LambdaDeploymentBucketName" not in reason  # the old, misleading message
    # every missing item is in the JSON: the list is never cut ("and 4 more")
    count = int(re.search(r"but (\d+) declared item\(s\) are not there", reason).group(1))  # type: ignore[union-attr]
    assert count > 12 and reason.count("declared resource ") + reason.count("declared output ") == count
    assert not re.search(r"and \d+ more(?! failure)", reason), reason
    # the rejected stack is not shown CREATE_COMPLETE in 0.00 s
    networking = report["stacks"][0]
    assert networking["status"] == "failed (engine: CREATE_COMPLETE)" and networking["seconds"] > 0
    assert all(row["seconds"] is None for row in report["stacks"][1:])
    assert "0.00" not in out and "CREATE_COMPLETE │ 0.00" not in out
    # phases that never ran say so, and why
    assert "resources: not run: the deploy failed" in out and "smoke: not run: the deploy failed" in out
    assert "0 of 0" not in out and "0 passed" not in out
    assert report["engine_version"] is None and "version not reported" in out
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", report["started_at"])
    teardown = report["teardown"]
    assert teardown["recorded"] > 0
    assert teardown["remaining"] == [] and teardown["confirmed_gone"] == teardown["recorded"], teardown
    assert teardown["clean"] is False  # the engine's own stack deletion failed, and the report says so
    assert teardown["stack_failures"]
    # NOT CLEAN names what remains
    line = next(x for x in out.splitlines() if x.startswith("teardown:"))
    assert (
        line.startswith("teardown: NOT CLEAN; remains: stack deletion: ")
        and teardown["stack_failures"][0] in line
    )


def test_an_unreachable_endpoint_still_ends_with_the_three_reports(
    no_endpoint_settings: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from concert_platform import cli

    url = f"http://127.0.0.1:{free_port()}"
    code = cli.main(
        ["e2e", "--engine", "localstack", "--endpoint-url", url, "-e", "unr", "--reports-dir", str(tmp_path)]
    )
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in out + err
    report = json.loads((tmp_path / "e2e-localstack-unr.json").read_text())
    assert report["reason"].startswith(f"deploy: engine localstack: endpoint {url} is unreachable")
    assert "teardown: not run" in (tmp_path / "e2e-localstack-unr.md").read_text()
    assert (tmp_path / "e2e-localstack-unr.xml").is_file()
