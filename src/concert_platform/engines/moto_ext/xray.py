"""X-Ray: AWS::XRay::Group and AWS::XRay::SamplingRule.

moto's X-Ray backend keeps traces only; this module adds groups and sampling rules to it and
answers CreateGroup, GetGroup, GetGroups, DeleteGroup, CreateSamplingRule, GetSamplingRules and
DeleteSamplingRule on the wire."""

from __future__ import annotations

import json
import time
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.xray import models as xray_models
from moto.xray import urls as xray_urls
from moto.xray.responses import XRayResponse

from concert_platform.engines.moto_ext._base import EmulatedResource


def _backend(account_id: str, region_name: str) -> Any:
    return xray_models.xray_backends[account_id][region_name]


def _store(backend: Any, name: str) -> dict[str, dict[str, Any]]:
    attribute = f"concert_{name}"
    if not hasattr(backend, attribute):
        setattr(backend, attribute, {})
    store: dict[str, dict[str, Any]] = getattr(backend, attribute)
    return store


def create_group(
    backend: Any, name: str, filter_expression: str, insights: dict[str, Any] | None
) -> dict[str, Any]:
    group = {
        "GroupName": name,
        "GroupARN": f"arn:aws:xray:{backend.region_name}:{backend.account_id}:group/{name}/{abs(hash(name)) % 10**8:08d}",
        "FilterExpression": filter_expression,
        "InsightsConfiguration": insights or {"InsightsEnabled": False, "NotificationsEnabled": False},
    }
    _store(backend, "groups")[name] = group
    return group


def create_sampling_rule(backend: Any, rule: dict[str, Any]) -> dict[str, Any]:
    rule = dict(rule)
    rule["RuleARN"] = (
        f"arn:aws:xray:{backend.region_name}:{backend.account_id}:sampling-rule/{rule['RuleName']}"
    )
    record = {"SamplingRule": rule, "CreatedAt": time.time(), "ModifiedAt": time.time()}
    _store(backend, "sampling_rules")[rule["RuleName"]] = record
    return record


class Group(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::XRay::Group"
    ATTRIBUTES = ("GroupARN",)

    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.GroupARN = arn

    @property
    def physical_resource_id(self) -> str:
        return self.GroupARN

    @classmethod
    def create(cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str) -> Group:
        group = create_group(
            _backend(account_id, region_name),
            properties["GroupName"],
            properties.get("FilterExpression", ""),
            properties.get("InsightsConfiguration"),
        )
        return cls(group["GroupName"], group["GroupARN"])

    def remove(self, account_id: str, region_name: str) -> None:
        _store(_backend(account_id, region_name), "groups").pop(self.name, None)


class SamplingRule(EmulatedResource, CloudFormationModel):
    CFN_TYPE = "AWS::XRay::SamplingRule"
    ATTRIBUTES = ("RuleARN",)

    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.RuleARN = arn

    @property
    def physical_resource_id(self) -> str:
        return self.RuleARN

    @classmethod
    def create(
        cls, properties: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> SamplingRule:
        record = create_sampling_rule(_backend(account_id, region_name), properties["SamplingRule"])
        return cls(record["SamplingRule"]["RuleName"], record["SamplingRule"]["RuleARN"])

    def remove(self, account_id: str, region_name: str) -> None:
        _store(_backend(account_id, region_name), "sampling_rules").pop(self.name, None)


# ---- wire ------------------------------------------------------------------------------------
def _find_group(self: Any) -> dict[str, Any] | None:
    params = self.request_params
    groups = _store(self.xray_backend, "groups")
    if params.get("GroupName"):
        return groups.get(params["GroupName"])
    return next((g for g in groups.values() if g["GroupARN"] == params.get("GroupARN")), None)


def _get_group(self: Any) -> Any:
    group = _find_group(self)
    if group is None:
        return self._error("InvalidRequestException", "Group not found")
    return json.dumps({"Group": group})


def _groups(self: Any) -> str:
    return json.dumps({"Groups": list(_store(self.xray_backend, "groups").values())})


def _create_group(self: Any) -> Any:
    params = self.request_params
    if params["GroupName"] in _store(self.xray_backend, "groups"):
        return self._error("InvalidRequestException", "Group already exists")
    return json.dumps(
        {
            "Group": create_group(
                self.xray_backend,
                params["GroupName"],
                params.get("FilterExpression", ""),
                params.get("InsightsConfiguration"),
            )
        }
    )


def _delete_group(self: Any) -> str:
    group = _find_group(self)
    if group:
        _store(self.xray_backend, "groups").pop(group["GroupName"], None)
    return "{}"


def _create_sampling_rule(self: Any) -> str:
    return json.dumps(
        {"SamplingRuleRecord": create_sampling_rule(self.xray_backend, self.request_params["SamplingRule"])}
    )


def _get_sampling_rules(self: Any) -> str:
    return json.dumps({"SamplingRuleRecords": list(_store(self.xray_backend, "sampling_rules").values())})


def _delete_sampling_rule(self: Any) -> str:
    name = (
        self.request_params.get("RuleName") or str(self.request_params.get("RuleARN", "")).rsplit("/", 1)[-1]
    )
    record = _store(self.xray_backend, "sampling_rules").pop(name, None)
    return json.dumps({"SamplingRuleRecord": record} if record else {})


_HANDLERS = {
    "GetGroup": _get_group,
    "Groups": _groups,
    "CreateGroup": _create_group,
    "DeleteGroup": _delete_group,
    "CreateSamplingRule": _create_sampling_rule,
    "GetSamplingRules": _get_sampling_rules,
    "DeleteSamplingRule": _delete_sampling_rule,
}


def patch_wire() -> None:
    from moto.core.utils import camelcase_to_underscores

    for action, handler in _HANDLERS.items():
        setattr(XRayResponse, camelcase_to_underscores(action), handler)
        xray_urls.url_paths[f"{{0}}/{action}$"] = XRayResponse.dispatch
