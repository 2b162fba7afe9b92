"""CloudFormation stack lifecycle semantics moto 5.2 lacks: resource events, failures, rollback.

moto creates resources synchronously and, when one fails, lets the service exception escape
from the API call: no CREATE_FAILED event, no rollback (resources created before the failure
stay behind), and the stack is left in REVIEW_IN_PROGRESS/CREATE_IN_PROGRESS. Real
CloudFormation records `<resource> CREATE_FAILED <reason>`, deletes what it created and ends
in ROLLBACK_COMPLETE (or UPDATE_ROLLBACK_COMPLETE for updates). This module emulates that:

- every resource creation/update/deletion records the resource events CloudFormation would;
- a failure is tagged with the failing resource's logical id, recorded as *_FAILED with the
  service's message as reason, and the stack is rolled back; the API call itself succeeds,
  as it does on AWS where execution is asynchronous;
- a delete that fails ends in DELETE_FAILED with the resource and reason;
- an UPDATE change set replaces a resource when a create-only property changes, refuses what
  CloudFormation refuses (custom-named replacement, an export in use), cleans up after success
  under UpdateReplacePolicy/DeletionPolicy, and its description says all of it (see below).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import json
import re
from typing import Any

import yaml
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.utils import yaml_tag_constructor

_PATCHED_FLAG = "_concert_platform_lifecycle"


class ResourceFailure(Exception):
    """A resource operation failed; carries what CloudFormation would put in the event."""

    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or getattr(exc, "description", None) or str(exc)
    code = getattr(exc, "code", None) or getattr(exc, "error_type", None)
    text = (
        f"{code}: {message}" if isinstance(code, str) and code and code not in str(message) else str(message)
    )
    return " ".join(text.split())[:1000] or type(exc).__name__


def _stack_for(resources_map: Any) -> Any:
    backend = cfn_models.cloudformation_backends[resources_map._account_id][resources_map._region_name]
    return backend.stacks.get(resources_map.stack_id)


def _resource_event(
    stack: Any,
    logical_id: str,
    resource_type: str,
    status: str,
    physical_id: str = "",
    reason: str | None = None,
) -> None:
    if stack is None:
        return
    stack.events.append(
        cfn_models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical_id,
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _physical_id(resource: Any) -> str:
    try:
        return str(getattr(resource, "physical_resource_id", "") or "")
    except Exception:
        return ""


def _wrap_resource_operation(original: Any, verb: str) -> Any:
    @functools.wraps(original)
    def wrapper(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if not isinstance(resource_json, dict) or "Type" not in resource_json:
            return original(
                logical_id, resource_json, resources_map, *args, **kwargs
            )  # a parameter, not a resource
        resource_type = resource_json.get("Type", "")
        condition = resource_json.get("Condition")
        if verb == "CREATE" and condition and not resources_map.lazy_condition_map[condition]:
            return original(logical_id, resource_json, resources_map, *args, **kwargs)
        stack = _stack_for(resources_map)
        _resource_event(stack, logical_id, resource_type, f"{verb}_IN_PROGRESS")
        try:
            resource = original(logical_id, resource_json, resources_map, *args, **kwargs)
        except ResourceFailure:
            raise  # a dependency failed first; it has been recorded already
        except Exception as exc:
            reason = _reason(exc)
            _resource_event(stack, logical_id, resource_type, f"{verb}_FAILED", reason=reason)
            raise ResourceFailure(logical_id, resource_type, reason) from exc
        _resource_event(stack, logical_id, resource_type, f"{verb}_COMPLETE", _physical_id(resource))
        return resource

    return wrapper


def _rollback_created(stack: Any) -> None:
    """Delete whatever the failed creation made, recording DELETE events; never raises."""
    resource_map = stack.resource_map
    for logical_id in reversed(list(resource_map._parsed_resources)):
        if logical_id not in resource_map._resource_json_map:
            continue  # parameters, pseudo parameters and mappings share the map; they are not resources
        resource = resource_map._parsed_resources.get(logical_id)
        if resource is None or isinstance(resource, str):
            continue
        resource_json = resource_map._resource_json_map.get(logical_id, {})
        resource_type = resource_json.get("Type", "")
        try:
            resource_map._delete_resource(resource, resource_json)
            resource_map._parsed_resources.pop(logical_id, None)
            _resource_event(stack, logical_id, resource_type, "DELETE_COMPLETE", _physical_id(resource))
        except Exception as exc:
            _resource_event(stack, logical_id, resource_type, "DELETE_FAILED", reason=_reason(exc))


class NotDeletable(Exception):
    """The engine has no way to delete this type: the stack must not claim DELETE_COMPLETE."""

    code = "NotDeletable"


def _guard_undeletable(original: Any) -> Any:
    """moto silently skips a resource whose model has no delete; CloudFormation would either
    delete it or fail. Fail, naming the type, so the stack ends DELETE_FAILED."""

    @functools.wraps(original)
    def _delete_resource(self: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
        resource_type = resource_json.get("Type", "")
        import concert_platform.engines.moto_ext.faults as faults

        if resource_type == faults.SURVIVING_TYPE and faults.active("teardown"):
            return  # test-only: the resource outlives its stack, which still ends DELETE_COMPLETE
        if not callable(getattr(parsed_resource, "delete", None)):
            resource_class = parsing.resource_class_from_type(resource_type)
            if resource_class is None or hasattr(
                resource_class.delete_from_cloudformation_json, "__isabstractmethod__"
            ):
                raise NotDeletable(
                    f"the embedded engine cannot delete {resource_type} {_physical_id(parsed_resource)}".strip()
                )
        original(self, parsed_resource, resource_json)

    return _delete_resource


def _forget_resources(stack: Any) -> None:
    """moto's maps are lazy: describing a deleted or rolled-back stack would re-resolve its
    outputs and so re-create the resources they reference. Such a stack has neither."""
    stack.resource_map._resource_json_map = {}
    stack.output_map._output_json_map = {}
    stack.output_map._parsed_outputs = {}


def _fail_create(stack: Any, failure: ResourceFailure) -> None:
    stack._add_stack_event(
        "ROLLBACK_IN_PROGRESS",
        resource_status_reason=f"The following resource(s) failed to create: [{failure.logical_id}]. Rollback requested by user.",
    )
    stack.status = "ROLLBACK_IN_PROGRESS"
    _rollback_created(stack)
    _forget_resources(stack)
    stack.status = "ROLLBACK_COMPLETE"
    stack._add_stack_event("ROLLBACK_COMPLETE")


def _register_exports(backend: Any, stack: Any, previous: list[str] = ()) -> None:  # type: ignore[assignment]
    for name in previous:
        backend.exports.pop(name, None)
    backend._validate_export_uniqueness(stack)
    for export in stack.exports:
        backend.exports[export.name] = export


def _execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    """CloudFormation's ExecuteChangeSet: moto's own neither resolves imports for CREATE change
    sets nor registers the new stack's exports, and has no failure handling."""
    change_set = self.describe_change_set(change_set_name)
    stack = self.stacks[change_set.stack_id]
    if change_set.change_set_type == "CREATE":
        stack.template = change_set.template
        stack.parameters = change_set.parameters
        stack._parse_template()
        stack.cross_stack_resources = self.exports
        stack.resource_map = stack._create_resource_map()
        stack.output_map = stack._create_output_map()
        stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
        try:
            stack.create_resources()
            _register_exports(self, stack)
        except ResourceFailure as failure:
            change_set.execution_status = "EXECUTE_FAILED"
            _fail_create(stack, failure)
            return
    else:
        if not _update_stack(self, stack, change_set):
            change_set.execution_status = "EXECUTE_FAILED"
            return
    change_set.execution_status = "EXECUTE_COMPLETE"


def _patched_create_stack(original: Any) -> Any:
    @functools.wraps(original)
    def create_stack(self: Any, *args: Any, **kwargs: Any) -> Any:
        before = set(self.stacks)
        try:
            return original(self, *args, **kwargs)
        except ResourceFailure as failure:
            (new_id,) = set(self.stacks) - before
            stack = self.stacks[new_id]
            _fail_create(stack, failure)
            return stack

    return create_stack


def _patched_stack_delete(original: Any) -> Any:
    @functools.wraps(original)
    def delete(self: Any) -> None:
        self._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
        resource_map = self.resource_map
        for logical_id, resource in list(resource_map._parsed_resources.items()):
            if resource is not None and not isinstance(resource, str):
                _resource_event(
                    self,
                    logical_id,
                    resource_map._resource_json_map.get(logical_id, {}).get("Type", ""),
                    "DELETE_IN_PROGRESS",
                    _physical_id(resource),
                )
        try:
            resource_map.delete()
        except Exception as exc:
            reason = _reason(exc)
            # Only what still exists stays in the maps; moto would otherwise re-create the rest lazily.
            resource_map._resource_json_map = {
                k: v
                for k, v in resource_map._resource_json_map.items()
                if k in resource_map._parsed_resources
            }
            self.output_map._output_json_map = {}
            self.output_map._parsed_outputs = {}
            remaining = [k for k in resource_map._parsed_resources if k in resource_map._resource_json_map]
            stuck = remaining[0] if remaining else self.name
            stuck_type = resource_map._resource_json_map.get(stuck, {}).get("Type", "")
            for logical_id in remaining:
                _resource_event(
                    self,
                    logical_id,
                    resource_map._resource_json_map[logical_id].get("Type", ""),
                    "DELETE_FAILED",
                    reason=reason
                    if logical_id == stuck
                    else "Resource could not be deleted: a dependency remains",
                )
            self.status = "DELETE_FAILED"
            self._add_stack_event(
                "DELETE_FAILED",
                resource_status_reason=f"The following resource(s) failed to delete: [{', '.join(remaining)}]. {reason}",
            )
            raise ResourceFailure(stuck, stuck_type, reason) from exc
        for logical_id, resource_json in resource_map._resource_json_map.items():
            _resource_event(self, logical_id, resource_json.get("Type", ""), "DELETE_COMPLETE")
        _forget_resources(self)
        self._add_stack_event("DELETE_COMPLETE")
        self.status = "DELETE_COMPLETE"

    return delete


def _patched_backend_delete_stack(original: Any) -> Any:
    @functools.wraps(original)
    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        targets = [s for s in self.stacks.values() if name_or_stack_id in (s.stack_id, s.name)]
        for stack in targets:
            in_use = _exports_in_use(self, stack)
            if in_use:
                export, importer = in_use
                stack._add_stack_event(
                    "DELETE_FAILED",
                    resource_status_reason=f"Export {export} cannot be deleted as it is in use by {importer}",
                )
                stack.status = "DELETE_FAILED"
                return
        try:
            original(self, name_or_stack_id)
        except ResourceFailure:
            # moto pops the stack before deleting it; CloudFormation keeps it, in DELETE_FAILED
            for stack in targets:
                self.stacks[stack.stack_id] = stack

    return delete_stack


def _imported_names(stack: Any) -> set[str]:
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "Fn::ImportValue" in node:
                with contextlib.suppress(Exception):  # an unresolvable import blocks nothing
                    names.add(str(parsing.clean_json(node["Fn::ImportValue"], stack.resource_map)))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(stack.template_dict.get("Resources", {}))
    walk(stack.template_dict.get("Outputs", {}))
    return names


def _exports_in_use(backend: Any, stack: Any) -> tuple[str, str] | None:
    """(export, importing stack) when another live stack imports one of `stack`'s exports."""
    exported = {export.name for export in stack.exports}
    for other in backend.stacks.values():
        if other is stack or other.status.startswith("DELETE_COMPLETE"):
            continue
        used = exported & _imported_names(other)
        if used:
            return sorted(used)[0], other.name
    return None


# ---- updates as CloudFormation makes them ---------------------------------------------------
#
# moto updates a stack by comparing raw template text and calling each model's update in place;
# a model without one leaves the resource as None (gone from the stack), a removed resource is
# deleted before anything else, and nothing is ever replaced. CloudFormation compares resolved
# property values, replaces a resource when a create-only property changes (the new one first,
# the old one deleted at cleanup, after the update succeeded), refuses to replace a custom-named
# resource, refuses to change or remove an export another stack imports, rolls everything back
# on a failure, and honours UpdateReplacePolicy and DeletionPolicy at cleanup.

CUSTOM_NAMED_REPLACEMENT = (
    "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
    "Rename {name} and update the stack again."
)
_PENDING = "{{pending:"


class _Pending:
    """A resource the update has not made yet: its id and attributes are known only then."""

    def __init__(self, logical_id: str) -> None:
        self.logical_resource_id = logical_id
        self.physical_resource_id = f"{_PENDING}{logical_id}}}}}"

    def get_cfn_attribute(self, name: str) -> str:
        return f"{_PENDING}{self.logical_resource_id}.{name}}}}}"

    def is_created(self) -> bool:
        return False


class _PlanningMap(parsing.ResourceMap):
    """The new template's view of the stack: existing resources as they are, the rest pending."""

    pending: set[str]

    def __getitem__(self, key: str) -> Any:
        if key in self._parsed_resources:
            return self._parsed_resources[key]
        if key in self._resource_json_map:
            return _Pending(key)
        raise KeyError(key)


@dataclasses.dataclass
class PlannedChange:
    """One resource's change, as DescribeChangeSet reports it."""

    action: str  # Add | Modify | Remove
    logical_id: str
    resource_type: str
    physical_id: str = ""
    replacement: str = "False"  # True | Conditional | False (Modify only)
    details: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def changed_properties(self) -> list[str]:
        return [d["Target"]["Name"] for d in self.details]


def _resolve(properties: Any, resource_map: Any) -> Any:
    try:
        return parsing.clean_json(copy.deepcopy(properties), resource_map)
    except Exception as exc:  # an unresolvable value still compares (as its reason)
        return f"{_PENDING}unresolvable: {_reason(exc)}}}}}"


def _is_pending(value: Any) -> bool:
    return _PENDING in json.dumps(value, default=str)


def _at(value: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _recreation(resource_type: str, name: str, old: Any, new: Any) -> str:
    """Always, Conditionally or Never: whether changing property `name` replaces the resource."""
    from concert_platform.provider_schemas import create_only

    verdict = "Never"
    for path in create_only(resource_type):
        head, *rest = path.split("/")
        if head != name:
            continue
        before, after = _at({name: old}, [head, *rest]), _at({name: new}, [head, *rest])
        if _is_pending(after):
            verdict = "Conditionally"
        elif before != after:
            return "Always"
    return verdict


def _references(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("Ref"), str):
            found.add(node["Ref"])
        if "Fn::Sub" in node:
            text = node["Fn::Sub"][0] if isinstance(node["Fn::Sub"], list) else node["Fn::Sub"]
            if isinstance(text, str):
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
        for value in node.values():
            found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    return found


def _is_live(resource: Any) -> bool:
    return resource is not None and not isinstance(resource, str | dict | list | int | float)


def plan_update(
    resource_map: Any,
    template: dict[str, Any],
    parameters: dict[str, Any],
    pending: set[str] = frozenset(),  # type: ignore[assignment]
) -> dict[str, PlannedChange]:
    """What updating `resource_map` to `template` with `parameters` does, resource by resource."""
    old_json = resource_map._resource_json_map
    new_json = template.get("Resources", {})
    planning = _PlanningMap(
        resource_map.stack_id,
        resource_map["AWS::StackName"],
        dict(parameters),
        resource_map.tags,
        region_name=resource_map._region_name,
        account_id=resource_map._account_id,
        template=template,
        cross_stack_resources=resource_map.cross_stack_resources,
    )
    planning.load_mapping()
    planning.load_parameters()
    planning.load_conditions()
    old_parameters = dict(resource_map.resolved_parameters)
    changed_parameters = {
        name for name, value in planning.resolved_parameters.items() if old_parameters.get(name) != value
    }

    def live(logical_id: str) -> Any:
        resource = resource_map._parsed_resources.get(logical_id)
        return resource if _is_live(resource) else None

    def wanted(logical_id: str) -> bool:
        condition = new_json[logical_id].get("Condition")
        return not condition or bool(planning.lazy_condition_map[condition])

    plan: dict[str, PlannedChange] = {}
    for logical_id in new_json:
        if wanted(logical_id) and (logical_id not in old_json or live(logical_id) is None):
            plan[logical_id] = PlannedChange("Add", logical_id, new_json[logical_id]["Type"])
    for logical_id in old_json:
        if live(logical_id) is not None and (logical_id not in new_json or not wanted(logical_id)):
            plan[logical_id] = PlannedChange(
                "Remove", logical_id, old_json[logical_id]["Type"], _physical_id(live(logical_id))
            )
    waiting = set(plan) | set(pending)
    old_values = {
        logical_id: _resolve(old_json[logical_id].get("Properties", {}), resource_map)
        for logical_id in new_json
        if logical_id in old_json and logical_id not in plan and live(logical_id) is not None
    }
    while True:
        planning._parsed_resources.update(
            {lid: live(lid) for lid in old_values if lid not in waiting and live(lid) is not None}
        )
        for lid in waiting:
            planning._parsed_resources.pop(lid, None)
        newly_replaced = False
        for logical_id, before in old_values.items():
            resource_type = new_json[logical_id]["Type"]
            raw_before = old_json[logical_id].get("Properties", {})
            raw_after = new_json[logical_id].get("Properties", {})
            after = _resolve(raw_after, planning)
            details: list[dict[str, Any]] = []
            for name in (
                sorted(set(before) | set(after))
                if isinstance(before, dict) and isinstance(after, dict)
                else []
            ):
                if before.get(name) == after.get(name):
                    continue
                if raw_before.get(name) != raw_after.get(name):
                    source = "DirectModification"
                elif _references(raw_after.get(name)) & changed_parameters:
                    source = "ParameterReference"
                else:
                    source = "ResourceReference"
                details.append(
                    {
                        "Target": {
                            "Attribute": "Properties",
                            "Name": name,
                            "RequiresRecreation": _recreation(
                                resource_type, name, before.get(name), after.get(name)
                            ),
                        },
                        "Evaluation": "Dynamic" if _is_pending(after.get(name)) else "Static",
                        "ChangeSource": source,
                    }
                )
            other_keys_changed = {k: v for k, v in old_json[logical_id].items() if k != "Properties"} != {
                k: v for k, v in new_json[logical_id].items() if k != "Properties"
            }
            if not details and not other_keys_changed:
                plan.pop(logical_id, None)
                continue
            recreation = {d["Target"]["RequiresRecreation"] for d in details}
            replacement = (
                "True"
                if "Always" in recreation
                else "Conditional"
                if "Conditionally" in recreation
                else "False"
            )
            plan[logical_id] = PlannedChange(
                "Modify", logical_id, resource_type, _physical_id(live(logical_id)), replacement, details
            )
            if replacement == "True" and logical_id not in waiting:
                waiting.add(logical_id)
                newly_replaced = True
        if not newly_replaced:
            return plan


def _custom_named_replacement(
    resource_map: Any, change: PlannedChange, new_json: dict[str, Any]
) -> str | None:
    """CloudFormation's refusal when a replacement would need the name the old resource holds."""
    name_property = parsing.resource_name_property_from_type(change.resource_type)
    if change.replacement != "True" or not name_property or name_property in change.changed_properties:
        return None
    if name_property not in new_json.get("Properties", {}):
        return None  # CloudFormation names the replacement itself
    name = _resolve(new_json["Properties"][name_property], resource_map)
    return CUSTOM_NAMED_REPLACEMENT.format(name=name)


@dataclasses.dataclass
class _UpdateWork:
    """What an update did, to roll it back or to clean up after it."""

    template: Any
    template_dict: Any
    parameters: dict[str, Any]
    map_state: dict[str, Any]
    created: list[str] = dataclasses.field(default_factory=list)
    replaced: dict[str, Any] = dataclasses.field(default_factory=dict)  # logical id -> the old resource
    modified: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # logical id -> old json
    removed: dict[str, Any] = dataclasses.field(default_factory=dict)  # logical id -> the resource


_MAP_FIELDS = (
    "_template",
    "_resource_json_map",
    "input_parameters",
    "resolved_parameters",
    "_parsed_resources",
)


def _can_update(resource_type: str) -> bool:
    resource_class = parsing.resource_class_from_type(resource_type)
    return resource_class is not None and not hasattr(
        resource_class.update_from_cloudformation_json, "__isabstractmethod__"
    )


def _apply_changes(
    stack: Any, template: dict[str, Any], parameters: dict[str, Any], work: _UpdateWork
) -> None:
    """Create what is added and the replacements, update the rest in place; delete nothing.
    Raises ResourceFailure (recorded as *_FAILED) at the first resource that fails."""
    resource_map = stack.resource_map
    old_json = dict(resource_map._resource_json_map)
    plan = plan_update(resource_map, template, parameters)
    new_json = template.get("Resources", {})
    for change in plan.values():
        refusal = change.action == "Modify" and _custom_named_replacement(
            resource_map, change, new_json[change.logical_id]
        )
        if refusal:
            _resource_event(
                stack, change.logical_id, change.resource_type, "UPDATE_FAILED", change.physical_id, refusal
            )
            raise ResourceFailure(change.logical_id, change.resource_type, refusal)
    work.removed = {
        lid: resource_map._parsed_resources[lid] for lid, change in plan.items() if change.action == "Remove"
    }
    waiting_on = {  # what a Conditional replacement compares once the values it waits for exist
        lid: _resolve(old_json[lid].get("Properties", {}), resource_map)
        for lid, change in plan.items()
        if change.replacement == "Conditional"
    }
    resource_map._template = template
    resource_map.input_parameters = dict(parameters)
    resource_map.resolved_parameters = {}
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = new_json
    in_place = [lid for lid, change in plan.items() if change.action == "Modify"]
    to_create = [lid for lid, change in plan.items() if change.action == "Add"]
    replacing = [
        lid for lid, change in plan.items() if change.action == "Modify" and change.replacement == "True"
    ]
    while to_create or replacing:
        for lid in replacing:
            work.replaced[lid] = resource_map._parsed_resources.pop(lid)
            in_place.remove(lid)
            _resource_event(
                stack,
                lid,
                new_json[lid]["Type"],
                "UPDATE_IN_PROGRESS",
                _physical_id(work.replaced[lid]),
                "Requested update requires the creation of a new physical resource; hence creating one.",
            )
        for lid in [*to_create, *replacing]:
            if lid not in resource_map._parsed_resources:
                resource_map[lid]  # creates it (and what it needs of the others first)
        work.created += [lid for lid in [*to_create, *replacing] if lid not in work.created]
        to_create = []
        # a Conditional replacement is decided now that the values it waited for exist
        replacing = [
            lid
            for lid in in_place
            if lid in waiting_on and _now_replaced(plan[lid], waiting_on[lid], new_json[lid], resource_map)
        ]
        for lid in replacing:
            plan[lid].replacement = "True"
    for lid in in_place:
        change = plan[lid]
        if not _can_update(change.resource_type):
            reason = (
                f"the embedded engine cannot update {change.resource_type} in place "
                f"(changed: {', '.join(change.changed_properties) or 'resource attributes'}); CloudFormation would"
            )
            _resource_event(stack, lid, change.resource_type, "UPDATE_FAILED", change.physical_id, reason)
            raise ResourceFailure(lid, change.resource_type, reason)
        updated = parsing.parse_and_update_resource(
            lid, new_json[lid], resource_map, resource_map._account_id, resource_map._region_name
        )
        work.modified[lid] = old_json[lid]
        resource_map._parsed_resources[lid] = updated


def _now_replaced(
    change: PlannedChange, before: Any, resource_json: dict[str, Any], resource_map: Any
) -> bool:
    after = _resolve(resource_json.get("Properties", {}), resource_map)
    if not isinstance(before, dict) or not isinstance(after, dict):
        return False
    return any(
        _recreation(change.resource_type, name, before.get(name), after.get(name)) == "Always"
        for name in change.changed_properties
    )


def _undo(stack: Any, work: _UpdateWork) -> str | None:
    """Put the stack back as it was: delete what the update created, restore the old resources and
    update the modified ones back. Returns the reason when that itself failed."""
    resource_map = stack.resource_map
    problem = None
    for lid in reversed(work.created):
        resource = resource_map._parsed_resources.get(lid)
        if not _is_live(resource):
            continue
        resource_json = resource_map._resource_json_map.get(lid, {})
        try:
            resource_map._delete_resource(resource, resource_json)
            _resource_event(
                stack, lid, resource_json.get("Type", ""), "DELETE_COMPLETE", _physical_id(resource)
            )
        except Exception as exc:
            problem = _reason(exc)
            _resource_event(stack, lid, resource_json.get("Type", ""), "DELETE_FAILED", reason=problem)
    for name, value in work.map_state.items():
        setattr(resource_map, name, value)
    resource_map.load_conditions()
    resource_map._parsed_resources.update(work.replaced)
    for lid, old_json in work.modified.items():
        try:
            resource_map._parsed_resources[lid] = parsing.parse_and_update_resource(
                lid, old_json, resource_map, resource_map._account_id, resource_map._region_name
            )
        except Exception as exc:
            problem = _reason(exc)
    stack.template, stack.template_dict, stack.parameters = work.template, work.template_dict, work.parameters
    stack.output_map = stack._create_output_map()
    return problem


def _retained(resource_json: dict[str, Any], policy: str) -> bool:
    return resource_json.get(policy) in ("Retain", "RetainExceptOnCreate")


def _cleanup(stack: Any, work: _UpdateWork, old_json: dict[str, Any]) -> None:
    """After a successful update: delete the replaced resources and the removed ones, unless their
    UpdateReplacePolicy / DeletionPolicy keeps them. A failure here does not fail the update."""
    stack._add_stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    resource_map = stack.resource_map
    doomed = [(lid, res, "UpdateReplacePolicy") for lid, res in work.replaced.items()]
    doomed += [(lid, res, "DeletionPolicy") for lid, res in work.removed.items()]
    for lid in work.removed:
        resource_map._parsed_resources.pop(lid, None)
    remaining = list(doomed)
    failed: list[tuple[str, Any, str, str]] = []
    for _attempt in range(5):  # a removed resource may depend on another removed one
        failed = []
        for lid, resource, policy in remaining:
            resource_json = old_json[lid]
            resource_type = resource_json.get("Type", "")
            if _retained(resource_json, policy):
                _resource_event(stack, lid, resource_type, "DELETE_SKIPPED", _physical_id(resource))
                continue
            try:
                resource_map._delete_resource(resource, resource_json)
                _resource_event(stack, lid, resource_type, "DELETE_COMPLETE", _physical_id(resource))
            except Exception as exc:
                failed.append((lid, resource, policy, _reason(exc)))
        remaining = [(lid, resource, policy) for lid, resource, policy, _ in failed]
        if not remaining:
            return
    for lid, resource, _policy, reason in failed:
        _resource_event(
            stack, lid, old_json[lid].get("Type", ""), "DELETE_FAILED", _physical_id(resource), reason
        )


def _exports_refused(backend: Any, stack: Any, before: dict[str, Any]) -> str | None:
    """CloudFormation's refusal when an export another stack imports would change or disappear."""
    after = {export.name: export.value for export in stack.exports}
    for other in backend.stacks.values():
        if other is stack or other.status.startswith("DELETE_COMPLETE"):
            continue
        for name in sorted(set(before) & _imported_names(other)):
            if name not in after:
                return f"Export {name} cannot be deleted as it is in use by {other.name}"
            if after[name] != before[name]:
                return f"Export {name} cannot be updated as it is in use by {other.name}"
    return None


def _update_stack(backend: Any, stack: Any, change_set: Any) -> bool:
    """ExecuteChangeSet for an UPDATE change set, as CloudFormation runs it; False when rolled back."""
    resource_map = stack.resource_map
    work = _UpdateWork(
        stack.template,
        stack.template_dict,
        dict(stack.parameters or {}),
        {name: copy.copy(getattr(resource_map, name)) for name in _MAP_FIELDS},
    )
    old_json = dict(resource_map._resource_json_map)
    before = {export.name: export.value for export in stack.exports}
    stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
    stack.status = "UPDATE_IN_PROGRESS"
    template = stack.parse_template(change_set.template)
    try:
        _apply_changes(stack, template, change_set.parameters, work)
        stack.template, stack.template_dict = change_set.template, template
        stack.parameters = change_set.parameters
        stack.output_map = stack._create_output_map()
        refused = _exports_refused(backend, stack, before)
        if refused:
            raise ResourceFailure(stack.name, "AWS::CloudFormation::Stack", refused)
    except ResourceFailure as failure:
        stack._add_stack_event(
            "UPDATE_ROLLBACK_IN_PROGRESS",
            resource_status_reason=failure.reason
            if failure.logical_id == stack.name
            else f"The following resource(s) failed to update: [{failure.logical_id}].",
        )
        stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
        problem = _undo(stack, work)
        stack.status = "UPDATE_ROLLBACK_FAILED" if problem else "UPDATE_ROLLBACK_COMPLETE"
        stack._add_stack_event(stack.status, resource_status_reason=problem)
        return False
    _cleanup(stack, work, old_json)
    _register_exports(backend, stack, list(before))
    stack.status = "UPDATE_COMPLETE"
    stack._add_stack_event("UPDATE_COMPLETE")
    return True


def _change_set_diff(original: Any) -> Any:
    """DescribeChangeSet's Changes for an UPDATE change set: Replacement and the changed
    properties per resource (Details), from the same plan the execution follows."""

    @functools.wraps(original)
    def diff(self: Any) -> list[Any]:
        if self.change_set_type != "UPDATE":
            return original(self)
        plan = plan_update(self.stack.resource_map, self.template_dict, self.parameters)
        changes = []
        for change in plan.values():
            row = cfn_models.Change(change.action, change.logical_id, change.resource_type)
            row.physical_resource_id = change.physical_id or None  # type: ignore[attr-defined]
            if change.action == "Modify":
                row.replacement = change.replacement  # type: ignore[attr-defined]
                row.scope = ["Properties"] if change.details else []  # type: ignore[attr-defined]
                row.details = change.details  # type: ignore[attr-defined]
            changes.append(row)
        return changes

    return diff


class _TemplateLoader(getattr(yaml, "CLoader", yaml.Loader)):  # type: ignore[misc]
    """moto's template loader (yaml.Loader with moto's short-form tag constructor) on libyaml's
    parser when PyYAML has it: the same data, several times faster on our templates. moto parses
    each template on every change set and stack it makes."""


_TemplateLoader.add_multi_constructor("", yaml_tag_constructor)


def _parse_template(template: str) -> Any:
    try:
        return yaml.load(template, Loader=_TemplateLoader)  # noqa: S506 - moto's own loader, as moto does
    except (yaml.parser.ParserError, yaml.scanner.ScannerError):
        return json.loads(template)


def _change_set_parse_template(self: Any) -> None:
    self.template_dict = _parse_template(self.template)


def apply() -> None:
    """Install the lifecycle semantics once (idempotent)."""
    if getattr(parsing, _PATCHED_FLAG, False):
        return
    parsing.parse_and_create_resource = _wrap_resource_operation(parsing.parse_and_create_resource, "CREATE")
    parsing.parse_and_update_resource = _wrap_resource_operation(parsing.parse_and_update_resource, "UPDATE")
    cfn_models.Stack.parse_template = staticmethod(_parse_template)
    cfn_models.ChangeSet._parse_template = _change_set_parse_template
    cfn_models.ChangeSet.diff = _change_set_diff(cfn_models.ChangeSet.diff)
    backend_cls = cfn_models.CloudFormationBackend
    backend_cls.execute_change_set = _execute_change_set
    backend_cls.create_stack = _patched_create_stack(backend_cls.create_stack)
    backend_cls.delete_stack = _patched_backend_delete_stack(backend_cls.delete_stack)
    cfn_models.Stack.delete = _patched_stack_delete(cfn_models.Stack.delete)
    parsing.ResourceMap._delete_resource = _guard_undeletable(parsing.ResourceMap._delete_resource)
    # Resources whose Condition is false are not created; moto still lists them as empty rows.
    cfn_models.Stack.stack_resources = property(
        lambda self: [
            r for r in self.resource_map.values() if r is not None and not isinstance(r, str | dict)
        ]
    )  # type: ignore[assignment]
    setattr(parsing, _PATCHED_FLAG, True)
