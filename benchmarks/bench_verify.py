"""Verification by declared property on the embedded engine: how long, and what it rests on.

    python benchmarks/bench_verify.py [--rounds N] [--environment production]

Deploys the six stacks once on the embedded engine, then runs `verify_environment` N times and
prints the median time, resources verified of declared, properties compared, and every
property reported not comparable with its reason. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_deploy import PASSWORD, tiny_zip
from concert_platform.manifest import load_manifest
from concert_platform.packaging import Artifact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--environment", default="bench-verify", help="'production' deploys the conditional types too"
    )
    args = parser.parse_args()

    from concert_platform.engines.embedded import EmbeddedEngine
    from concert_platform.verify import verify_environment
    from concert_platform.workflow import deploy_environment, destroy_environment

    manifest = load_manifest()
    artifacts = {name: Artifact(name, f"bench/{name}.zip", tiny_zip()) for name in manifest.artifacts}
    with EmbeddedEngine("us-east-1") as engine:
        deploy_environment(
            engine,
            manifest,
            args.environment,
            environ={"REDSHIFT_MASTER_PASSWORD": PASSWORD, "ALERT_EMAIL": "ops@example.com"},
            interactive=False,
            artifacts=artifacts,
        )
        times, result = [], {}
        for _ in range(args.rounds):
            started = time.perf_counter()
            result = verify_environment(engine, manifest, args.environment)
            times.append(time.perf_counter() - started)
        destroy_environment(engine, manifest, args.environment)
    details = result["details"]
    compared = sum(len(d["compared"]) for d in details)
    reasons = Counter(
        (d["type"], prop, reason) for d in details for prop, reason in d["not_comparable"].items()
    )
    print(f"verify_environment (median of {args.rounds}): {statistics.median(times):.2f}s")
    print(f"resources: {result['verified']} of {result['declared']} verified")
    print(f"properties: {compared} compared, {sum(reasons.values())} not comparable")
    for (resource_type, prop, reason), count in sorted(reasons.items()):
        print(f"  {resource_type}.{prop} x{count}: {reason}")
    for item in result["unverified"]:
        print(f"  UNVERIFIED {item['stack']}/{item['logical_id']}: {item['reason']}")


if __name__ == "__main__":
    main()
