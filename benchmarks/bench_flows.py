"""The smoke run's self-check flows (hostile input, dependency failures, contracts) on one deployed
platform, run again and again in this process: the per-request costs they pay, measured apart
from a whole e2e's deploy, verify and teardown.

    python benchmarks/bench_flows.py [--rounds 4] [--json]

Deploys the six stacks once on the embedded engine (with the sample data), runs the runtime,
wiring and API flows once to start every function, then runs each self-check flow `--rounds`
times, each flow followed by `Engine.settle()` as in the smoke run. Printed per flow: the median
wall time, this process's CPU time in the same span (`time.process_time()`: every thread of the
one interpreter that runs both the engine and the flows' own requests and checks; the functions
run in worker processes and are not counted) and their ratio. A ratio near 1 says the flow waits
on that one interpreter, so only doing less per request makes it faster. The first round pays one-time costs (moto loading service models); the median
is the steady state. A measurement, not a test: nothing here asserts a time, but a flow that does
not pass is reported and the exit code is 1.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args()

    from concert_platform.e2e import ephemeral_password
    from concert_platform.engines.embedded import EmbeddedEngine
    from concert_platform.manifest import load_manifest
    from concert_platform.smoke.contracts import contract_checks
    from concert_platform.smoke.failures import failure_checks
    from concert_platform.smoke.hostile import hostile_checks
    from concert_platform.smoke.platform import Platform
    from concert_platform.smoke.run import FLOWS, run_flows
    from concert_platform.workflow import deploy_environment, destroy_environment

    flows = (
        ("hostile input", hostile_checks),
        ("dependency failures", failure_checks),
        ("contracts", contract_checks),
    )
    manifest = load_manifest()
    environment = "bench-flows"
    walls: dict[str, list[float]] = {name: [] for name, _ in flows}
    cpus: dict[str, list[float]] = {name: [] for name, _ in flows}
    failed: list[str] = []
    with EmbeddedEngine("us-east-1") as engine:
        started = time.monotonic()
        try:
            deploy_environment(
                engine,
                manifest,
                environment,
                environ={"REDSHIFT_MASTER_PASSWORD": ephemeral_password()},
                interactive=False,
                load_sample=True,
                confirm=lambda _question: True,
            )
            deployed = time.monotonic() - started
            with Platform(engine, manifest, environment) as platform:
                run_flows(platform, tuple(f for f in FLOWS if f[0] in ("runtime", "wiring", "api")))
                for _ in range(args.rounds):
                    for name, flow in flows:
                        wall, cpu = time.monotonic(), time.process_time()
                        results = flow(platform)
                        engine.settle()
                        walls[name].append(time.monotonic() - wall)
                        cpus[name].append(time.process_time() - cpu)
                        failed += [f"{r.name}: {r.detail[:200]}" for r in results if not r.ok]
        finally:
            destroy_environment(engine, manifest, environment)
    summary: dict[str, Any] = {
        "rounds": args.rounds,
        "deploy_seconds": round(deployed, 2),
        "flows": {
            name: {
                "median_seconds": round(statistics.median(walls[name]), 3),
                "median_process_cpu_seconds": round(statistics.median(cpus[name]), 3),
                "seconds": [round(w, 3) for w in walls[name]],
            }
            for name, _ in flows
        },
        "failed": failed,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"self-check flows on one embedded deployment (deployed in {deployed:.1f}s), {args.rounds} rounds:"
        )
        for name, row in summary["flows"].items():
            ratio = (
                row["median_process_cpu_seconds"] / row["median_seconds"] if row["median_seconds"] else 0.0
            )
            rounds = " ".join(f"{s:.2f}" for s in row["seconds"])
            print(
                f"  {name:20s} median {row['median_seconds']:.2f}s wall, process CPU "
                f"{row['median_process_cpu_seconds']:.2f}s ({ratio:.0%} of it); rounds {rounds}"
            )
        for line in failed:
            print(f"  NOT PASSED {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
