"""Glue: AWS::Glue::Database through the Glue Data Catalog API (community LocalStack has no Glue
service; the extension's service provider answers it)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from localstack.services.cloudformation.provider_utils import generate_default_name

from ._base import ExtensionProvider, ResourceRequest, done, is_not_found, schema


class DatabaseProvider(ExtensionProvider):
    """CreateDatabase / GetDatabase / UpdateDatabase / DeleteDatabase. Ref is the database
    name (DatabaseInput.Name, generated when absent); CatalogId defaults to the account."""

    TYPE = "AWS::Glue::Database"
    SCHEMA = schema(TYPE, ["DatabaseName"], create_only=["CatalogId", "DatabaseName"])

    @staticmethod
    def _catalog(request: ResourceRequest, model: dict) -> dict[str, Any]:
        return {"CatalogId": str(model.get("CatalogId") or request.account_id)}

    def create(self, request: ResourceRequest):
        model = request.desired_state
        database_input = dict(model.get("DatabaseInput") or {})
        name = model.get("DatabaseName") or database_input.get("Name")
        if not name:
            name = generate_default_name(request.stack_name, request.logical_resource_id).lower()
        database_input["Name"] = name
        model["DatabaseName"] = name
        request.aws_client_factory.glue.create_database(
            DatabaseInput=database_input, **self._catalog(request, model)
        )
        return done(model, request)

    def describe(self, request: ResourceRequest):
        model = request.desired_state
        try:
            found = request.aws_client_factory.glue.get_database(
                Name=model["DatabaseName"], **self._catalog(request, model)
            )["Database"]
        except ClientError as e:
            if is_not_found(e):
                return None
            raise
        database_input = {
            k: found[k] for k in ("Name", "Description", "LocationUri", "Parameters") if k in found
        }
        return {**model, "DatabaseInput": database_input}

    def update(self, request: ResourceRequest):
        previous = request.previous_state or {}
        model = {**request.desired_state, "DatabaseName": previous["DatabaseName"]}
        database_input = {**(model.get("DatabaseInput") or {}), "Name": model["DatabaseName"]}
        request.aws_client_factory.glue.update_database(
            Name=model["DatabaseName"], DatabaseInput=database_input, **self._catalog(request, model)
        )
        return done(model, request)

    def delete(self, request: ResourceRequest):
        model = request.desired_state
        try:
            request.aws_client_factory.glue.delete_database(
                Name=model["DatabaseName"], **self._catalog(request, model)
            )
        except ClientError as e:
            if not is_not_found(e):
                raise
        return done(model, request)
