"""Build the Lambda packages (handlers, shared layer, X-Ray SDK layer) as reproducible zips.

Zips are byte-for-byte reproducible (sorted entries, fixed timestamps), so the S3 key derived
from their hash changes exactly when the code does: CloudFormation then updates the functions,
and an unchanged tree deploys as "no changes".
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from concert_platform.errors import UsageError
from concert_platform.manifest import ArtifactSpec, Manifest

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)
_SKIP_PARTS = {"__pycache__", ".pytest_cache", "tests"}
LAMBDA_PYTHON = "3.12"


@dataclass(frozen=True)
class Artifact:
    name: str
    key: str
    body: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def _zip(entries: Iterable[tuple[str, Path]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, path in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _tree(root: Path, prefix: str) -> list[tuple[str, Path]]:
    return [
        (f"{prefix}{path.relative_to(root).as_posix()}", path)
        for path in root.rglob("*")
        if path.is_file()
        and not _SKIP_PARTS.intersection(path.relative_to(root).parts)
        and path.suffix != ".pyc"
    ]


def handlers_entries(root: Path) -> list[tuple[str, Path]]:
    """Every handler module at the zip root (handler strings are `module.handler`)."""
    modules = sorted((root / "handlers").glob("*.py"))
    if not modules:
        raise UsageError(f"no handler modules in {root / 'handlers'}")
    return [(path.name, path) for path in modules]


def _vendored_dependencies(requirements: Path, cache_dir: Path) -> Path:
    """pip-install pinned requirements for the Lambda runtime once; reuse by requirements hash."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    target = cache_dir / f"deps-{digest}"
    if (target / ".complete").exists():
        return target
    # Parallel tox envs share this cache: each builds in its own folder and the first to finish
    # renames it into place, so no reader ever sees a half-installed target.
    building = Path(tempfile.mkdtemp(prefix=f".deps-{digest}-", dir=cache_dir))
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--target", str(building / "python"), "--requirement", str(requirements),
        "--platform", "manylinux2014_x86_64", "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON, "--only-binary=:all:", "--no-compile",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        raise UsageError(
            f"could not install the layer dependencies in {requirements} for Python {LAMBDA_PYTHON}: "
            f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'pip failed'}; "
            "check network access to the package index"
        )
    (building / ".complete").write_text("ok")
    try:
        building.rename(target)
    except OSError:  # another env finished first; a stale partial target is replaced
        if not (target / ".complete").exists():
            shutil.rmtree(target, ignore_errors=True)
            building.rename(target)
        else:
            shutil.rmtree(building, ignore_errors=True)
    return target


def shared_layer_entries(root: Path, cache_dir: Path) -> list[tuple[str, Path]]:
    shared = root / "handlers" / "shared"
    deps = _vendored_dependencies(shared / "requirements.txt", cache_dir)
    return _tree(shared / "concert_shared", "python/concert_shared/") + _tree(deps / "python", "python/")


def xray_layer_entries(root: Path, cache_dir: Path) -> list[tuple[str, Path]]:
    deps = _vendored_dependencies(root / "handlers" / "xray_layer_requirements.txt", cache_dir)
    return _tree(deps / "python", "python/")


def build_artifact(spec: ArtifactSpec, root: Path, cache_dir: Path) -> Artifact:
    if spec.kind == "handlers":
        body = _zip(handlers_entries(root))
    elif spec.kind == "shared_layer":
        body = _zip(shared_layer_entries(root, cache_dir))
    elif spec.kind == "xray_sdk_layer":
        body = _zip(xray_layer_entries(root, cache_dir))
    else:
        raise UsageError(f"stacks.yaml: unknown artifact kind {spec.kind!r}")
    digest = hashlib.sha256(body).hexdigest()[:16]
    return Artifact(name=spec.name, key=f"{spec.key_prefix}-{digest}.zip", body=body)


def build_artifacts(manifest: Manifest, cache_dir: Path | None = None) -> dict[str, Artifact]:
    cache = cache_dir or manifest.root / "build" / "layer-cache"
    cache.mkdir(parents=True, exist_ok=True)
    return {name: build_artifact(spec, manifest.root, cache) for name, spec in manifest.artifacts.items()}
