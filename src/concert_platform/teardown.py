"""Teardown that proves itself.

Before destroy, `record_inventory` notes every physical resource the environment's stacks
created (stack, logical id, type, physical id, and the resolved properties needed to find it
again). After destroy, `confirm_gone` asks each resource's own service whether it still exists:
a resource is gone only when its service answers "not found" (or reports it deleted/pending
deletion). Whatever is still there, or could not be asked about, is reported.

`find_leftovers` is the second net: every service listed, anything whose whole name is one the
environment's stacks generate (catches what no stack declared, e.g. log groups a function created
at run time; never another environment's on a shared endpoint, whose name may contain this one's).
Every lookup picks the recorded resource by its id or name, never the first answer of a listing.

This module holds only the flow (record, confirm, remove, scan). What each resource type needs
(its probe, its remover, the names its service lists) lives beside its verification table in
`concert_platform.verify.<service>`; the stack reader is `concert_platform.verify._stack`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from concert_platform.engines.base import Engine
from concert_platform.manifest import Manifest
from concert_platform.resolve import UNRESOLVED, Resolver
from concert_platform.verify import NAMES, PROBES, REMOVERS, RETAINED_BY_DESIGN
from concert_platform.verify._lifecycle import Gone, Probe, Recorded, Remover, gone_error, paginate
from concert_platform.verify._stack import pseudo_parameters, read_exports, read_stack

__all__ = [
    "PROBES",
    "REMOVERS",
    "RETAINED_BY_DESIGN",
    "Gone",
    "Probe",
    "Recorded",
    "Remover",
    "confirm_gone",
    "describe_remaining",
    "environment_matcher",
    "environment_names",
    "find_leftovers",
    "outlived_their_stacks",
    "record_inventory",
    "remove_remaining",
]

# ---- inventory ---------------------------------------------------------------------------------


def _physical_id_getter(physical: Mapping[str, str]) -> Callable[[str, str], Any]:
    """GetAtt as the physical id: enough to find a resource again (APIs take the name for the ARN)."""
    return lambda logical, _attribute: physical.get(logical, UNRESOLVED)


def record_inventory(engine: Engine, manifest: Manifest, environment: str) -> list[Recorded]:
    """Every physical resource the environment's stacks report, in creation order."""
    exports = read_exports(engine)
    account = engine.client("sts").get_caller_identity()["Account"]
    recorded: list[Recorded] = []
    for spec in manifest.stacks:
        state = read_stack(engine, manifest, spec.key, environment)
        if state is None:
            continue  # not deployed
        physical = state.physical_ids
        resolver = Resolver(
            state.template,
            state.parameters,
            pseudo_parameters(engine.region, account, state),
            physical,
            exports,
            _physical_id_getter(physical),
        )
        declared = state.template.get("Resources", {})
        for logical_id, physical_id in physical.items():
            resource = declared.get(logical_id, {})
            try:
                properties = resolver.resolve(resource.get("Properties", {}))
            except Exception:  # a property we cannot resolve only limits how the resource is found
                properties = {}
            recorded.append(
                Recorded(
                    stack=spec.key,
                    stack_name=state.name,
                    logical_id=logical_id,
                    type=resource.get("Type") or state.reported_types.get(logical_id, ""),
                    physical_id=physical_id,
                    properties=properties if isinstance(properties, dict) else {},
                    siblings=physical,
                    deletion_policy=str(resource.get("DeletionPolicy", "Delete")),
                )
            )
    return recorded


# ---- asking each service ----------------------------------------------------------------------


def outlived_their_stacks(
    recorded: Iterable[Recorded], remaining: list[dict[str, str]], deleted_stacks: set[str]
) -> list[dict[str, str]]:
    """What remains of a stack that reached DELETE_COMPLETE: on AWS a resource that outlives its
    stack is a template bug (a missing dependency) or an engine bug, and a leak either way; only
    the template's `DeletionPolicy: Retain` (and RETAINED_BY_DESIGN, never probed) keeps one."""
    kept = {
        (r.stack, r.logical_id) for r in recorded if r.deletion_policy in ("Retain", "RetainExceptOnCreate")
    }
    return [
        dict(row)
        for row in remaining
        if row["stack"] in deleted_stacks
        and (row["stack"], row["logical_id"]) not in kept
        and row["detail"] == "still exists"
    ]


def confirm_gone(engine: Engine, recorded: Iterable[Recorded]) -> tuple[list[dict[str, str]], int]:
    """(what remains, how many were confirmed gone): each resource asked through its own service."""
    remaining: list[dict[str, str]] = []
    confirmed = 0
    for item in recorded:
        if item.type in RETAINED_BY_DESIGN:
            continue
        probe = PROBES.get(item.type)
        if probe is None:
            remaining.append(item.row(f"no way to ask the service about {item.type}: not proven gone"))
            continue
        try:
            probe(engine.client, item)
        except Gone:
            confirmed += 1
            continue
        except ClientError as exc:
            if gone_error(exc):
                confirmed += 1
                continue
            error = exc.response.get("Error", {})
            remaining.append(item.row(f"could not ask ({error.get('Code')}: {error.get('Message', '')})"))
            continue
        except BotoCoreError as exc:
            remaining.append(item.row(f"could not ask ({exc})"))
            continue
        remaining.append(item.row("still exists"))
    return remaining, confirmed


# ---- the name scan ----------------------------------------------------------------------------


_ACCOUNT, _REGION, _PARTITION = "\x01", "\x02", "\x03"  # stand-ins rendered, then made patterns
_STAND_INS = {
    _ACCOUNT: r"\d{12}",
    _REGION: r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d",
    _PARTITION: r"aws(?:-[a-z-]+)?",
}


def _name_expressions(node: Any) -> Iterable[Any]:
    """Every Fn::Sub / Fn::Join in a template that mentions the Environment parameter."""
    if isinstance(node, dict):
        if len(node) == 1 and next(iter(node)) in ("Fn::Sub", "Fn::Join"):
            text = repr(node)
            if "${Environment}" in text or "'Ref': 'Environment'" in text:
                yield node
        for value in node.values():
            yield from _name_expressions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _name_expressions(value)


def environment_names(manifest: Manifest, environment: str) -> list[str]:
    """Patterns of the whole names the manifest and templates give `environment`'s resources:
    its stack names and every name expression over ${Environment} (account, region and
    partition as patterns; an expression over a runtime value is left out)."""
    from concert_platform.naming import _render

    patterns = {re.escape(manifest.stack_name(spec.key, environment)) for spec in manifest.stacks}
    for spec in manifest.stacks:
        template = manifest.load_template(spec.key)
        params = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
        params.update(
            {
                "Environment": environment,
                "AWS::AccountId": _ACCOUNT,
                "AWS::Region": _REGION,
                "AWS::Partition": _PARTITION,
            }
        )
        for expression in _name_expressions(template):
            rendered = _render(expression, params)
            if rendered and not any(c.isspace() for c in rendered):  # names, not descriptions or bodies
                pattern = re.escape(rendered)
                for stand_in, replacement in _STAND_INS.items():
                    pattern = pattern.replace(stand_in, replacement)
                patterns.add(pattern)
        # names CloudFormation generates for a resource without one: <stack>-<logical id>-<suffix>
        stack = re.escape(manifest.stack_name(spec.key, environment))
        logical = "|".join(re.escape(name) for name in template.get("Resources", {}))
        if logical:  # the suffix: 12-13 characters on AWS and moto, 8 on LocalStack
            patterns.add(rf"(?i:{stack}-(?:{logical})-[a-z0-9]{{8,}})")
    return sorted(patterns)


def environment_matcher(environment: str, manifest: Manifest | None = None) -> Callable[[str], bool]:
    """True for a whole name this environment's stacks generate (also a function's own log group
    under /aws/lambda/, and anything under one of the platform's own paths for the environment,
    such as `/concert-platform/ENV/...`), never for a name that merely contains it: `qa` does not
    match `qa7`'s names, nor `qa7` those of `pr-qa7`, nor `dev` another team's `/their-app/dev/db`."""
    from concert_platform.manifest import load_manifest

    rendered = environment_names(manifest or load_manifest(), environment)
    segment = f"/{re.escape(environment)}/"
    # the path prefixes the platform's own names put in front of the environment's segment
    prefixes = sorted({name.split(segment, 1)[0] for name in rendered if segment in name})
    under = rf"|(?:{'|'.join(prefixes)}){segment}.*" if prefixes else ""
    pattern = re.compile(rf"(?:/aws/lambda/)?(?:{'|'.join(rendered)}){under}")
    return lambda name: bool(pattern.fullmatch(name))


def _names(engine: Engine) -> Iterable[tuple[str, Callable[[], Iterable[str]]]]:
    """(kind, its names) for the stacks, then for every kind a service module lists (verify.NAMES)."""
    c = engine.client
    yield (
        "stack",
        lambda: (
            s["StackName"]
            for s in paginate(c("cloudformation"), "list_stacks", "StackSummaries")
            if s["StackStatus"] != "DELETE_COMPLETE"
        ),
    )
    for kind, namer in NAMES:
        yield kind, (lambda namer=namer: namer(c))  # type: ignore[misc]


def find_leftovers(engine: Engine, environment: str, manifest: Manifest | None = None) -> list[str]:
    """`kind: name` for everything of this environment still present; unlistable kinds are reported too."""
    from concert_platform.manifest import load_manifest

    manifest = manifest or load_manifest()
    matches = environment_matcher(environment, manifest)
    # CloudFormation never generates a stack's name: only this environment's own names are its
    # stacks (a generated-name pattern would take `dev-vpc-12345678`'s stack for `dev`'s)
    stacks = {manifest.stack_name(spec.key, environment) for spec in manifest.stacks}
    leftovers = []
    for kind, lister in _names(engine):
        try:
            names = list(lister())
        except (ClientError, BotoCoreError) as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            optional = "redshift-serverless" in engine.capabilities.optional_services
            if optional and kind in ("redshift namespace", "redshift workgroup"):
                continue  # not offered by every emulator: verification already reports it
            leftovers.append(f"{kind}: could not list ({code})")
            continue
        own = stacks.__contains__ if kind == "stack" else matches
        leftovers.extend(f"{kind}: {name}" for name in names if own(name))
    return leftovers


def describe_remaining(rows: Mapping[str, str]) -> str:
    return f"{rows['stack']}/{rows['logical_id']} {rows['type']} {rows['physical_id']}: {rows['detail']}"


# ---- removing what a failed stack deletion left ------------------------------------------------


def remove_remaining(engine: Engine, recorded: list[Recorded], remaining: list[dict[str, str]]) -> list[str]:
    """Delete, through each service, what a failed stack deletion left; children before parents
    (reverse creation order, several passes for dependencies). Returns what could not be removed."""
    still = {(row["stack"], row["logical_id"]) for row in remaining}
    pending = [r for r in reversed(recorded) if (r.stack, r.logical_id) in still]
    errors: dict[tuple[str, str], str] = {}
    for _ in range(4):
        progress = False
        for item in list(pending):
            remover = REMOVERS.get(item.type)
            if remover is None:
                errors[(item.stack, item.logical_id)] = f"no way to delete {item.type} directly"
                continue
            try:
                remover(engine.client, item)
            except Gone:
                pass
            except ClientError as exc:
                if not gone_error(exc):
                    error = exc.response.get("Error", {})
                    errors[(item.stack, item.logical_id)] = f"{error.get('Code')}: {error.get('Message', '')}"
                    continue
            except (BotoCoreError, ValueError, KeyError) as exc:
                errors[(item.stack, item.logical_id)] = f"{type(exc).__name__}: {exc}"
                continue
            pending.remove(item)
            errors.pop((item.stack, item.logical_id), None)
            progress = True
        if not pending or not progress:
            break
    return [
        f"{item.stack}/{item.logical_id} {item.type} {item.physical_id}: {errors.get((item.stack, item.logical_id), 'not removed')}"
        for item in pending
    ]


def remove_and_confirm(
    engine: Engine, inventory: list[Recorded], remaining: list[dict[str, str]], confirmed: int
) -> tuple[list[dict[str, str]], int, int, list[str]]:
    """What a stack deletion left: removed through each service, then asked for again.
    Returns (still remaining, confirmed gone, removed directly, lines for what could not be removed)."""
    if not remaining:
        return remaining, confirmed, 0, []
    not_removed = remove_remaining(engine, inventory, remaining)
    before = len(remaining)
    remaining, confirmed = confirm_gone(engine, inventory)
    return remaining, confirmed, before - len(remaining), not_removed
