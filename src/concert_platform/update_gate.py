"""`e2e --base REF`: the update a merge will make, not only a fresh deploy.

The base revision's manifest, templates, handlers and schema are exported from git into a
temporary directory (the working tree is not touched) and deployed with the sample data; a user
writes through the API; then every stack is updated to the working tree's templates through
change sets, in manifest order. What the change sets said, the data counted before and after,
and each role's permissions before and after make the update review (update_review).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from concert_platform.errors import UsageError

#: what a deploy reads from the project (the manifest's root), as in tests/integration/conftest.py
BASE_PATHS = ("stacks.yaml", "templates", "handlers", "src/concert_platform/sql")


@dataclass(frozen=True)
class BaseRevision:
    ref: str
    commit: str
    root: Path  # the exported tree; removed by `remove()`

    def remove(self) -> None:
        # only the temporary holder export_base made (never its parent: with the project at the
        # repository's top, root IS the holder, and root.parent was the whole temp directory)
        for candidate in (self.root, *self.root.parents):
            if candidate.name.startswith("concert-base-"):
                shutil.rmtree(candidate, ignore_errors=True)
                return


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)


def resolve_base(ref: str, root: Path) -> str:
    """The commit `ref` names in the project's repository; UsageError (exit 2) when it names none."""
    if not ref or ref.startswith("-"):
        raise UsageError(f"--base {ref!r}: not a git revision")
    try:
        found = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except OSError:
        raise UsageError("--base needs git, and git is not installed") from None
    if found.returncode != 0:
        where = _git(root, "rev-parse", "--show-toplevel")
        if where.returncode != 0:
            raise UsageError(f"--base {ref}: {root} is not in a git repository")
        raise UsageError(f"--base {ref}: no such commit in {root} (try a branch, a tag or HEAD~1)")
    return found.stdout.decode().strip()


def export_base(ref: str, root: Path) -> BaseRevision:
    """`git archive REF -- paths | tar -x` into a temporary directory: the base revision's project
    files, without touching the working tree. The layer cache is shared (keyed by its inputs)."""
    commit = resolve_base(ref, root)
    top = Path(_git(root, "rev-parse", "--show-toplevel").stdout.decode().strip())
    prefix = root.resolve().relative_to(top.resolve()).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    paths = [p for p in BASE_PATHS if _git(top, "cat-file", "-e", f"{commit}:{prefix}{p}").returncode == 0]
    if "stacks.yaml" not in paths or "templates" not in paths:
        raise UsageError(f"--base {ref}: that revision has no {prefix}stacks.yaml and templates/ to deploy")
    holder = Path(tempfile.mkdtemp(prefix="concert-base-"))
    archive = subprocess.run(
        ["git", "-C", str(top), "archive", "--format=tar", commit, "--", *(prefix + p for p in paths)],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        shutil.rmtree(holder, ignore_errors=True)
        raise UsageError(f"--base {ref}: git archive failed: {archive.stderr.decode().strip()}")
    extracted = subprocess.run(
        ["tar", "-x", "-C", str(holder)],
        input=archive.stdout,
        capture_output=True,
        check=False,
    )
    if extracted.returncode != 0:
        shutil.rmtree(holder, ignore_errors=True)
        raise UsageError(f"--base {ref}: could not extract it: {extracted.stderr.decode().strip()}")
    base_root = holder / prefix if prefix else holder
    cache = root / "build" / "layer-cache"
    cache.mkdir(parents=True, exist_ok=True)
    (base_root / "build").mkdir(exist_ok=True)
    (base_root / "build" / "layer-cache").symlink_to(cache.resolve())
    return BaseRevision(ref, commit, base_root)


def write_as_a_user(engine: Any, manifest: Any, environment: str) -> dict[str, Any]:
    """What a user does through the API before the update (the smoke run's API caller): a chat
    session of two turns, stored in the conversation history."""
    from concert_platform.smoke import Platform

    with Platform(engine, manifest, environment) as platform:
        first = platform.call_api("POST", "/chat", {"message": "Which venues are the most popular?"})
        if first.status != 200 or not isinstance(first.body, dict) or not first.body.get("session_id"):
            raise RuntimeError(f"POST /chat before the update answered {first.status}: {first.body}")
        session = first.body["session_id"]
        second = platform.call_api("POST", "/chat", {"session_id": session, "message": "And next month?"})
        if second.status != 200:
            raise RuntimeError(
                f"POST /chat (2nd turn) before the update answered {second.status}: {second.body}"
            )
    return {"session_id": session, "requests": 2}
