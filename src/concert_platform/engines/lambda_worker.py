"""The execution environment's side of concert_platform.engines.local_lambda: one function, one process.

Run as a file with `python -I -S lambda_worker.py` (no site-packages, no PYTHONPATH, no user
site), so it imports only the standard library until the parent tells it the function's paths
(the deployed code package, the deployed layers, the runtime's SDK). Like Lambda's runtime it
imports the handler's module once (the init phase, timed) and then serves invocations one at a
time, keeping module state between them.

Protocol: JSON lines. stdin carries the init message, then one message per invocation; the
results go to the original stdout, kept as a private descriptor, while fd 1 is pointed at
stderr, so whatever the handler prints or logs is the function's log output. After each
invocation, once the handler's output is flushed and before the reply, the worker writes one
`END_OF_INVOCATION` line with the request id to stderr: the engine takes the invocation's logs up
to that line (the line itself is not log output).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import time
import traceback
from typing import Any

#: starts the line that ends one invocation's log output (a control character no log line begins with)
END_OF_INVOCATION = "\x1econcert-end-of-invocation "


class LambdaContext:
    """The context object Lambda passes to a Python handler."""

    def __init__(self, init: dict[str, Any], request_id: str, deadline_ms: int) -> None:
        self.function_name = init["function_name"]
        self.function_version = init.get("function_version", "$LATEST")
        self.invoked_function_arn = init["function_arn"]
        self.memory_limit_in_mb = int(init["memory_size"])
        self.aws_request_id = request_id
        self.log_group_name = init["log_group_name"]
        self.log_stream_name = init["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + deadline_ms / 1000.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(error_type: str, message: str, with_trace: bool = True) -> dict[str, Any]:
    outcome: dict[str, Any] = {"errorType": error_type, "errorMessage": message}
    if with_trace:
        outcome["stackTrace"] = traceback.format_exc().splitlines()[-20:]
    return outcome


def _load_handler(handler: str) -> tuple[Any, Any, dict[str, Any] | None]:
    """Import the handler's module as Lambda's runtime does; errors carry Lambda's error types."""
    module_name, _, function_name = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        return (
            None,
            _error("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"),
            None,
        )
    except ImportError as exc:
        return (
            None,
            _error("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"),
            None,
        )
    except Exception as exc:  # an exception while the module initialises is an init error
        return None, _error(type(exc).__name__, str(exc)), None
    function = getattr(module, function_name, None)
    if function is None:
        return (
            None,
            _error(
                "Runtime.HandlerNotFound",
                f"Handler '{function_name}' missing on module '{module_name}'",
                with_trace=False,
            ),
            None,
        )
    # The project's convention: an API handler module declares the routes it serves (path -> methods).
    routes = getattr(module, "ROUTES", None)
    declared = (
        {str(path): sorted(str(m) for m in methods) for path, methods in routes.items()}
        if isinstance(routes, dict)
        else None
    )
    return function, None, declared


def main() -> None:
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the handler's prints and logs go to the log stream, not the protocol
    sys.stdout = os.fdopen(1, "w", buffering=1)
    init = json.loads(sys.stdin.readline())
    sys.path[:0] = init["path"]
    started = time.monotonic()
    handler, failure, routes = _load_handler(init["handler"])
    init_seconds = round(time.monotonic() - started, 3)
    if failure is not None:
        replies.write(json.dumps({"init": "failed", "seconds": init_seconds, **failure}) + "\n")
        return
    replies.write(json.dumps({"init": "ok", "seconds": init_seconds, "routes": routes}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        context = LambdaContext(init, request["request_id"], request["deadline_ms"])
        os.environ["_X_AMZN_TRACE_ID"] = request.get("trace_id", "")
        began = time.monotonic()
        try:
            outcome: dict[str, Any] = {"result": handler(request["event"], context)}
        except Exception as exc:
            outcome = _error(type(exc).__name__, str(exc))
        # the handler's own run time, measured here: the engine judges the Timeout by it, not by when
        # it got round to reading the reply (a busy engine process may read it late)
        outcome["seconds"] = round(time.monotonic() - began, 3)
        sys.stdout.flush()
        sys.stderr.flush()
        # the log stream's end of this invocation: the engine reads the logs up to here
        # (a handler that closed the log stream: no line, and the engine's wait for it is bounded)
        with contextlib.suppress(OSError):
            os.write(2, f"{END_OF_INVOCATION}{request['request_id']}\n".encode())
        replies.write(json.dumps(outcome, default=str) + "\n")


if __name__ == "__main__":
    main()
