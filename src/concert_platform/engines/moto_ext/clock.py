"""The embedded engine's clock: wall time plus an offset that tests and the smoke run advance.

Everything time-dependent in the observability chain reads this clock: log event timestamps
written for a function, the metric data they produce, alarm evaluation windows, alarm history.
Advancing it (instead of sleeping) moves an alarm's evaluation window past a burst of data, so
a test proves "back to OK after the period" in milliseconds. Listeners (the alarm evaluator)
run after every advance, the way CloudWatch evaluates alarms as time passes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class EngineClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[float], None]] = []

    def now(self) -> float:
        """Seconds since the epoch on the engine's clock."""
        return time.time() + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def now_datetime(self) -> datetime:
        """Naive UTC, like the datetimes moto's models keep."""
        return datetime.fromtimestamp(self.now(), UTC).replace(tzinfo=None)

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the engine clock only moves forward")
        with self._lock:
            self._offset += seconds
        now = self.now()
        for listener in list(self._listeners):
            listener(now)

    def on_advance(self, listener: Callable[[float], None]) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)


CLOCK = EngineClock()


def as_epoch(value: datetime | float | int | str) -> float:
    """A moto timestamp (naive UTC or aware datetime, ISO text, or epoch seconds) as epoch seconds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)
