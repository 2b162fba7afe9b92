"""The integration layer: every resource verified, every cross-stack wire checked, every flow smoke-tested."""

from __future__ import annotations

import pytest

from concert_platform.smoke import run_smoke
from concert_platform.verify import verify_environment

pytestmark = pytest.mark.integration


def test_every_stack_deployed_and_post_deploy_steps_passed(deployment) -> None:
    statuses = {s["key"]: s["status"] for s in deployment.report["stacks"]}
    assert set(statuses) == set(deployment.manifest.keys)
    assert all(status in ("created", "updated", "no changes", "replaced") for status in statuses.values()), (
        statuses
    )
    failed = [step for step in deployment.report["post_deploy"] if not step["ok"]]
    assert not failed, failed
    print(
        f"\ndeployed {len(statuses)} stacks on {deployment.engine.name} in {deployment.deploy_seconds:.1f}s"
    )


def test_every_declared_resource_is_verified(deployment) -> None:
    result = verify_environment(deployment.engine, deployment.manifest, deployment.environment)
    print(f"\nresources: {result['verified']} of {result['declared']} declared resources verified")
    not_exempt = [u for u in result["unverified"] if not u["exempt"]]
    assert not not_exempt, "\n".join(
        f"{u['stack']}/{u['logical_id']} {u['type']}: {u['reason']}" for u in not_exempt
    )
    if deployment.engine.name == "embedded":
        assert result["verified"] == result["declared"], (
            "the embedded engine's capability list must stay empty"
        )


def test_every_import_resolves_and_every_output_is_well_formed(deployment) -> None:
    result = verify_environment(deployment.engine, deployment.manifest, deployment.environment)
    broken = [c for c in result["cross_stack"] if not c["ok"]]
    assert not broken, broken
    assert len(result["cross_stack"]) > 50


def test_smoke_flows(deployment) -> None:
    smoke = run_smoke(deployment.engine, deployment.manifest, deployment.environment)
    for check in smoke["checks"]:
        word = "skip" if check.get("skipped") else "pass" if check["ok"] else "FAIL"
        print(f"{word} {check['name']}: {check['detail']}")
    assert smoke["failed"] == 0, [c for c in smoke["checks"] if not c["ok"]]
