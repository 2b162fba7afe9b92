"""One way for the tests to run `concert-platform engine serve` in a child process: the external
endpoint a shared LocalStack or an account is to the tool, on a free loopback port."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def served_engine(log: Path, cwd: Path | None = None) -> Iterator[str]:
    """Start `engine serve --port 0`, yield its endpoint once it announces it, stop it (SIGTERM,
    then SIGKILL). Its stderr goes to `log`, quoted when it does not come up."""
    with open(log, "w") as errors:
        server = subprocess.Popen(
            [sys.executable, "-m", "concert_platform.cli", "engine", "serve", "--port", "0"],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], 120)
        line = server.stdout.readline() if ready else ""
        assert line.startswith("embedded engine serving on "), (
            f"engine serve did not start: {log.read_text()[-2000:]}"
        )
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
