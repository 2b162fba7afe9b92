"""Terminal output: live stack progress on stderr (stdout stays clean for --json)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from rich.console import Console

from concert_platform.deploy import StackResult

_COLOURS = {"COMPLETE": "green", "FAILED": "red", "IN_PROGRESS": "yellow", "ROLLBACK": "red"}


def _colour(status: str) -> str:
    for marker, colour in _COLOURS.items():
        if marker in status:
            return colour
    return "white"


#: the width a console gets when its stream is not a terminal: nothing is wrapped or cut
UNLIMITED_WIDTH = 1_000_000


def output_console(stderr: bool = False) -> Console:
    """A console for stdout (or stderr). On a terminal it fits the window; elsewhere (a CI log,
    a pipe, a file) every line is written whole: full ARNs, URLs and keys, one record per line.
    Values from the engine go into tables as `Text`, so brackets in them are never markup."""
    stream = sys.stderr if stderr else sys.stdout
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream: not a terminal
        terminal = False
    # emoji=False: rich turns ":secret:" inside a Secrets Manager ARN into an emoji otherwise
    if terminal:
        return Console(stderr=stderr, highlight=False, emoji=False)
    return Console(stderr=stderr, highlight=False, emoji=False, width=UNLIMITED_WIDTH, soft_wrap=True)


class ConsoleProgress:
    """Prints one line per stack action and per resource event: stack, resource, status, reason."""

    def __init__(self, console: Console | None = None, verbose: bool = True) -> None:
        self.console = console or output_console(stderr=True)
        self.verbose = verbose

    def stack_started(self, key: str, name: str, action: str) -> None:
        self.console.print(f"[bold]{action:>6}[/bold] {name}")

    def resource_event(self, name: str, event: Mapping[str, Any]) -> None:
        status = event.get("ResourceStatus", "")
        failed = status.endswith("FAILED")
        if not self.verbose and not failed:
            return
        reason = event.get("ResourceStatusReason") or ""
        logical = event.get("LogicalResourceId", "")
        self.console.print(
            f"        {logical:<34} [{_colour(status)}]{status:<20}[/] "
            f"{event.get('ResourceType', ''):<38} [dim]{reason}[/dim]",
            soft_wrap=True,
        )

    def stack_finished(self, result: StackResult) -> None:
        colour = "red" if result.status == "failed" else "green"
        self.console.print(
            f"[{colour}]{result.status:>10}[/] {result.name} [dim]({result.seconds:.1f}s)[/dim]"
        )

    def note(self, message: str) -> None:
        self.console.print(f"[dim]        {message}[/dim]")
