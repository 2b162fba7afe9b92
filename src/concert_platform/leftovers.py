"""What a teardown could not remove, kept for the next `destroy` (issue 20, item 4).

A stack deletion that fails (DependencyViolation) can leave resources behind after the stacks
themselves are gone; a second `destroy` then finds no stacks and nothing to record. So every
teardown that ends unclean writes what it recorded to a small state file, and `destroy` reads
it back: each resource is asked for through its own service, removed where it still exists,
and asked for again; the file goes only when every one is proven gone.

The file lives in `$CONCERT_PLATFORM_STATE_DIR`, else `.concert-platform/state/` in the working
directory (like a tool's local state), one per engine endpoint, account, region and environment.
The file's name is keyed by that target, so a run against another account (a staging profile,
then production's, same environment name) never opens this one's record; the file also names its
target inside, and one whose contents name another target (copied or edited by hand) is refused
with what it names instead of acted on.
Engines whose resources die with the process (embedded) keep none: a later process would see an
empty engine and call that "gone".
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from concert_platform.engines.base import Engine
from concert_platform.teardown import Recorded


def state_dir() -> Path:
    override = os.environ.get("CONCERT_PLATFORM_STATE_DIR")
    return Path(override) if override else Path.cwd() / ".concert-platform" / "state"


def _account(engine: Engine) -> str:
    """The account the engine's credentials act in (STS), or "unknown" when it cannot be asked."""
    try:
        return str(engine.client("sts").get_caller_identity()["Account"])
    except Exception:  # no credentials, an endpoint without STS: the record still names the rest
        return "unknown"


def _target(engine: Engine, environment: str) -> dict[str, Any]:
    return {
        "engine": engine.name,
        "endpoint_url": engine.endpoint_url,
        "account": _account(engine),
        "region": engine.region,
        "environment": environment,
    }


def state_path(engine: Engine, environment: str, account: str | None = None) -> Path:
    account = account or _account(engine)
    where = hashlib.sha256(f"{engine.name}|{engine.endpoint_url or ''}|{account}".encode()).hexdigest()[:10]
    return state_dir() / f"leftovers-{engine.name}-{where}-{engine.region}-{environment}.json"


def load_recorded(engine: Engine, environment: str) -> list[Recorded]:
    """What an earlier unclean teardown of this environment recorded (empty when none)."""
    from concert_platform.errors import UsageError

    if engine.capabilities.ephemeral:
        return []
    target = _target(engine, environment)
    path = state_path(engine, environment, target["account"])
    try:
        data = json.loads(path.read_text())
        resources = [Recorded(**item) for item in data["resources"]]
        written_for = {key: data.get(key) for key in target}
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(
            f"the leftovers file {path} cannot be read ({type(exc).__name__}); fix or remove it"
        ) from None
    if written_for != target:
        differ = ", ".join(
            f"{key} {written_for[key]!r} (this run: {target[key]!r})"
            for key in target
            if written_for[key] != target[key]
        )
        raise UsageError(
            f"the leftovers file {path} was written for another target: {differ}. Nothing was "
            "removed; run destroy against the target it names, or remove the file if that is gone"
        )
    return resources


def save_recorded(engine: Engine, environment: str, resources: Iterable[Recorded]) -> Path | None:
    """Keep what remains for the next `destroy`; with nothing left, remove the file."""
    if engine.capabilities.ephemeral:
        return None
    target = _target(engine, environment)
    path = state_path(engine, environment, target["account"])
    items = [dataclasses.asdict(item) for item in resources]
    if not items:
        path.unlink(missing_ok=True)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {**target, "resources": items}
    path.write_text(json.dumps(body, indent=2, default=str))
    return path


def still_there(recorded: Iterable[Recorded], remaining: Iterable[dict[str, str]]) -> list[Recorded]:
    keys = {(row["stack"], row["logical_id"], row["physical_id"]) for row in remaining}
    return [item for item in recorded if (item.stack, item.logical_id, item.physical_id) in keys]


def merge(first: Iterable[Recorded], second: Iterable[Recorded]) -> list[Recorded]:
    """One entry per resource (stack, logical id, physical id), the first list's order first."""
    seen: set[tuple[str, str, str]] = set()
    merged = []
    for item in [*first, *second]:
        key = (item.stack, item.logical_id, item.physical_id)
        if key not in seen:
            seen.add(key)
            merged.append(item)
    return merged
