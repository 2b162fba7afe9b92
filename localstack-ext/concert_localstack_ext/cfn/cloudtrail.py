"""CloudTrail: AWS::CloudTrail::Trail through the CloudTrail API (community LocalStack has no
CloudTrail service; the extension's service provider, beside this package, answers it)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from localstack.services.cloudformation.provider_utils import generate_default_name

from ._base import ExtensionProvider, ResourceRequest, done, is_not_found, schema, tags_list

# template property -> CreateTrail/UpdateTrail parameter
_TRAIL_PARAMS = {
    "S3BucketName": "S3BucketName",
    "S3KeyPrefix": "S3KeyPrefix",
    "SnsTopicName": "SnsTopicName",
    "IncludeGlobalServiceEvents": "IncludeGlobalServiceEvents",
    "IsMultiRegionTrail": "IsMultiRegionTrail",
    "EnableLogFileValidation": "EnableLogFileValidation",
    "CloudWatchLogsLogGroupArn": "CloudWatchLogsLogGroupArn",
    "CloudWatchLogsRoleArn": "CloudWatchLogsRoleArn",
    "KMSKeyId": "KmsKeyId",
    "IsOrganizationTrail": "IsOrganizationTrail",
}


def _as_bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


class TrailProvider(ExtensionProvider):
    """CreateTrail + StartLogging/StopLogging (IsLogging) + PutEventSelectors; UpdateTrail in
    place; DeleteTrail. Ref is the trail name; GetAtt Arn and SnsTopicArn."""

    TYPE = "AWS::CloudTrail::Trail"
    SCHEMA = schema(TYPE, ["TrailName"], create_only=["TrailName"], read_only=["Arn", "SnsTopicArn"])

    @staticmethod
    def _params(model: dict) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for prop, param in _TRAIL_PARAMS.items():
            if model.get(prop) not in (None, ""):
                value = model[prop]
                params[param] = _as_bool(value) if prop.startswith(("Is", "Enable", "Include")) else value
        return params

    def _after_write(self, request: ResourceRequest, model: dict, response: dict) -> None:
        trail = request.aws_client_factory.cloudtrail
        model["Arn"] = response.get("TrailARN", model.get("Arn"))
        if response.get("SnsTopicARN"):
            model["SnsTopicArn"] = response["SnsTopicARN"]
        if model.get("EventSelectors"):
            trail.put_event_selectors(TrailName=model["TrailName"], EventSelectors=model["EventSelectors"])
        if _as_bool(model.get("IsLogging", False)):
            trail.start_logging(Name=model["TrailName"])
        else:
            trail.stop_logging(Name=model["TrailName"])

    def create(self, request: ResourceRequest):
        model = request.desired_state
        if not model.get("TrailName"):
            model["TrailName"] = generate_default_name(request.stack_name, request.logical_resource_id)
        params = self._params(model)
        if model.get("Tags"):
            params["TagsList"] = tags_list(model["Tags"])
        response = request.aws_client_factory.cloudtrail.create_trail(Name=model["TrailName"], **params)
        self._after_write(request, model, response)
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        trail = request.aws_client_factory.cloudtrail
        try:
            found = trail.get_trail(Name=model["TrailName"])["Trail"]
            status = trail.get_trail_status(Name=model["TrailName"])
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        return {
            **model,
            "Arn": found["TrailARN"],
            "S3BucketName": found.get("S3BucketName"),
            "IsMultiRegionTrail": found.get("IsMultiRegionTrail"),
            "IncludeGlobalServiceEvents": found.get("IncludeGlobalServiceEvents"),
            "EnableLogFileValidation": found.get("LogFileValidationEnabled"),
            "KMSKeyId": found.get("KmsKeyId"),
            "IsLogging": status.get("IsLogging"),
        }

    def update(self, request: ResourceRequest):
        previous = request.previous_state or {}
        model = {**request.desired_state, "TrailName": previous["TrailName"]}
        response = request.aws_client_factory.cloudtrail.update_trail(
            Name=model["TrailName"], **self._params(model)
        )
        self._after_write(request, model, response)
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        try:
            request.aws_client_factory.cloudtrail.delete_trail(Name=model["TrailName"])
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)
