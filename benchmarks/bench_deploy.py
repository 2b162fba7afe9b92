"""Embedded deploy + destroy of the six stacks, against raw moto's create_stack on the same templates.

    python benchmarks/bench_deploy.py [--rounds N]

Both sides run in this process, one after the other, on the same templates and parameters.
Raw moto: `mock_aws` + boto3 `create_stack` per stack in order, no extensions (what a
hand-rolled moto suite does); it is reported with what it actually did (stacks created,
resources it silently skipped, or the error it raised). Embedded: `concert-platform`'s deploy
(change sets, progress, artifact upload, post-deployment steps) and destroy on the embedded
engine. Prints the absolute times and the ratio; a ratio is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from concert_platform.manifest import load_manifest
from concert_platform.packaging import Artifact

PASSWORD = "Sup3rSecretPw"


def tiny_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def parameters_for(manifest, key: str, environment: str) -> list[dict[str, str]]:
    inputs = {
        "redshift_master_password": PASSWORD,
        "redshift_master_username": "admin",
        "alert_email": "",
        "bedrock_agent_id": "",
        "bedrock_agent_alias_id": "",
        "log_retention_days": "7",
    }
    keys = {
        "handlers_package": "functions/h.zip",
        "shared_layer_package": "layers/s.zip",
        "xray_sdk_layer_package": "layers/x.zip",
    }
    return manifest.resolve_parameters(key, environment, inputs, keys)


def raw_moto(environment: str) -> tuple[float, str]:
    """Raw moto, as a hand-rolled suite would use it: no extensions."""
    import subprocess

    # A fresh interpreter: once concert_platform's extensions are registered they cannot be unloaded.
    code = f"""
import time, boto3, json, sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[1] / "src")!r})
from moto import mock_aws
from concert_platform.manifest import load_manifest
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from bench_deploy import parameters_for, tiny_zip
manifest = load_manifest()
outcome = []
with mock_aws():
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    started = time.perf_counter()
    for spec in manifest.stacks:
        name = manifest.stack_name(spec.key, {environment!r})
        try:
            if spec.key == "compute":
                s3 = boto3.client("s3", region_name="us-east-1")
                bucket = [b["Name"] for b in s3.list_buckets()["Buckets"] if "lambda-deployment" in b["Name"]]
                for key in ("functions/h.zip", "layers/s.zip", "layers/x.zip"):
                    if bucket:
                        s3.put_object(Bucket=bucket[0], Key=key, Body=tiny_zip())
            cfn.create_stack(StackName=name, TemplateBody=manifest.template_path(spec.key).read_text(),
                             Parameters=parameters_for(manifest, spec.key, {environment!r}), Capabilities=["CAPABILITY_NAMED_IAM"])
            resources = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
            declared = len(manifest.load_template(spec.key)["Resources"])
            skipped = sum(1 for r in resources if not r.get("LogicalResourceId") or not r.get("PhysicalResourceId"))
            outcome.append(f"{{spec.key}}: created, {{skipped}} of {{declared}} without a physical resource")
        except Exception as exc:
            outcome.append(f"{{spec.key}}: {{type(exc).__name__}}: {{str(exc)[:80]}}")
            break
    print(json.dumps({{"seconds": time.perf_counter() - started, "outcome": outcome}}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    import json

    line = next((x for x in result.stdout.splitlines() if x.startswith("{")), None)
    if line is None:
        return float("nan"), result.stderr[-300:]
    data = json.loads(line)
    return data["seconds"], "; ".join(data["outcome"])


def embedded(environment: str) -> float:
    from concert_platform.engines.embedded import EmbeddedEngine
    from concert_platform.workflow import deploy_environment, destroy_environment

    manifest = load_manifest()
    artifacts = {name: Artifact(name, f"bench/{name}.zip", tiny_zip()) for name in manifest.artifacts}
    with EmbeddedEngine("us-east-1") as engine:
        started = time.perf_counter()
        deploy_environment(
            engine,
            manifest,
            environment,
            environ={"REDSHIFT_MASTER_PASSWORD": PASSWORD},
            interactive=False,
            artifacts=artifacts,
        )
        destroy_environment(engine, manifest, environment)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raw_times, embedded_times, outcome = [], [], ""
    for index in range(args.rounds):
        seconds, outcome = raw_moto(f"bench-raw-{index}")
        raw_times.append(seconds)
        embedded_times.append(embedded(f"bench-emb-{index}"))
    raw, emb = statistics.median(raw_times), statistics.median(embedded_times)
    print(f"raw moto create_stack, six stacks in order (median of {args.rounds}): {raw:.3f}s")
    print(f"  what raw moto did: {outcome}")
    print(f"embedded deploy + destroy, six stacks   (median of {args.rounds}): {emb:.3f}s")
    print(f"ratio embedded / raw: {emb / raw:.2f}x")


if __name__ == "__main__":
    main()
