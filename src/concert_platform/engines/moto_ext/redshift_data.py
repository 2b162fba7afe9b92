"""Redshift Data API: statements finish.

moto accepts ExecuteStatement but leaves every statement STARTED forever, so any caller that
waits for it (schema initialisation, sample-data loading) would hang. Here an accepted statement
is reported FINISHED at once. Nothing is executed: moto's GetStatementResult stays a canned
result, which the handlers recognise by its columns and answer from the processed bucket."""

from __future__ import annotations

from typing import Any

from moto.redshiftdata import models as data_models


def patch_statements() -> None:
    backend_cls = data_models.RedshiftDataAPIServiceBackend
    original = backend_cls.execute_statement

    def execute_statement(self: Any, *args: Any, **kwargs: Any) -> Any:
        statement = original(self, *args, **kwargs)
        statement.status = "FINISHED"
        return statement

    backend_cls.execute_statement = execute_statement
