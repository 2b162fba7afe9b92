"""Build the Lambda packages (handlers, shared layer, X-Ray SDK layer) as reproducible zips.

Zips are byte-for-byte reproducible (sorted entries, fixed timestamps), so the S3 key derived
from their hash changes exactly when the code does: CloudFormation then updates the functions,
and an unchanged tree deploys as "no changes".

Each layer's pinned requirements are built for the Lambda runtime (manylinux, Python 3.12: what is
deployed). The local Lambda runtime (concert_platform.engines.local_lambda) runs a function on the
interpreter its `Runtime` names where this machine has it (`find_interpreter`: pyenv, or a
`pythonX.Y` on PATH), and then imports the deployed layers as they were built; on any other
interpreter (a substitute, named in the report) the same distributions at the same versions are
built again by that interpreter's own pip (`local_dependencies`, cached per pins and interpreter
version): a compiled wheel built for 3.12 cannot be imported by another Python.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import io
import os
import platform
import re
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
#: the platform the deployed layers are built for (`--platform manylinux2014_x86_64`)
LAMBDA_MACHINE = "x86_64"


@dataclass(frozen=True)
class Interpreter:
    """A CPython on this machine that can run functions locally."""

    executable: str
    version: str  # major.minor, as a Lambda runtime names it
    release: str  # the full version, 3.12.1

    def describe(self) -> str:
        return f"CPython {self.release} ({self.executable})"

    def runs_layers_as_built(self) -> bool:
        """Whether the deployed layers' own wheels (cp312, manylinux x86_64) import here."""
        return self.version == LAMBDA_PYTHON and platform.machine() == LAMBDA_MACHINE


LOCAL_INTERPRETER = Interpreter(
    getattr(sys, "_base_executable", sys.executable), LOCAL_PYTHON, platform.python_version()
)


def _probe(executable: str, version: str) -> Interpreter | None:
    """The interpreter at `executable` if it runs and is CPython `version`."""
    try:
        result = subprocess.run(
            [executable, "-I", "-c", "import platform; print(platform.python_implementation(), platform.python_version())"],
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    implementation, _, release = result.stdout.strip().partition(" ")
    if result.returncode != 0 or implementation != "CPython" or not release.startswith(f"{version}."):
        return None
    return Interpreter(executable, version, release)


def _release_key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


@functools.cache
def find_interpreter(version: str) -> tuple[Interpreter | None, str]:
    """CPython `version` (3.12) on this machine: this tool's own, the newest pyenv `version.x`,
    or a `pythonX.Y` on PATH that is not a pyenv shim. Returns it (or None) and how it was found
    (or why not), for the report."""
    if version == LOCAL_PYTHON:
        return LOCAL_INTERPRETER, "this tool's interpreter"
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            listed = subprocess.run(
                [pyenv, "versions", "--bare"], capture_output=True, text=True, timeout=20, check=False
            ).stdout.split()
        except (OSError, subprocess.TimeoutExpired):
            listed = []
        releases = sorted(
            (v for v in listed if re.fullmatch(rf"{re.escape(version)}\.\d+", v)),
            key=_release_key,
            reverse=True,
        )
        for release in releases:
            prefix = subprocess.run(
                [pyenv, "prefix", release], capture_output=True, text=True, timeout=20, check=False
            ).stdout.strip()
            found = _probe(str(Path(prefix) / "bin" / f"python{version}"), version) if prefix else None
            if found is not None:
                return found, f"pyenv {release}"
    on_path = shutil.which(f"python{version}")
    if on_path and "shims" not in Path(on_path).parts:
        found = _probe(on_path, version)
        if found is not None:
            return found, f"python{version} on PATH"
    where = "pyenv has no " + f"{version}.x" if pyenv else "no pyenv"
    return None, f"no python{version} on this machine ({where}, none on PATH)"


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


def _pip_install(arguments: list[str], target: Path, what: str, python: str = sys.executable) -> Path:
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
            python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
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
    # what the local runtime runs these layers with, built now rather than at the first cold start
    interpreter, _how = find_interpreter(LAMBDA_PYTHON)
    if interpreter is None or not interpreter.runs_layers_as_built():
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


def local_dependencies(
    pins: list[str], cache_dir: Path, interpreter: Interpreter = LOCAL_INTERPRETER
) -> Path:
    """The same distributions, at the same versions, built by `interpreter`'s own pip for it.

    `--no-deps`: the set is exactly what the deployed layer holds, so a package missing from a
    layer's requirements is missing here too (Runtime.ImportModuleError, as on Lambda).
    """
    digest = hashlib.sha256("\n".join(sorted(pins)).encode()).hexdigest()[:16]
    target = cache_dir / f"local-py{interpreter.version}-{digest}"
    if not pins:
        (target / "python").mkdir(parents=True, exist_ok=True)
        return target
    return _pip_install(
        ["--no-deps", *sorted(pins)],
        target,
        f"the layer distributions {', '.join(sorted(pins))} for Python {interpreter.version}",
        interpreter.executable,
    )


def runtime_sdk(cache_dir: Path, interpreter: Interpreter = LOCAL_INTERPRETER) -> Path:
    """boto3 for a local interpreter, installed by its pip: the SDK the Lambda Python runtime
    bundles outside any layer (pinned to the versions this tool runs with)."""
    from importlib.metadata import version

    pins = [f"boto3=={version('boto3')}", f"botocore=={version('botocore')}"]
    digest = hashlib.sha256("\n".join(pins).encode()).hexdigest()[:16]
    return _pip_install(
        pins,
        cache_dir / f"runtime-sdk-py{interpreter.version}-{digest}",
        f"the runtime's boto3 for Python {interpreter.version}",
        interpreter.executable,
    )


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
