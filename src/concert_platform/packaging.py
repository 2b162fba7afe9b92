"""Build the Lambda packages (handlers, shared layer, X-Ray SDK layer) as reproducible zips.

Zips are byte-for-byte reproducible (sorted entries, fixed timestamps), so the S3 key derived
from their hash changes exactly when the code does: CloudFormation then updates the functions,
and an unchanged tree deploys as "no changes".

Each layer's pinned requirements are built twice into the artifact cache: once for the Lambda
runtime (manylinux, Python 3.12: what is deployed) and once, with the same distributions at the
same versions, for the interpreter that runs the functions locally (concert_platform.engines.local_lambda):
a compiled wheel built for 3.12 cannot be imported by another Python.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from concert_platform.errors import UsageError
from concert_platform.manifest import ArtifactSpec, Manifest, is_bundled

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)
_SKIP_PARTS = {"__pycache__", ".pytest_cache", "tests"}
LAMBDA_PYTHON = "3.12"
LOCAL_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


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


def _pip_install(arguments: list[str], target: Path, what: str) -> Path:
    """Run pip into `target` once; a `.complete` marker makes the directory a reusable cache entry.

    pip writes into a private directory renamed into place at the end, so runs in parallel
    (test workers, two checkouts sharing a cache) never see or break a half-built entry."""
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # One builder per entry at a time, across processes (parallel tox envs, test workers) and
    # threads (the runtime's warm-up): an flock on a file of its own, then a rename into place.
    with open(target.with_name(f"{target.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".complete").exists():  # built by whoever held the lock before us
            return target
        staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.building-", dir=target.parent))
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--target", str(staging / "python"), "--only-binary=:all:", "--no-compile", *arguments,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise UsageError(
                f"could not install {what}: "
                f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'pip failed'}; "
                "check network access to the package index"
            )
        (staging / ".complete").write_text("ok")
        shutil.rmtree(target, ignore_errors=True)  # an entry left half-built by an older tool
        staging.rename(target)
    return target


def _vendored_dependencies(requirements: Path, cache_dir: Path) -> Path:
    """pip-install pinned requirements for the Lambda runtime once; reuse by requirements hash."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    built = _pip_install(
        ["--requirement", str(requirements), "--platform", "manylinux2014_x86_64",
         "--implementation", "cp", "--python-version", LAMBDA_PYTHON],
        cache_dir / f"deps-{digest}",
        f"the layer dependencies in {requirements} for Python {LAMBDA_PYTHON}",
    )  # fmt: skip
    local_dependencies(distribution_pins(built / "python"), cache_dir)
    return built


def distribution_pins(site_dir: Path) -> list[str]:
    """`name==version` of every distribution installed in a layer's `python/` directory."""
    return pins_of(info.name for info in site_dir.glob("*.dist-info"))


def pins_of(dist_info_names: Iterable[str]) -> list[str]:
    """`name==version` from `.dist-info` directory names (`name-version.dist-info`)."""
    pins = set()
    for info in dist_info_names:
        name, _, version = info.removesuffix(".dist-info").partition("-")
        if name and version:
            pins.add(f"{name}=={version}")
    return sorted(pins)


def local_dependencies(pins: list[str], cache_dir: Path) -> Path:
    """The same distributions, at the same versions, built for the interpreter running this tool.

    `--no-deps`: the set is exactly what the deployed layer holds, so a package missing from a
    layer's requirements is missing here too (Runtime.ImportModuleError, as on Lambda).
    """
    digest = hashlib.sha256("\n".join(sorted(pins)).encode()).hexdigest()[:16]
    target = cache_dir / f"local-py{LOCAL_PYTHON}-{digest}"
    if not pins:
        (target / "python").mkdir(parents=True, exist_ok=True)
        return target
    return _pip_install(
        ["--no-deps", *sorted(pins)],
        target,
        f"the layer distributions {', '.join(sorted(pins))} for Python {LOCAL_PYTHON}",
    )


def runtime_sdk(cache_dir: Path) -> Path:
    """boto3 for the local interpreter: the SDK the Lambda Python runtime bundles outside any layer
    (pinned to the versions this tool runs with)."""
    from importlib.metadata import version

    pins = [f"boto3=={version('boto3')}", f"botocore=={version('botocore')}"]
    digest = hashlib.sha256("\n".join(pins).encode()).hexdigest()[:16]
    return _pip_install(pins, cache_dir / f"runtime-sdk-py{LOCAL_PYTHON}-{digest}", "the runtime's boto3")


#: where the layers' built dependencies are kept, when set (else: see default_cache_dir)
CACHE_VARIABLE = "CONCERT_PLATFORM_CACHE"


def default_cache_dir(root: Path) -> Path:
    """$CONCERT_PLATFORM_CACHE; else a checkout's build/layer-cache; else, for the copy installed
    with the tool (read-only site-packages), the user's cache ($XDG_CACHE_HOME or ~/.cache)."""
    override = os.environ.get(CACHE_VARIABLE)
    if override:
        return Path(override).expanduser()
    if is_bundled(root):
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "concert-platform" / "layer-cache"
    return root / "build" / "layer-cache"


def shared_layer_entries(root: Path, cache_dir: Path) -> list[tuple[str, Path]]:
    shared = root / "handlers" / "shared"
    deps = _vendored_dependencies(shared / "requirements.txt", cache_dir)
    return _tree(shared / "concert_shared", "python/concert_shared/") + _tree(deps / "python", "python/")


def xray_layer_entries(root: Path, cache_dir: Path) -> list[tuple[str, Path]]:
    deps = _vendored_dependencies(root / "handlers" / "xray_layer_requirements.txt", cache_dir)
    return _tree(deps / "python", "python/")


def _cached_zip(entries: list[tuple[str, Path]], cache_dir: Path) -> bytes:
    """The zip of `entries`, reused from the cache when every name and byte is the same: the
    layers hold thousands of files and compressing them dominated a deploy."""
    inputs = hashlib.sha256()
    for arcname, path in sorted(entries):
        inputs.update(arcname.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    cached = cache_dir / "zips" / f"{inputs.hexdigest()[:32]}.zip"
    if cached.exists():
        return cached.read_bytes()
    body = _zip(entries)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".partial-{os.getpid()}-{threading.get_ident()}")
    partial.write_bytes(body)
    partial.replace(cached)
    return body


def build_artifact(spec: ArtifactSpec, root: Path, cache_dir: Path) -> Artifact:
    if spec.kind == "handlers":
        body = _zip(handlers_entries(root))
    elif spec.kind == "shared_layer":
        body = _cached_zip(shared_layer_entries(root, cache_dir), cache_dir)
    elif spec.kind == "xray_sdk_layer":
        body = _cached_zip(xray_layer_entries(root, cache_dir), cache_dir)
    else:
        raise UsageError(f"stacks.yaml: unknown artifact kind {spec.kind!r}")
    digest = hashlib.sha256(body).hexdigest()[:16]
    return Artifact(name=spec.name, key=f"{spec.key_prefix}-{digest}.zip", body=body)


def build_artifacts(manifest: Manifest, cache_dir: Path | None = None) -> dict[str, Artifact]:
    cache = cache_dir or default_cache_dir(manifest.root)
    cache.mkdir(parents=True, exist_ok=True)
    return {name: build_artifact(spec, manifest.root, cache) for name, spec in manifest.artifacts.items()}
