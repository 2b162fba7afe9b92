"""Which stacks a run may touch: the run tag, protected environments, and refusing to take over.

`e2e` deploys and then deletes a whole environment. It must never do that to an environment it
did not create: every stack it creates carries the run's id as a stack tag, an environment that
already has stacks is refused (unless the operator says `--adopt`), a protected environment
(the manifest's `protected_environments`, `production` by default) is refused on every engine,
adopted or not, and teardown deletes only the stacks that carry this run's id or were adopted.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from concert_platform.errors import UsageError

#: stack tag naming the run that created the stack (e2e, the pytest plugin)
RUN_TAG = "concert-platform:run-id"
#: stack tag naming the command that created or last updated the stack
CREATED_BY_TAG = "concert-platform:created-by"


def new_run_id(kind: str) -> str:
    """`e2e-20261203T190102Z-a1b2c3`: sortable, unique enough for concurrent runs on one endpoint."""
    return f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_tags(run_id: str, created_by: str) -> dict[str, str]:
    return {RUN_TAG: run_id, CREATED_BY_TAG: created_by}


def refuse_protected(manifest: Any, environment: str, action: str) -> None:
    """A protected environment is never deployed-and-destroyed by a test run, on any engine."""
    if environment in manifest.protected_environments:
        raise UsageError(
            f"refusing to {action} environment {environment!r}: it is protected "
            f"(protected_environments in stacks.yaml: {', '.join(manifest.protected_environments)}); "
            "a test run deploys and destroys, so pick another --environment"
        )


def stack_tags(stack: Mapping[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in stack.get("Tags", []) or []}


@dataclass
class Ownership:
    """What one run owns: the stacks it created (tagged with its run id) and those it adopted."""

    run_id: str
    adopted: dict[str, str] = field(default_factory=dict)  # stack key -> the run id it carried

    def owns(self, key: str, stack: Mapping[str, Any] | None) -> bool:
        if stack is None:
            return True  # nothing there: nothing to protect
        return key in self.adopted or stack_tags(stack).get(RUN_TAG) == self.run_id

    def describe(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "adopted": sorted(self.adopted)}


def claim_environment(
    operator: Any, manifest: Any, environment: str, run_id: str, *, adopt: bool
) -> Ownership:
    """Before anything changes: refuse an environment that already has stacks unless `adopt`.

    Raises UsageError (exit 2) naming the stacks and who created them; nothing is modified.
    """
    refuse_protected(manifest, environment, "run e2e against")
    found: dict[str, Mapping[str, Any]] = {}
    for spec in manifest.stacks:
        stack = operator.describe(operator.stack_name(spec.key))
        if stack is not None and stack.get("StackStatus") != "DELETE_COMPLETE":
            found[spec.key] = stack
    if found and not adopt:
        names = ", ".join(
            f"{stack['StackName']} ({stack['StackStatus']}, {_creator(stack)})" for stack in found.values()
        )
        raise UsageError(
            f"environment {environment!r} already exists on this engine: {names}. e2e deploys and then "
            "deletes its environment, so it does not take over one it did not create: use another "
            "--environment, or pass --adopt if this environment is a disposable one you mean to replace"
        )
    return Ownership(run_id, {key: stack_tags(stack).get(RUN_TAG, "") for key, stack in found.items()})


def _creator(stack: Mapping[str, Any]) -> str:
    tags = stack_tags(stack)
    if RUN_TAG in tags:
        return f"created by run {tags[RUN_TAG]}"
    if CREATED_BY_TAG in tags:
        return f"created by concert-platform {tags[CREATED_BY_TAG]}"
    return "not created by a concert-platform run"


def split_owned(
    operator: Any, keys: Iterable[str], ownership: Ownership
) -> tuple[list[str], list[dict[str, str]]]:
    """The stack keys this run may delete, and the stacks it must leave alone (with why)."""
    owned: list[str] = []
    foreign: list[dict[str, str]] = []
    for key in keys:
        name = operator.stack_name(key)
        stack = operator.describe(name)
        if ownership.owns(key, stack):
            owned.append(key)
        else:
            assert stack is not None
            foreign.append(
                {
                    "key": key,
                    "name": name,
                    "reason": f"{name} carries run id {stack_tags(stack).get(RUN_TAG) or '(none)'}, "
                    f"not this run's {ownership.run_id}: left in place",
                }
            )
    return owned, foreign
