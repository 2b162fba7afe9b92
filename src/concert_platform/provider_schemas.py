"""What CloudFormation's resource provider schemas say about a type's properties, from the copy
cfn-lint ships (`cfnlint/data/schemas/`): which are write-only (no read returns them; verification
reports them as not comparable) and which are create-only (a change replaces the resource; the
embedded engine's update path and the update review read them).

Importing cfn-lint's schema manager takes about 0.6 s, more than verifying a whole stack, so the
answers are kept in the artifact cache in a file named by cfn-lint's version (a new release starts
a new file); cfn-lint is imported only for a type the file does not hold.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

#: Properties CloudFormation's documentation marks "Update requires: Replacement" that the provider
#: schema cfn-lint 1.58 ships does not list as create-only (AWS::DynamoDB::Table's KeySchema: a
#: table's key cannot change in place; CloudFormation replaces it).
DOCUMENTED_REPLACEMENT: dict[str, tuple[str, ...]] = {
    "AWS::DynamoDB::Table": ("KeySchema",),
}


def write_only(resource_type: str) -> tuple[str, ...]:
    """Write-only property paths (`A` or `A/B`), from the provider schema."""
    return tuple(_lists(resource_type)["writeOnly"])


def create_only(resource_type: str) -> tuple[str, ...]:
    """Property paths whose change replaces the resource: the schema's createOnlyProperties, plus
    the documented ones it omits (DOCUMENTED_REPLACEMENT)."""
    listed = list(_lists(resource_type)["createOnly"])
    listed += [p for p in DOCUMENTED_REPLACEMENT.get(resource_type, ()) if p not in listed]
    return tuple(listed)


@cache
def _lists(resource_type: str) -> dict[str, list[str]]:
    table = _table()
    entry = table.get(resource_type)
    if not isinstance(entry, dict) or set(entry) != {"writeOnly", "createOnly"}:
        entry = _from_cfnlint(resource_type)
        table[resource_type] = entry
        _store(resource_type, entry)
    return entry


def clear_caches() -> None:
    """Forget what this process read (tests: a fresh process reads the file again)."""
    _lists.cache_clear()
    _table.cache_clear()


def _from_cfnlint(resource_type: str) -> dict[str, list[str]]:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    try:
        # A type's property lists are the same in every region; us-east-1 has every type.
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    except ResourceNotFoundError:
        return {"writeOnly": [], "createOnly": []}
    return {
        kind: [p.removeprefix("/properties/") for p in schema.get(f"{kind}Properties", [])]
        for kind in ("writeOnly", "createOnly")
    }


def cache_file() -> Path | None:
    """Where the answers are kept; None where there is no project checkout to keep them in."""
    from importlib.metadata import version

    from concert_platform.errors import ConcertPlatformError
    from concert_platform.manifest import project_root
    from concert_platform.packaging import default_cache_dir

    try:
        root = project_root()
    except ConcertPlatformError:
        return None
    return default_cache_dir(root) / f"provider-schemas-cfn-lint-{version('cfn-lint')}.json"


@cache
def _table() -> dict[str, dict[str, list[str]]]:
    path = cache_file()
    try:
        data = json.loads(path.read_text()) if path else {}
    except (OSError, ValueError):  # none yet, or unreadable: rebuilt from cfn-lint as types come
        return {}
    return data if isinstance(data, dict) else {}


def _store(resource_type: str, entry: dict[str, list[str]]) -> None:
    """Add one type to the cache file: read, merge and rename into place under a lock (test
    workers and parallel runs share the file). A cache that cannot be written costs time only."""
    import fcntl
    import os
    import tempfile

    target = cache_file()
    if target is None:
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.with_name(f"{target.name}.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                stored = json.loads(target.read_text())
            except (OSError, ValueError):
                stored = {}
            stored[resource_type] = entry
            handle, staging = tempfile.mkstemp(prefix=f"{target.name}.", dir=target.parent)
            with os.fdopen(handle, "w") as stream:
                json.dump(stored, stream, indent=1, sort_keys=True)
            os.replace(staging, target)
    except OSError:
        return
