"""The full policy layer against running cfn-lint and checkov separately, plus mutation kill rates.

    python benchmarks/bench_policy.py [--rounds N] [--kill-rates]

Timing: `concert-platform policy` (cfn-lint, checkov and our checks, one process) against the
raw CLIs run one after the other as a user would (`cfn-lint FILES...`, `checkov -d DIR
--framework cloudformation`), over the project's templates, the policy fixtures and the
third-party corpus (tests/policy/corpus/, populated from its pinned sdist first if needed).
Kill rates: every mutation of tests/policy/mutations.py run through cfn-lint alone, checkov
alone, and the full layer; a mutation is killed when the tool reports any finding the clean
templates do not have.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, cwd=ROOT, capture_output=True, check=False, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    )
    return time.perf_counter() - started


def template_files(directory: Path) -> list[str]:
    """The files the layer reads as templates (not, say, the corpus's expected.json): what a user
    would hand cfn-lint."""
    from concert_platform.policy.loading import is_template, iter_loaded

    return [str(path) for path, _, _, data in iter_loaded(directory) if is_template(data)]


def timing(rounds: int, directory: Path, label: str) -> float:
    """Median wall time of the full layer over `directory` divided by that of the raw tools."""
    full, raw = [], []
    files = template_files(directory)
    for _ in range(rounds):
        full.append(
            timed(
                [str(BIN / "concert-platform"), "policy", "--templates", str(directory), "--format", "json"]
            )
        )
        raw.append(
            timed([str(BIN / "cfn-lint"), *files])
            + timed(
                [
                    str(BIN / "checkov"),
                    "-d",
                    str(directory),
                    "--framework",
                    "cloudformation",
                    "--quiet",
                    "--compact",
                ]
            )
        )
    f, r = statistics.median(full), statistics.median(raw)
    print(f"{label}: {len(files)} templates")
    print(f"  full policy layer (cfn-lint + checkov + our checks, median of {rounds}): {f:.2f}s")
    print(f"  cfn-lint then checkov as separate CLIs          (median of {rounds}): {r:.2f}s")
    print(f"  ratio full / raw: {f / r:.2f}x (target <= 1.15x)")
    return f / r


def kill_rates() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))
    from tests.policy.mutations import CATALOGUE, apply

    from concert_platform.manifest import load_cfn_yaml
    from concert_platform.policy.runner import run_policy

    def findings(directory: Path, tool: str) -> set[tuple[str, str, str]]:
        report = run_policy(directory, tools=(tool,))
        return {(f.check_id, f.template.replace(".json", ".yaml"), f.resource) for f in report.findings}

    def write(directory: Path, mutation=None) -> None:
        for path in (ROOT / "templates").glob("*.yaml"):
            data = load_cfn_yaml(path.read_text())
            if mutation and path.name == mutation.template:
                data = apply(data, mutation)
            (directory / path.name.replace(".yaml", ".json")).write_text(json.dumps(data, indent=1))

    tools = ("cfn-lint", "checkov", "concert-platform")
    with tempfile.TemporaryDirectory() as clean_dir:
        write(Path(clean_dir))
        baseline = {tool: findings(Path(clean_dir), tool) for tool in tools}
    killed = {tool: 0 for tool in (*tools, "full layer")}
    for mutation in CATALOGUE:
        with tempfile.TemporaryDirectory() as work:
            write(Path(work), mutation)
            hits = {tool: bool(findings(Path(work), tool) - baseline[tool]) for tool in tools}
        for tool, hit in hits.items():
            killed[tool] += hit
        killed["full layer"] += any(hits.values())
        print(f"  {mutation.name:<55} " + " ".join(f"{t}={'killed' if h else '-'}" for t, h in hits.items()))
    total = len(CATALOGUE)
    for tool, count in killed.items():
        print(f"kill rate {tool:<17} {count}/{total} = {100 * count / total:.0f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kill-rates", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    timing(args.rounds, ROOT / "templates", "project templates (templates/)")
    timing(args.rounds, ROOT / "tests" / "policy" / "fixtures", "policy fixtures (tests/policy/fixtures/)")
    sys.path.insert(0, str(ROOT))
    from tests.policy import corpus_templates

    corpus_templates.populate()
    timing(args.rounds, corpus_templates.CORPUS, "third-party corpus (tests/policy/corpus/)")
    if args.kill_rates:
        kill_rates()


if __name__ == "__main__":
    main()
