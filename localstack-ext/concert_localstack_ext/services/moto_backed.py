"""One LocalStack service whose every operation is answered by a moto backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localstack.aws.api import RequestContext, ServiceRequest, ServiceResponse
from localstack.aws.spec import load_service
from localstack.services.moto import call_moto
from localstack.services.plugins import Service, ServiceLifecycleHook
from localstack.state import StateVisitor


def _answer_with_moto(context: RequestContext, request: ServiceRequest) -> ServiceResponse:
    return call_moto(context)


class MotoBackedProvider(ServiceLifecycleHook):
    """A provider without methods of its own: the dispatch table sends every operation of the
    service's API specification to moto. `backends` are the moto BackendDicts holding the
    service's state (visited for LocalStack's state reset and persistence)."""

    def __init__(self, service: str, backends: Callable[[], list[Any]]) -> None:
        self.service = service
        self._backends = backends

    def accept_state_visitor(self, visitor: StateVisitor) -> None:
        for backend_dict in self._backends():
            visitor.visit(backend_dict)


def moto_backed_service(service: str, backends: Callable[[], list[Any]]) -> Service:
    """The Service LocalStack runs for `service` (its botocore name, e.g. `redshift-data`)."""
    provider = MotoBackedProvider(service, backends)
    operations = load_service(service).operation_names

    def dispatch_table(_: Any) -> dict[str, Callable[..., ServiceResponse]]:
        return {operation: _answer_with_moto for operation in operations}

    return Service.for_provider(provider, dispatch_table_factory=dispatch_table)
