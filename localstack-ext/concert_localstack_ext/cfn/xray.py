"""X-Ray: AWS::XRay::Group and AWS::XRay::SamplingRule through the X-Ray API (community
LocalStack has no X-Ray service; the extension's service provider answers it)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ._base import ExtensionProvider, ResourceRequest, done, is_not_found, schema, tags_list


class GroupProvider(ExtensionProvider):
    """CreateGroup / GetGroup / UpdateGroup (filter expression, insights) / DeleteGroup.
    Ref and GetAtt GroupARN are the group's ARN."""

    TYPE = "AWS::XRay::Group"
    SCHEMA = schema(TYPE, ["GroupARN"], read_only=["GroupARN"])

    @staticmethod
    def _params(model: dict) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if model.get("FilterExpression"):
            params["FilterExpression"] = model["FilterExpression"]
        if model.get("InsightsConfiguration"):
            params["InsightsConfiguration"] = model["InsightsConfiguration"]
        return params

    def create(self, request: ResourceRequest):
        model = request.desired_state
        params = self._params(model)
        if model.get("Tags"):
            params["Tags"] = tags_list(model["Tags"])
        group = request.aws_client_factory.xray.create_group(GroupName=model["GroupName"], **params)
        model["GroupARN"] = group["Group"]["GroupARN"]
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        try:
            group = request.aws_client_factory.xray.get_group(GroupARN=model["GroupARN"])["Group"]
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        return {
            **model,
            "GroupName": group["GroupName"],
            "FilterExpression": group.get("FilterExpression"),
            "InsightsConfiguration": group.get("InsightsConfiguration"),
        }

    def update(self, request: ResourceRequest):
        previous = request.previous_state or {}
        model = {**request.desired_state, "GroupARN": previous["GroupARN"]}
        request.aws_client_factory.xray.update_group(GroupARN=model["GroupARN"], **self._params(model))
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        # after a failed update LocalStack rolls the model back to the template's properties,
        # which have no ARN: the group name identifies it as well
        target = (
            {"GroupARN": model["GroupARN"]} if model.get("GroupARN") else {"GroupName": model["GroupName"]}
        )
        try:
            request.aws_client_factory.xray.delete_group(**target)
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)


_RULE_NUMBERS = {"Priority": int, "ReservoirSize": int, "Version": int, "FixedRate": float}


def _rule(rule: dict) -> dict[str, Any]:
    out = dict(rule)
    for key, kind in _RULE_NUMBERS.items():
        if key in out:
            out[key] = kind(out[key])
    return out


class SamplingRuleProvider(ExtensionProvider):
    """CreateSamplingRule / GetSamplingRules / UpdateSamplingRule / DeleteSamplingRule. Ref and
    GetAtt RuleARN are the rule's ARN; the rule name is create-only."""

    TYPE = "AWS::XRay::SamplingRule"
    SCHEMA = schema(TYPE, ["RuleARN"], read_only=["RuleARN", "RuleName"])

    def create(self, request: ResourceRequest):
        model = request.desired_state
        params: dict[str, Any] = {"SamplingRule": _rule(model["SamplingRule"])}
        if model.get("Tags"):
            params["Tags"] = tags_list(model["Tags"])
        record = request.aws_client_factory.xray.create_sampling_rule(**params)["SamplingRuleRecord"]
        model["RuleARN"] = record["SamplingRule"]["RuleARN"]
        model["RuleName"] = record["SamplingRule"]["RuleName"]
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        records = request.aws_client_factory.xray.get_sampling_rules()["SamplingRuleRecords"]
        match = [r for r in records if r["SamplingRule"].get("RuleARN") == model["RuleARN"]]
        if not match:
            return None
        return {**model, "SamplingRule": match[0]["SamplingRule"]}

    def update(self, request: ResourceRequest):
        previous = request.previous_state or {}
        model = {
            **request.desired_state,
            "RuleARN": previous["RuleARN"],
            "RuleName": previous["RuleName"],
        }
        change = {k: v for k, v in _rule(model["SamplingRule"]).items() if k != "Version"}
        change["RuleARN"] = model["RuleARN"]
        change.pop("RuleName", None)
        request.aws_client_factory.xray.update_sampling_rule(SamplingRuleUpdate=change)
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        target = (
            {"RuleARN": model["RuleARN"]}
            if model.get("RuleARN")
            else {"RuleName": model["SamplingRule"]["RuleName"]}
        )
        try:
            request.aws_client_factory.xray.delete_sampling_rule(**target)
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)
