"""`concert-platform e2e`: deploy, verify every resource, smoke-test every flow, destroy, report.

Exit 0 only when every smoke check passed, teardown left nothing behind and every resource the
engine could not show back is covered by the engine's capability list.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import string
import time
from pathlib import Path
from typing import Any

from concert_platform.errors import ConcertPlatformError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=("embedded", "localstack", "aws"),
        default=os.environ.get("CONCERT_ENGINE", "embedded"),
    )
    parser.add_argument(
        "--environment", "-e", default="e2e", help="environment slug for the run (default: e2e)"
    )
    parser.add_argument("--region", "-r", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    parser.add_argument("--endpoint-url", help="override the engine's endpoint")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--keep", action="store_true", help="leave the stacks deployed (not for the embedded engine)"
    )
    parser.add_argument(
        "--reports-dir", type=Path, default=Path("reports"), help="where the JUnit XML and Markdown go"
    )


def ephemeral_password() -> str:
    """A throwaway Redshift password meeting its rules (upper, lower, digit; no / @ \" ' \\ or space)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(24))
        if (
            any(c.isupper() for c in candidate)
            and any(c.islower() for c in candidate)
            and any(c.isdigit() for c in candidate)
        ):
            return candidate


def run_e2e(
    engine_name: str, environment: str, region: str, endpoint_url: str | None, keep: bool
) -> dict[str, Any]:
    from rich.console import Console

    from concert_platform.engines import create_engine
    from concert_platform.execution_roles import iam_section
    from concert_platform.manifest import load_manifest
    from concert_platform.naming import validate_environment, validate_names, validate_region
    from concert_platform.smoke import run_smoke
    from concert_platform.teardown import find_leftovers
    from concert_platform.verify import verify_environment
    from concert_platform.workflow import deploy_environment, destroy_environment

    console = Console(stderr=True, highlight=False)
    manifest = load_manifest()
    validate_environment(environment)
    validate_region(region)
    validate_names(manifest, environment)
    engine = create_engine(engine_name, region, endpoint_url)
    started = time.monotonic()
    report: dict[str, Any] = {"engine": engine_name, "environment": environment, "region": region}
    environ = dict(os.environ)
    environ.setdefault("REDSHIFT_MASTER_PASSWORD", ephemeral_password())
    with engine:
        try:
            deployed = deploy_environment(
                engine,
                manifest,
                environment,
                console=console,
                load_sample=True,
                environ=environ,
                interactive=False,
                confirm=lambda _q: True,
            )
            report["stacks"] = deployed["stacks"]
            report["post_deploy"] = deployed["post_deploy"]
            report["resources"] = verify_environment(engine, manifest, environment)
            report["smoke"] = run_smoke(engine, manifest, environment)
            report["iam"] = iam_section(engine)
        except ConcertPlatformError as exc:
            report["error"] = str(exc)
            console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        finally:
            if keep and engine_name != "embedded":
                report["teardown"] = {"clean": None, "leftovers": [], "kept": True}
            else:
                try:
                    destroy_environment(engine, manifest, environment, console=console)
                    leftovers = find_leftovers(engine, environment)
                except ConcertPlatformError as exc:
                    leftovers = [f"teardown failed: {exc}"]
                report["teardown"] = {"clean": not leftovers, "leftovers": leftovers}
    report.setdefault("stacks", [])
    report.setdefault("resources", {"declared": 0, "verified": 0, "unverified": []})
    report.setdefault("smoke", {"passed": 0, "failed": 0, "checks": []})
    report.setdefault("iam", {"enforced": engine_name == "embedded", "denied": [], "unused": []})
    report["seconds"] = round(time.monotonic() - started, 3)
    report["ok"] = is_success(report)
    return report


def is_success(report: dict[str, Any]) -> bool:
    resources = report["resources"]
    smoke = report["smoke"]
    teardown = report.get("teardown", {})
    return (
        "error" not in report
        and smoke["failed"] == 0
        and smoke["passed"] > 0
        and not report.get("iam", {}).get("denied")
        and teardown.get("clean") is not False
        and all(item.get("exempt") for item in resources["unverified"])
        and all(step["ok"] for step in report.get("post_deploy", []))
    )


def run(args: argparse.Namespace) -> int:
    from concert_platform.reports import print_summary, write_reports

    report = run_e2e(args.engine, args.environment, args.region, args.endpoint_url, args.keep)
    paths = write_reports(report, args.reports_dir)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_summary(report, paths)
    return 0 if report["ok"] else 1
