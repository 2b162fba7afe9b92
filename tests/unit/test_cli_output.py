"""Outside a terminal (every CI log, a pipe, a file) nothing the CLI prints is wrapped or cut
(issue 20, item 6): full ARNs, URLs and stack names, one record per line. Before, rich fitted
every table to 80 columns: `concert-platform...`, ARNs ending in `...`, values split over lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ENVIRONMENT = "pipe-check"


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[str, dict[str, str]]]:
    """`engine serve`, with the networking and storage stacks of one environment deployed."""
    server = subprocess.Popen(
        [str(BIN / "concert-platform"), "engine", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        endpoint = server.stdout.readline().rsplit(" ", 1)[1].strip()  # type: ignore[union-attr]
        env = {**os.environ, "COLUMNS": "80", "TERM": "xterm-256color"}  # what made rich cut at 80
        target = ["--engine", "localstack", "--endpoint-url", endpoint, "--environment", ENVIRONMENT]
        deploy = subprocess.run(
            [str(BIN / "concert-platform"), "deploy", *target, "--only", "networking", "storage", "--yes"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env={**env, "REDSHIFT_MASTER_PASSWORD": "Piped0utputCheck1"},
        )
        assert deploy.returncode == 0, deploy.stderr
        yield endpoint, {"env": env, "target": target}  # type: ignore[misc]
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)


def cli(deployed: tuple[str, dict], *argv: str) -> str:
    _endpoint, context = deployed
    done = subprocess.run(
        [str(BIN / "concert-platform"), *argv, *context["target"]],
        capture_output=True,  # a pipe, as in CI
        text=True,
        timeout=300,
        check=False,
        env=context["env"],
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_outputs_through_a_pipe_show_every_arn_whole_on_one_line(deployed: tuple[str, dict]) -> None:
    values = json.loads(cli(deployed, "outputs", "--json"))
    text = cli(deployed, "outputs")
    arns = [v for outputs in values.values() for v in outputs.values() if v.startswith("arn:")]
    assert len(arns) >= 5 and max(len(a) for a in arns) > 60, arns
    lines = text.splitlines()
    for stack, outputs in values.items():
        for name, value in outputs.items():
            # the stack key, the output name and its full value on one line
            assert any(stack in line and name in line and value in line for line in lines), (name, value)
    assert "…" not in text and "..." not in text


def test_status_through_a_pipe_shows_full_stack_names(deployed: tuple[str, dict]) -> None:
    text = cli(deployed, "status")
    for key in ("networking", "storage"):
        name = f"concert-platform-{key}-{ENVIRONMENT}"
        assert any(name in line and "CREATE_COMPLETE" in line for line in text.splitlines()), text
    assert "…" not in text


def test_a_terminal_still_gets_a_console_that_fits_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    from concert_platform.console import UNLIMITED_WIDTH, output_console

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert output_console().width == 80
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert output_console().width == UNLIMITED_WIDTH
