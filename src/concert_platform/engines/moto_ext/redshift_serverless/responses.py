"""The redshift-serverless wire protocol (JSON 1.1, X-Amz-Target: RedshiftServerless.<Action>)."""

from __future__ import annotations

import json
from typing import Any

from moto.core.responses import BaseResponse

from concert_platform.engines.moto_ext.redshift_serverless.models import (
    RedshiftServerlessBackend,
    redshiftserverless_backends,
)


class RedshiftServerlessResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="redshift-serverless")

    @property
    def backend(self) -> RedshiftServerlessBackend:
        return redshiftserverless_backends[self.current_account][self.region]

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.body or "{}")

    def create_namespace(self) -> str:
        params = self.params
        return json.dumps(
            {"namespace": self.backend.create_namespace(params["namespaceName"], params).to_dict()}
        )

    def get_namespace(self) -> str:
        return json.dumps({"namespace": self.backend.get_namespace(self.params["namespaceName"]).to_dict()})

    def update_namespace(self) -> str:
        params = self.params
        return json.dumps(
            {"namespace": self.backend.update_namespace(params["namespaceName"], params).to_dict()}
        )

    def delete_namespace(self) -> str:
        return json.dumps(
            {"namespace": self.backend.delete_namespace(self.params["namespaceName"]).to_dict()}
        )

    def list_namespaces(self) -> str:
        return json.dumps({"namespaces": [n.to_dict() for n in self.backend.namespaces.values()]})

    def create_workgroup(self) -> str:
        params = self.params
        return json.dumps(
            {"workgroup": self.backend.create_workgroup(params["workgroupName"], params).to_dict()}
        )

    def get_workgroup(self) -> str:
        return json.dumps({"workgroup": self.backend.get_workgroup(self.params["workgroupName"]).to_dict()})

    def update_workgroup(self) -> str:
        params = self.params
        return json.dumps(
            {"workgroup": self.backend.update_workgroup(params["workgroupName"], params).to_dict()}
        )

    def delete_workgroup(self) -> str:
        return json.dumps(
            {"workgroup": self.backend.delete_workgroup(self.params["workgroupName"]).to_dict()}
        )

    def list_workgroups(self) -> str:
        return json.dumps({"workgroups": [w.to_dict() for w in self.backend.workgroups.values()]})
