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
- a delete that fails ends in DELETE_FAILED with the resource and reason.
"""

from __future__ import annotations

import contextlib
import functools
import json
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
        from concert_platform.engines.moto_ext import faults

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
        previous = (stack.template, dict(stack.parameters or {}), stack.status)
        old_exports = [export.name for export in stack.exports]
        try:
            stack.update(change_set.template, parameters=change_set.parameters)
            _register_exports(self, stack, old_exports)
        except ResourceFailure as failure:
            change_set.execution_status = "EXECUTE_FAILED"
            _rollback_update(stack, previous, failure)
            return
    change_set.execution_status = "EXECUTE_COMPLETE"


def _rollback_update(stack: Any, previous: tuple[str, dict[str, Any], str], failure: ResourceFailure) -> None:
    template, parameters, _status = previous
    stack._add_stack_event(
        "UPDATE_ROLLBACK_IN_PROGRESS",
        resource_status_reason=f"The following resource(s) failed to update: [{failure.logical_id}].",
    )
    stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    try:
        stack.resource_map.update(stack.parse_template(template), parameters)
    except Exception as exc:
        stack.status = "UPDATE_ROLLBACK_FAILED"
        stack._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=_reason(exc))
        return
    stack.template = template
    stack._parse_template()
    stack.output_map = stack._create_output_map()
    stack.status = "UPDATE_ROLLBACK_COMPLETE"
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")


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
