"""The entry point of `localstack.lambda.runtime_executor` (loaded only when selected)."""

from __future__ import annotations

from typing import Any

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class ConcertRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "concert"

    def load(self, *args: Any, **kwargs: Any) -> Any:
        from concert_localstack_ext.lambda_executor.executor import ConcertRuntimeExecutor

        return ConcertRuntimeExecutor
