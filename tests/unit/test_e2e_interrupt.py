"""Ctrl-C and SIGTERM at each phase of `concert-platform e2e` (issue 20, item 3).

Each test runs the real command in a subprocess against `concert-platform engine serve` (the
embedded engine as an endpoint, so what the run leaves can be asked for after the run's process
is gone), waits for the line that says the phase is running, sends the signal, and then checks:
the exit code (130 for SIGINT, 143 for SIGTERM), the three reports with the verdict
`interrupted` and the phase, and, through the engine itself, that nothing of the environment
remains. Before this change the run died with no report (the previous run's PASSED reports stayed)
and said that stacks keep running in CloudFormation, also on the embedded engine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    server = subprocess.Popen(
        [str(BIN / "concert-platform"), "engine", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        first = server.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("embedded engine serving on "), first
        yield first.rsplit(" ", 1)[1].strip()
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)


def interrupt_at(
    command: list[str], trigger: str, signals: list[tuple[signal.Signals, str]], timeout: float = 600
) -> tuple[int, str, str]:
    """Run `command`; when a stderr line contains `trigger`, send the first signal; each further
    (signal, line) pair is sent when that line appears. Returns (exit code, stdout, stderr)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(process.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    err: list[str] = []
    waiting = [(signals[0][0], trigger), *[(sig, line) for sig, line in signals[1:]]]
    try:
        for line in process.stderr:  # type: ignore[union-attr]
            err.append(line)
            if waiting and waiting[0][1] in line:
                process.send_signal(waiting.pop(0)[0])
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=10)
    assert not waiting, f"never saw {waiting[0][1]!r}:\n{''.join(err)}"
    return process.returncode, "".join(out), "".join(err)


def e2e_command(environment: str, reports: Path, endpoint: str | None) -> list[str]:
    engine = ["--engine", "localstack", "--endpoint-url", endpoint] if endpoint else ["--engine", "embedded"]
    return [
        str(BIN / "concert-platform"),
        "e2e",
        *engine,
        "--environment",
        environment,
        "--reports-dir",
        str(reports),
    ]


def read_reports(reports: Path, engine: str, environment: str) -> dict[str, Any]:
    stem = reports / f"e2e-{engine}-{environment}"
    report = json.loads(stem.with_suffix(".json").read_text())
    junit = ET.fromstring(stem.with_suffix(".xml").read_text())  # noqa: S314 - our own report
    verdicts = {p.get("value") for p in junit.iter("property") if p.get("name") == "verdict"}
    assert verdicts == {"interrupted"}, verdicts
    assert stem.with_suffix(".md").read_text().startswith("# Concert Platform e2e: INTERRUPTED")
    return dict(report)


def nothing_left(endpoint: str, environment: str) -> None:
    from concert_platform.engines.localstack import LocalStackEngine
    from concert_platform.teardown import find_leftovers

    with LocalStackEngine("us-east-1", endpoint) as engine:
        stacks = [
            s["StackName"]
            for s in engine.client("cloudformation").list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE" and s["StackName"].endswith(f"-{environment}")
        ]
        assert stacks == []
        leftovers = [item for item in find_leftovers(engine, environment) if "could not list" not in item]
        assert leftovers == []


@pytest.mark.parametrize(
    ("phase", "trigger", "sig"),
    [
        ("deploy", "created concert-platform-networking-", signal.SIGINT),
        ("verify", "e2e: verify started", signal.SIGTERM),
        ("smoke", "e2e: smoke started", signal.SIGINT),
    ],
)
def test_a_signal_at_each_phase_ends_in_reports_a_teardown_and_its_exit_code(
    served: str, tmp_path: Path, phase: str, trigger: str, sig: signal.Signals
) -> None:
    environment = f"sig-{phase}"
    code, out, err = interrupt_at(e2e_command(environment, tmp_path, served), trigger, [(sig, "")])
    assert code == 128 + sig, err
    assert "Traceback" not in out + err
    assert "keep running in CloudFormation" not in err
    report = read_reports(tmp_path, "localstack", environment)
    assert report["verdict"] == "interrupted" and report["ok"] is False
    assert report["interrupted"]["signal"] == sig.name and report["interrupted"]["phase"] == phase, report[
        "interrupted"
    ]
    assert report["reason"] == f"{phase}: interrupted by {sig.name} during {phase}"
    assert report["teardown"]["clean"] is True, report["teardown"]
    assert report["left"]["items"] == []
    later = {"deploy": ["verify", "smoke"], "verify": ["smoke"], "smoke": []}[phase]
    for skipped in later:
        assert report["not_run"][skipped] == f"interrupted by {sig.name} during {phase}"
        assert f"{'resources' if skipped == 'verify' else skipped}: not run: interrupted" in out
    assert f"interrupted: {sig.name} during {phase}" in out
    # the phase the signal cut short is not reported as if it had run to its end
    not_finished = dict(report["not_finished"])
    if phase == "verify":  # the canaries beside verify, when still waiting on the engine, were stopped too
        assert not_finished.pop("canaries", f"interrupted by {sig.name}") == f"interrupted by {sig.name}"
        assert report["canaries"]["ran"] is True and report["canaries"]["cleanup"] == []
    assert not_finished == {phase: f"interrupted by {sig.name}"}
    assert "teardown" not in report["not_run"]
    if phase != "deploy":
        section = "resources" if phase == "verify" else "smoke"
        assert f"{section}: not finished: interrupted by {sig.name}" in out
    nothing_left(served, environment)


def test_a_second_ctrl_c_stops_the_teardown_and_names_what_may_remain_and_how_to_remove_it(
    served: str, tmp_path: Path
) -> None:
    environment = "sig-twice"
    code, out, err = interrupt_at(
        e2e_command(environment, tmp_path, served),
        "e2e: verify started",
        [(signal.SIGINT, ""), (signal.SIGINT, "tearing down what this run created")],
    )
    assert code == 130, err
    assert "Traceback" not in out + err
    report = read_reports(tmp_path, "localstack", environment)
    assert report["interrupted"]["phase"] == "verify"
    assert report["interrupted"]["again"] == "SIGINT during teardown"
    teardown = report["teardown"]
    assert teardown["clean"] is False and teardown["interrupted"] is True
    assert f"stack concert-platform-networking-{environment}" in teardown["may_remain"]
    destroy = report["left"]["destroy"]
    assert destroy == (
        f"concert-platform destroy --engine localstack --endpoint-url {served} "
        f"--environment {environment} --region us-east-1 --yes"
    )
    assert f"remove it with: {destroy}" in out
    assert "teardown: NOT CLEAN (interrupted); may remain: stack concert-platform-" in out
    assert "resources: not finished: interrupted by SIGINT" in out and "0 of 0" not in out
    assert any(f["phase"] == "teardown" and f["check"] == "interrupted" for f in report["failures"])
    # the command the run printed removes what it left
    argv = [str(BIN / "concert-platform"), *destroy.split()[1:]]
    removed = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert removed.returncode == 0, removed.stderr
    nothing_left(served, environment)


def test_sigterm_on_the_in_process_embedded_engine_reports_and_says_nothing_is_left(tmp_path: Path) -> None:
    """The embedded engine answers in the run's own thread: the signal waits for the request the
    engine is handling, then the run tears down and reports as on an endpoint."""
    environment = "sig-embedded"
    code, out, err = interrupt_at(
        e2e_command(environment, tmp_path, None), "e2e: verify started", [(signal.SIGTERM, "")]
    )
    assert code == 143, err
    assert "Traceback" not in out + err
    report = read_reports(tmp_path, "embedded", environment)
    assert report["interrupted"] == {"signal": "SIGTERM", "phase": "verify", "exit_code": 143}
    assert report["teardown"]["clean"] is True, report["teardown"]
    assert report["left"] == {
        "items": [],
        "note": "the embedded engine's state ended with this process: nothing is left",
    }
    assert "ended with this process" in out and "keep running in CloudFormation" not in out + err


def test_a_signal_while_the_engine_starts_still_ends_in_an_interrupted_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The embedded engine takes seconds to start: a Ctrl-C then has nothing to tear down, and the
    report says so instead of a traceback."""
    from concert_platform import engines
    from concert_platform.e2e import run_e2e
    from concert_platform.engines.base import Engine
    from concert_platform.interrupt import Interrupted

    stopped: list[bool] = []

    class StartsSlowly(Engine):
        name = "embedded"

        def start(self) -> None:
            raise Interrupted(signal.SIGINT)

        def stop(self) -> None:
            stopped.append(True)

    monkeypatch.setattr(engines, "create_engine", lambda *_args: StartsSlowly("us-east-1"))
    before = signal.getsignal(signal.SIGINT)  # default_int_handler, or SIG_IGN under a background job
    report = run_e2e("embedded", "sig-start", "us-east-1", None, keep=False, handle_signals=True)
    assert report["verdict"] == "interrupted" and report["exit_code"] == 130
    assert report["interrupted"]["phase"] == "engine start"
    assert report["teardown"]["not_run"] is True and report["stacks"] == []
    assert set(report["not_run"]) == {"deploy", "post_deploy", "verify", "canaries", "smoke"}
    assert stopped == [True]  # a half-started engine is stopped too
    assert signal.getsignal(signal.SIGINT) is before  # the guard put back what was there


def _instant_engine(region: str) -> Any:
    """An engine that starts and stops at once (the in-process tests replace the phases)."""
    from concert_platform.engines.base import Engine

    class Started(Engine):
        name = "embedded"

        def start(self) -> None:
            pass

        def stop(self) -> None:
            pass

        def version(self) -> str:
            return "test"

    return Started(region)


def test_a_second_signal_while_the_first_is_recorded_still_counts_as_during_the_teardown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Between the first signal and the teardown's start (recording it, listing the stacks, the
    message) a second one is held, then raised inside the teardown: it never escapes as a signal
    "during verify" that skips the teardown's report."""
    from concert_platform import e2e, engines
    from concert_platform.interrupt import Interrupted

    def interrupted_in_verify(*_args: object, **_kwargs: object) -> None:
        raise Interrupted(signal.SIGINT)

    recorded = e2e._record_interruption
    sent: list[bool] = []

    def record_then_signal_again(*args: Any, **kwargs: Any) -> None:
        if not sent:  # the first signal's bookkeeping: the operator presses Ctrl-C again now
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)
        recorded(*args, **kwargs)

    torn: list[bool] = []
    monkeypatch.setattr(engines, "create_engine", lambda *_args: _instant_engine("us-east-1"))
    monkeypatch.setattr(e2e, "_claim", lambda *_args: SimpleNamespace(describe=lambda: {}))
    monkeypatch.setattr(e2e, "_deploy_verify_smoke", interrupted_in_verify)
    monkeypatch.setattr(e2e, "_record_interruption", record_then_signal_again)
    monkeypatch.setattr(e2e, "_stack_rows", lambda *_args: [])
    monkeypatch.setattr(e2e, "teardown_environment", lambda *_args, **_kw: torn.append(True))
    report = e2e.run_e2e("embedded", "sig-held", "us-east-1", None, keep=False, handle_signals=True)
    assert report["interrupted"]["phase"] == "deploy"
    assert report["interrupted"]["again"] == "SIGINT during teardown"
    assert report["teardown"]["interrupted"] is True and torn == []
    from concert_platform import interrupt

    assert interrupt._depth == 0 and interrupt._pending is None  # nothing left held


def test_a_signal_while_the_canaries_run_beside_verify_stops_them_says_so_and_a_second_one_stops_the_teardown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The canaries run beside verify. The first signal (during verify) tells them to stop; the
    message says the run waits for them to remove what they made before tearing down, and a second
    signal while it waits counts as one during the teardown (which it stops, naming what may remain),
    never as a second signal swallowed by a silent wait."""
    import threading

    from concert_platform import e2e, engines
    from concert_platform.interrupt import Interrupted

    stopped: list[bool] = []

    def canaries_then_verify_interrupted(
        target: Any, artifacts: Any, environ: Any, console: Any, phases: Any, *rest: Any
    ) -> None:
        def canaries() -> dict[str, Any]:
            stopped.append(phases.stopping.wait(timeout=30))  # told to stop by the first signal
            os.kill(os.getpid(), signal.SIGINT)  # the operator presses Ctrl-C again while the run waits
            threading.Event().wait(1)
            return {"ran": True, "passed": 0, "failed": 0, "skipped": 0, "results": []}

        phases.beside("canaries", canaries, lambda found: phases.report.update(canaries=found))
        phases.current = "verify"
        raise Interrupted(signal.SIGTERM)

    torn: list[bool] = []
    monkeypatch.setattr(engines, "create_engine", lambda *_args: _instant_engine("us-east-1"))
    monkeypatch.setattr(e2e, "_claim", lambda *_args: SimpleNamespace(describe=lambda: {}))
    monkeypatch.setattr(e2e, "_deploy_verify_smoke", canaries_then_verify_interrupted)
    monkeypatch.setattr(e2e, "_stack_rows", lambda *_args: [])
    monkeypatch.setattr(e2e, "teardown_environment", lambda *_args, **_kw: torn.append(True))
    report = e2e.run_e2e("embedded", "sig-beside", "us-east-1", None, keep=False, handle_signals=True)
    err = capsys.readouterr().err
    assert stopped == [True]
    assert "waiting for the canaries to remove what they made, then tearing down" in err
    assert report["interrupted"]["phase"] == "verify" and report["interrupted"]["signal"] == "SIGTERM"
    assert report["interrupted"]["again"] == "SIGINT during teardown"
    assert report["teardown"]["interrupted"] is True and torn == []
    # they were still running when the second signal stopped the run: not finished, and said so
    assert "canaries" not in report["not_run"]
    assert report["not_finished"]["canaries"].startswith("interrupted by SIGTERM; still running")
    assert any("concert-canary-*-sig-beside" in item for item in report["teardown"]["may_remain"]), report[
        "teardown"
    ]["may_remain"]
    from concert_platform import interrupt

    assert interrupt._depth == 0 and interrupt._pending is None
