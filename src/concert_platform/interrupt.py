"""SIGINT and SIGTERM during a run: stop at a safe point and let the run report and clean up.

While a `SignalGuard` is active (in the main thread), either signal raises `Interrupted` there.
`Interrupted` is a BaseException, so the `except Exception` that turns a phase's failure into a
report line lets it through to the code that tears down and writes the reports. A request the
embedded engine is answering in this very thread (its in-process dispatch) runs inside
`deferred()`: the signal waits until the engine has finished that request, so the engine's state
is never left half-changed by the interruption.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """The run was asked to stop; `exit_code` is the shell's 128 + signal number (130, 143)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + signum
        super().__init__(f"{self.signal_name} received")


_depth = 0
_pending: int | None = None
_active = False


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def deferred() -> Iterator[None]:
    """A section a signal must not cut in two (in the main thread): the signal is raised at its end."""
    global _depth, _pending
    if not _active or not _in_main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)


def _handle(signum: int, _frame: FrameType | None) -> None:
    global _pending
    if _depth:
        _pending = signum
        return
    raise Interrupted(signum)


def hold() -> None:
    """From now on (in the main thread, while a guard is active) a signal is kept pending instead
    of raised, as inside `deferred()`, until `release()`: the bookkeeping between two phases is not
    cut. (A signal mask would not do: the kernel hands a blocked signal to another thread.)"""
    global _depth
    if _active and _in_main_thread():
        _depth += 1


def release() -> None:
    """End what `hold()` began; a signal that arrived meanwhile is raised here."""
    global _depth, _pending
    if _active and _in_main_thread() and _depth:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)


class SignalGuard:
    """SIGINT/SIGTERM raise `Interrupted` in the main thread while active; a no-op elsewhere."""

    def __init__(self) -> None:
        self._previous: dict[int, object] = {}

    def __enter__(self) -> SignalGuard:
        global _active, _pending
        if _in_main_thread():
            _pending = None
            self._previous = {sig: signal.signal(sig, _handle) for sig in HANDLED}
            _active = True
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        global _active, _pending, _depth
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        if self._previous:
            _active, _pending, _depth = False, None, 0  # never leave a hold() behind
