"""Without one of the extension's CloudFormation providers, the deploy on LocalStack fails naming
that type before the next stack starts (community LocalStack would report the stack complete,
with the resource's physical id `unknown`).

Runs only where LocalStack's environment with the extension exists: CONCERT_LOCALSTACK_PYTHON
(default build/localstack/venv/bin/python). LocalStack is started for this test with
CONCERT_LOCALSTACK_EXT_DISABLE naming the type, which makes that plugin decline to load -- to
LocalStack the same as its entry point being absent -- on CONCERT_LOCALSTACK_TEST_PORT (default:
a free port), with its state in the test's temporary directory; it is stopped at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REMOVED = "AWS::EC2::SecurityGroupEgress"

pytestmark = pytest.mark.integration


def localstack_python() -> Path | None:
    configured = os.environ.get("CONCERT_LOCALSTACK_PYTHON")
    candidate = Path(configured) if configured else ROOT / "build" / "localstack" / "venv" / "bin" / "python"
    return candidate if candidate.is_file() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def localstack_without_one_provider(tmp_path: Path) -> Iterator[str]:
    python = localstack_python()
    if python is None:
        pytest.skip(
            "no LocalStack environment (set CONCERT_LOCALSTACK_PYTHON or build build/localstack/venv)"
        )
    probe = subprocess.run(
        [str(python), "-c", "import localstack, concert_localstack_ext.cfn.plugins"],
        capture_output=True,
        cwd=tmp_path,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"{python} has no LocalStack with the concert extension installed")
    port = int(os.environ.get("CONCERT_LOCALSTACK_TEST_PORT") or free_port())
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            pytest.fail(f"port {port} is taken: this test must talk to the LocalStack it starts")
    env = {
        **os.environ,
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "GATEWAY_SERVER": "hypercorn",  # the default server listens on 0.0.0.0 (docs/localstack.md)
        "LOCALSTACK_HOST": f"127.0.0.1:{port}",
        "DNS_ADDRESS": "0",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(tmp_path / "localstack"),
        "LOCALSTACK_VOLUME_DIR": str(tmp_path / "localstack" / "volume"),
        "DISABLE_EVENTS": "1",
        "CONCERT_LOCALSTACK_EXT_DISABLE": REMOVED,
    }
    log = (tmp_path / "localstack.log").open("w")
    process = subprocess.Popen(
        [str(python), "-m", "localstack.runtime.main"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/_localstack/health", timeout=1).close()  # noqa: S310
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"LocalStack did not come up on {url}; see {log.name}")
                time.sleep(0.5)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def test_a_missing_provider_fails_the_deploy_naming_the_type(
    localstack_without_one_provider: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from concert_platform import cli

    for name in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "LOCALSTACK_ENDPOINT", "USE_SSL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDSHIFT_MASTER_PASSWORD", "Integration-Passw0rd")
    code = cli.main(
        [
            "deploy",
            "--engine",
            "localstack",
            "--endpoint-url",
            localstack_without_one_provider,
            "--environment",
            "noprov",
            "--only",
            "networking",
            "storage",
            "--json",
            "--yes",
        ]
    )
    out, err = capsys.readouterr()
    assert code != 0, out
    assert "Traceback" not in out + err
    message = out + err
    assert f"(it has no provider for {REMOVED})" in message, message
    assert "declared resource LambdaHttpsEgress (AWS::EC2::SecurityGroupEgress) was not created" in message
    # it stopped at the networking stack: the next one never started
    import boto3

    cfn = boto3.client(
        "cloudformation",
        endpoint_url=localstack_without_one_provider,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    names = {s["StackName"] for s in cfn.list_stacks()["StackSummaries"]}
    assert "concert-platform-networking-noprov" in names
    assert "concert-platform-storage-noprov" not in names
