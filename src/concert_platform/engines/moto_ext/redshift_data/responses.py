"""The redshift-data wire protocol (JSON 1.1, X-Amz-Target: RedshiftData.<Action>)."""

from __future__ import annotations

import json
from typing import Any

from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores

from concert_platform.engines.moto_ext.redshift_data.models import (
    RedshiftDataBackend,
    ValidationException,
    redshiftdata_backends,
)

OPERATIONS = frozenset(
    {
        "execute_statement",
        "batch_execute_statement",
        "describe_statement",
        "get_statement_result",
        "cancel_statement",
        "list_tables",
        "describe_table",
        "list_statements",
    }
)


class RedshiftDataResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="redshift-data")

    def call_action(self) -> Any:
        action = camelcase_to_underscores(self._get_action() or "")
        if action not in OPERATIONS:
            # AWS answers an unknown target with a 400; moto would raise (HTTP 500) or, for a
            # target naming any other method of this class, call it.
            body = {
                "__type": "UnknownOperationException",
                "message": f"Unknown operation {self._get_action()}",
            }
            return 400, {}, json.dumps(body)
        return super().call_action()

    @property
    def backend(self) -> RedshiftDataBackend:
        return redshiftdata_backends[self.current_account][self.region]

    @property
    def params(self) -> dict[str, Any]:
        try:
            params = json.loads(self.body or "{}")
        except ValueError:
            raise ValidationException("The request body is not JSON.") from None
        if not isinstance(params, dict):
            raise ValidationException("The request body must be a JSON object.")
        return params

    def _started(self, statement: Any) -> str:
        answer = {
            "Id": statement.id,
            "CreatedAt": statement.created,
            "Database": statement.target["database"],
        }
        for key, name in (
            ("workgroup", "WorkgroupName"),
            ("cluster", "ClusterIdentifier"),
            ("secret_arn", "SecretArn"),
        ):
            if statement.target.get(key):
                answer[name] = statement.target[key]
        return json.dumps(answer)

    def execute_statement(self) -> str:
        return self._started(self.backend.execute_statement(self.params))

    def batch_execute_statement(self) -> str:
        return self._started(self.backend.batch_execute_statement(self.params))

    def describe_statement(self) -> str:
        return json.dumps(self.backend.get(self.params.get("Id")).describe())

    def get_statement_result(self) -> str:
        params = self.params
        return json.dumps(self.backend.get_statement_result(params.get("Id"), params.get("NextToken")))

    def cancel_statement(self) -> str:
        return json.dumps({"Status": self.backend.cancel_statement(self.params.get("Id"))})

    def list_tables(self) -> str:
        return json.dumps(self.backend.list_tables(self.params))

    def describe_table(self) -> str:
        return json.dumps(self.backend.describe_table(self.params))

    def list_statements(self) -> str:
        return json.dumps(self.backend.list_statements(self.params))
