"""The verification run: every declared resource of every stack, checked against its type's table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from concert_platform.engines.base import Engine
from concert_platform.manifest import Manifest
from concert_platform.resolve import UNRESOLVED, Resolver, contains_unresolved
from concert_platform.verify._base import TABLES, NotFound, Outcome, Resource, Unusable, VerifyContext, check
from concert_platform.verify._stack import StackState, pseudo_parameters, read_exports, read_stack


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _availability_zones(engine: Engine) -> list[str]:
    zones = engine.client("ec2").describe_availability_zones()["AvailabilityZones"]
    return sorted(z["ZoneName"] for z in zones)


def attribute_getter(
    ctx: VerifyContext, template: Mapping[str, Any], physical_ids: Mapping[str, str]
) -> Callable[[str, str], Any]:
    """Fn::GetAtt through the services: each table names how its type's attributes are read."""
    cache: dict[tuple[str, str], Any] = {}

    def get_att(logical: str, attribute: str) -> Any:
        key = (logical, attribute)
        if key not in cache:
            resource_type = template.get("Resources", {}).get(logical, {}).get("Type", "")
            table = TABLES.get(resource_type)
            getter = table.attributes.get(attribute) if table else None
            physical = physical_ids.get(logical)
            try:
                cache[key] = getter(ctx, physical) if getter and physical else UNRESOLVED
            except (ClientError, BotoCoreError, LookupError, NotFound):
                cache[key] = UNRESOLVED
        return cache[key]

    return get_att


def make_resolver(
    engine: Engine, state: StackState, exports: Mapping[str, str], ctx: VerifyContext
) -> Resolver:
    return Resolver(
        state.template,
        state.parameters,
        pseudo_parameters(engine.region, ctx.account, state),
        state.physical_ids,
        exports,
        attribute_getter(ctx, state.template, state.physical_ids),
        _availability_zones(engine),
    )


def verify_environment(engine: Engine, manifest: Manifest, environment: str) -> dict[str, Any]:
    """Verify every declared resource of every stack; returns the report's `resources` section.

    `declared`, `verified`, `unverified` (one entry per resource that is not verified, with the
    reason) and `cross_stack` as before; `details` gives every resource's compared and
    not-comparable properties, so a report can show what "verified" rests on.
    """
    exports = read_exports(engine)
    account = engine.client("sts").get_caller_identity()["Account"]
    declared = 0
    verified = 0
    unverified: list[dict[str, Any]] = []
    known_gaps = 0
    details: list[dict[str, Any]] = []
    cross_stack: list[dict[str, Any]] = []
    for spec in manifest.stacks:
        state = read_stack(engine, manifest, spec.key, environment)
        if state is None:
            declared += len(manifest.load_template(spec.key).get("Resources", {}))
            unverified.append(
                {
                    "stack": spec.key,
                    "logical_id": "*",
                    "type": "AWS::CloudFormation::Stack",
                    "reason": "stack is not deployed",
                    "exempt": False,
                }
            )
            continue
        ctx = VerifyContext(engine=engine, region=engine.region, account=account)
        resolver = make_resolver(engine, state, exports, ctx)
        ctx.resolver = resolver
        for logical_id, resource in state.template.get("Resources", {}).items():
            if not resolver.resource_enabled(resource):
                continue
            declared += 1
            resource_type = resource.get("Type", "")
            problem, outcome = verify_resource(
                ctx, spec.key, logical_id, resource, state.physical_ids.get(logical_id)
            )
            details.append(
                {
                    "stack": spec.key,
                    "logical_id": logical_id,
                    "type": resource_type,
                    "verified": problem is None,
                    "compared": outcome.compared,
                    "not_comparable": outcome.not_comparable,
                    "mismatches": outcome.mismatches,
                }
            )
            if problem is None:
                verified += 1
                continue
            gap = engine.known_gap(resource_type, outcome.mismatches) if outcome.mismatches else None
            if gap and problem == "; ".join(outcome.mismatches):
                known_gaps += 1
                unverified.append(
                    {
                        "stack": spec.key,
                        "logical_id": logical_id,
                        "type": resource_type,
                        "reason": f"{problem} (known engine gap: {gap})",
                        "exempt": True,
                        "known_gap": True,
                        "compared": outcome.compared,
                        "not_comparable": outcome.not_comparable,
                    }
                )
                continue
            exempt_reason = engine.unverifiable_types.get(resource_type)
            unverified.append(
                {
                    "stack": spec.key,
                    "logical_id": logical_id,
                    "type": resource_type,
                    "reason": f"{problem} (engine: {exempt_reason})" if exempt_reason else problem,
                    "exempt": bool(exempt_reason),
                    "compared": outcome.compared,
                    "not_comparable": outcome.not_comparable,
                }
            )
        cross_stack.extend(check_cross_stack(state, resolver, exports))
    return {
        "declared": declared,
        "verified": verified,
        "unverified": unverified,
        "known_gaps": known_gaps,
        "cross_stack": cross_stack,
        "details": details,
    }


def describe_resource(ctx: VerifyContext, resource: Resource) -> dict[str, Any]:
    return TABLES[resource.type].describe(ctx, resource)


def verify_resource(
    ctx: VerifyContext, stack: str, logical_id: str, resource: Mapping[str, Any], physical_id: str | None
) -> tuple[str | None, Outcome]:
    """(None, outcome) when verified, else (why not, outcome)."""
    resource_type = resource.get("Type", "")
    outcome = Outcome()
    if not physical_id:
        return "the engine reports no physical resource: it was not created", outcome
    table = TABLES.get(resource_type)
    if table is None:
        return f"no verification table for {resource_type}", outcome
    assert ctx.resolver is not None
    props = ctx.resolver.resolve(resource.get("Properties", {}))
    item = Resource(stack, logical_id, resource_type, physical_id, props if isinstance(props, dict) else {})
    try:
        observed = table.describe(ctx, item)
    except ClientError as exc:
        # One line, however the engine answers (an emulator's 500 is a whole HTML page).
        message = " ".join(str(exc.response.get("Error", {}).get("Message", "")).split())[:200]
        return f"not found through the {exc.operation_name} API ({_error_code(exc)}: {message})", outcome
    except NotFound as exc:
        return f"not found: {exc}", outcome
    except Unusable as exc:
        return str(exc), outcome
    except BotoCoreError as exc:  # e.g. a lookup key the template's value could not resolve
        return f"cannot ask the engine for it ({type(exc).__name__}: {exc})", outcome
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        return f"the engine's answer lacks what verification reads ({type(exc).__name__}: {exc})", outcome
    outcome = check(table, item, observed)
    return ("; ".join(outcome.mismatches) if outcome.mismatches else None), outcome


def check_cross_stack(
    state: StackState, resolver: Resolver, exports: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Every Fn::ImportValue resolves to an export; every export is present with a well-formed value."""
    checks: list[dict[str, Any]] = []
    resolver.unresolved_imports.clear()
    resolver.resolve(state.template.get("Resources", {}))
    resolver.resolve(state.template.get("Outputs", {}))
    for missing in sorted(set(resolver.unresolved_imports)):
        checks.append(
            {
                "stack": state.key,
                "name": f"import {missing}",
                "ok": False,
                "detail": "no stack exports this name",
            }
        )
    for key, output in state.template.get("Outputs", {}).items():
        if "Condition" in output and not resolver.condition(output["Condition"]):
            continue
        value = state.outputs.get(key)
        problem = output_problem(key, value)
        export = resolver.resolve(output.get("Export", {}).get("Name")) if output.get("Export") else None
        if export and not contains_unresolved(export) and exports.get(export) != value:
            problem = problem or f"export {export} is {exports.get(export)!r}, output is {value!r}"
        checks.append(
            {
                "stack": state.key,
                "name": f"output {key}",
                "ok": problem is None,
                "detail": problem or str(value),
            }
        )
    return checks


def output_problem(key: str, value: str | None) -> str | None:
    """Outputs are well formed: ARNs parse, ids look like ids, URLs are https URLs."""
    if value is None or value == "":
        return "missing"
    if key.endswith("Arn") and not (value.startswith("arn:") and len(value.split(":")) >= 6):
        return f"{value!r} is not an ARN"
    if key.endswith("Url") and not value.startswith("https://"):
        return f"{value!r} is not an https URL"
    if key.endswith(("SubnetId", "VpcId", "SecurityGroupId", "NatGatewayId")) and "-" not in value:
        return f"{value!r} is not an EC2 id"
    return None
