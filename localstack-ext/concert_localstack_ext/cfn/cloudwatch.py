"""CloudWatch: AWS::CloudWatch::Dashboard on LocalStack's own CloudWatch API (PutDashboard /
GetDashboard / DeleteDashboards)."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError
from localstack.services.cloudformation.provider_utils import generate_default_name

from ._base import ExtensionProvider, ResourceRequest, done, is_not_found, schema


def _body(model: dict) -> str:
    body = model["DashboardBody"]
    return body if isinstance(body, str) else json.dumps(body)


class DashboardProvider(ExtensionProvider):
    """PutDashboard creates and updates in place (the body); the name is create-only and is the
    physical id (Ref), generated when the template gives none."""

    TYPE = "AWS::CloudWatch::Dashboard"
    SCHEMA = schema(TYPE, ["DashboardName"], create_only=["DashboardName"])

    def _put(self, request: ResourceRequest, model: dict) -> None:
        response = request.aws_client_factory.cloudwatch.put_dashboard(
            DashboardName=model["DashboardName"], DashboardBody=_body(model)
        )
        problems = response.get("DashboardValidationMessages") or []
        if problems:
            raise ValueError(f"PutDashboard rejected the body: {problems[0].get('Message')}")

    def create(self, request: ResourceRequest):
        model = request.desired_state
        if not model.get("DashboardName"):
            model["DashboardName"] = generate_default_name(request.stack_name, request.logical_resource_id)
        self._put(request, model)
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        try:
            found = request.aws_client_factory.cloudwatch.get_dashboard(DashboardName=model["DashboardName"])
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        return {**model, "DashboardBody": found["DashboardBody"]}

    def update(self, request: ResourceRequest):
        previous = request.previous_state or {}
        model = {**request.desired_state, "DashboardName": previous["DashboardName"]}
        self._put(request, model)
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        try:
            request.aws_client_factory.cloudwatch.delete_dashboards(DashboardNames=[model["DashboardName"]])
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)
