"""Redshift Data API state: one DuckDB database per (workgroup or cluster, database name), and
the statements run on it with AWS's lifecycle (SUBMITTED -> STARTED -> FINISHED | FAILED | ABORTED).

Each database has one worker thread that owns its DuckDB connection and runs statements in the
order they were submitted, so ExecuteStatement answers at once and callers poll, as on AWS.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import json
import re
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import JsonRESTError
from sqlglot.errors import SqlglotError

import concert_platform.engines.moto_ext.redshift_data.sql as redshift_sql

MAX_SQL_BYTES = 100 * 1024  # the Data API's limit on one statement's text
MAX_BATCH_STATEMENTS = 40
RESULT_PAGE_ROWS = 1000  # rows per GetStatementResult page (AWS pages by size; the engine by rows)
MAX_LIST_RESULTS = 1000
STATEMENT_ID = re.compile(r"^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d+)?$")
PARAMETER_NAME = re.compile(r"^[0-9a-zA-Z_]+$")
DEFAULT_SCHEMA = "public"
CANCELLED = "ERROR: Query (cancelled) was cancelled by the user"


class ValidationException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


class ResourceNotFoundException(JsonRESTError):
    code = 400

    def __init__(self, message: str = "Query does not exist.") -> None:
        super().__init__("ResourceNotFoundException", message)


# DuckDB result type -> (Redshift type name, Data API field, signed)
_TYPES: dict[str, tuple[str, str, bool]] = {
    "BOOLEAN": ("bool", "booleanValue", False),
    "TINYINT": ("int2", "longValue", True),
    "SMALLINT": ("int2", "longValue", True),
    "INTEGER": ("int4", "longValue", True),
    "BIGINT": ("int8", "longValue", True),
    "HUGEINT": ("int8", "longValue", True),  # SUM(int8) is int8 in Redshift, HUGEINT in DuckDB
    "UTINYINT": ("int2", "longValue", False),
    "USMALLINT": ("int4", "longValue", False),
    "UINTEGER": ("int8", "longValue", False),
    "UBIGINT": ("int8", "longValue", False),
    "FLOAT": ("float4", "doubleValue", True),
    "DOUBLE": ("float8", "doubleValue", True),
    "DATE": ("date", "stringValue", False),
    "TIME": ("time", "stringValue", False),
    "TIMESTAMP": ("timestamp", "stringValue", False),
    "TIMESTAMP WITH TIME ZONE": ("timestamptz", "stringValue", False),
    "VARCHAR": ("varchar", "stringValue", False),
    "BLOB": ("varbyte", "blobValue", False),
}


def _column_type(duck_type: str) -> tuple[str, str, bool, int, int]:
    """(typeName, field, isSigned, precision, scale) of a DuckDB result column."""
    decimal_type = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", duck_type.replace(" ", ""))
    if decimal_type:
        return "numeric", "stringValue", True, int(decimal_type.group(1)), int(decimal_type.group(2))
    name, kind, signed = _TYPES.get(duck_type, ("varchar", "stringValue", False))
    return name, kind, signed, 0, 0


def _field(value: Any, kind: str) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if kind == "longValue":
        return {"longValue": int(value)}
    if kind == "doubleValue":
        return {"doubleValue": float(value)}
    if kind == "booleanValue":
        return {"booleanValue": bool(value)}
    if kind == "blobValue":
        return {"blobValue": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
        return {"stringValue": text[:-3] if value.tzinfo and text.endswith(":00") else text}
    if isinstance(value, decimal.Decimal | dt.date | dt.time):
        return {"stringValue": str(value)}
    if isinstance(value, list | dict):
        return {"stringValue": json.dumps(value, default=str)}
    return {"stringValue": str(value)}


@dataclass
class Result:
    columns: list[dict[str, Any]]
    kinds: list[str]
    rows: list[tuple[Any, ...]]


@dataclass
class Statement:
    id: str
    query: str
    target: dict[str, str]
    parameters: list[dict[str, str]] | None = None
    status: str = "SUBMITTED"
    error: str = ""
    result: Result | None = None
    result_rows: int = -1
    result_size: int = -1
    has_result_set: bool = False
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    started_ns: int = 0
    duration_ns: int = -1
    subs: list[Statement] = field(default_factory=list)
    query_id: int = 0
    future: Future[None] | None = None
    cancel_requested: bool = False
    name: str = ""

    def set_status(self, status: str, error: str = "") -> None:
        self.status, self.updated = status, time.time()
        if error:
            self.error = error
        if status == "STARTED":
            self.started_ns = time.monotonic_ns()
        elif status in ("FINISHED", "FAILED", "ABORTED") and self.started_ns:
            self.duration_ns = time.monotonic_ns() - self.started_ns

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "Id": self.id,
            "CreatedAt": self.created,
            "UpdatedAt": self.updated,
            "Database": self.target["database"],
            "Duration": self.duration_ns,
            "HasResultSet": self.has_result_set,
            "QueryString": self.query,
            "RedshiftPid": 1073741824 + self.query_id % 1000,
            "RedshiftQueryId": self.query_id,
            "ResultRows": self.result_rows,
            "ResultSize": self.result_size,
            "Status": self.status,
            "ResultFormat": "JSON",
        }
        for key, name in (("workgroup", "WorkgroupName"), ("cluster", "ClusterIdentifier")):
            if self.target.get(key):
                described[name] = self.target[key]
        if self.target.get("secret_arn"):
            described["SecretArn"] = self.target["secret_arn"]
        if self.error:
            described["Error"] = self.error
        if self.parameters:
            described["QueryParameters"] = self.parameters
        if self.subs:
            described["SubStatements"] = [
                {
                    key: value
                    for key, value in sub.describe().items()
                    if key
                    in (
                        "Id",
                        "CreatedAt",
                        "UpdatedAt",
                        "Duration",
                        "Error",
                        "HasResultSet",
                        "QueryString",
                        "RedshiftQueryId",
                        "ResultRows",
                        "ResultSize",
                        "Status",
                    )
                }
                for sub in self.subs
            ]
        return described


class Database:
    """One emulated Redshift database: a DuckDB connection owned by one worker thread."""

    def __init__(self, owner_id: str, name: str) -> None:
        self.owner_id = owner_id
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"redshift-{name}")
        self._connection = self._executor.submit(self._open).result()

    @staticmethod
    def _open() -> duckdb.DuckDBPyConnection:
        connection = duckdb.connect(":memory:")
        connection.execute(f"CREATE SCHEMA {DEFAULT_SCHEMA}; SET search_path = '{DEFAULT_SCHEMA}'")
        return connection

    def submit(self, statement: Statement, sqls: list[str]) -> None:
        statement.future = self._executor.submit(self._run, statement, sqls)

    def call(self, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a catalogue query on the worker and wait for its rows."""
        return self._executor.submit(
            lambda: self._connection.execute(sql, parameters or []).fetchall()
        ).result()

    def interrupt(self) -> None:
        self._connection.interrupt()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(duckdb.Error):
            self._connection.interrupt()
            self._connection.close()

    def _run(self, statement: Statement, sqls: list[str]) -> None:
        """Run one call's statements in one transaction (a batch's sub-statements in order);
        whatever happens, no statement is left SUBMITTED or STARTED."""
        try:
            self._run_steps(statement, sqls)
        except Exception as error:  # any engine fault ends the statement FAILED, never STARTED forever
            cancelled = statement.cancel_requested or isinstance(error, duckdb.InterruptException)
            for step in (statement, *statement.subs):
                if step.status in ("SUBMITTED", "STARTED"):
                    step.set_status(
                        "ABORTED" if cancelled else "FAILED",
                        CANCELLED if cancelled else _error_text(error),
                    )
            self._rollback()

    def _rollback(self) -> None:
        with contextlib.suppress(duckdb.Error):  # no transaction was open
            self._connection.execute("ROLLBACK")

    def _run_steps(self, statement: Statement, sqls: list[str]) -> None:
        steps = statement.subs or [statement]
        statement.set_status("STARTED")
        connection = self._connection
        connection.execute("BEGIN TRANSACTION")
        failed: Statement | None = None
        for step, sql in zip(steps, sqls, strict=True):
            if failed is not None:
                step.set_status("ABORTED")
                continue
            step.set_status("STARTED")
            try:
                if statement.cancel_requested:
                    raise duckdb.InterruptException("cancelled")
                self._execute(connection, step, sql, statement.parameters)
                if step is not statement:
                    step.set_status("FINISHED")  # ran; rolled back with the batch if a later one fails
            except duckdb.InterruptException:
                failed = step
                step.set_status("ABORTED", CANCELLED)
            except (duckdb.Error, redshift_sql.StatementError, SqlglotError) as error:
                failed = step
                step.set_status("FAILED", _error_text(error))
        import concert_platform.engines.moto_ext.faults as faults

        if failed is not None and failed.status == "FAILED" and faults.active("sql"):
            failed.set_status("FINISHED")  # test-only: a failing statement reported FINISHED
            failed.error = ""
            failed = None
        if failed is not None:
            self._rollback()
            if statement.subs:
                statement.set_status("ABORTED" if failed.status == "ABORTED" else "FAILED", failed.error)
            return
        connection.execute("COMMIT")
        statement.set_status("FINISHED")

    @staticmethod
    def _execute(
        connection: duckdb.DuckDBPyConnection,
        step: Statement,
        sql: str,
        parameters: list[dict[str, str]] | None,
    ) -> None:
        values = {f"p_{p['name']}": p["value"] for p in parameters or []}
        names = {p["name"] for p in parameters or []}
        rows_affected = 0
        for part in redshift_sql.translate(sql, names):
            for duck_sql in part.duckdb:
                main = duck_sql is part.duckdb[-1]  # what precedes it (sequences) takes no parameters
                used = {f"p_{name}": values[f"p_{name}"] for name in part.parameters} if main else {}
                cursor = connection.execute(duck_sql, used or None)
                if part.returns_rows and main:
                    description = cursor.description or []
                    rows = cursor.fetchall()
                    step.result = _result(description, rows)
                    step.has_result_set = True
                    step.result_rows = len(rows)
                    step.result_size = sum(len(str(row)) for row in rows)
                elif part.counts_rows:
                    counted = cursor.fetchall()
                    rows_affected += int(counted[0][0]) if counted and counted[0] else 0
                    step.result_rows = rows_affected
                elif not step.has_result_set:
                    step.result_rows = 0


def _result(description: list[Any], rows: list[tuple[Any, ...]]) -> Result:
    columns, kinds = [], []
    for column in description:
        name = str(column[0])
        type_name, kind, signed, precision, scale = _column_type(str(column[1]))
        kinds.append(kind)
        columns.append(
            {
                "name": name,
                "label": name,
                "typeName": type_name,
                "precision": precision,
                "scale": scale,
                "nullable": 1,
                "isSigned": signed,
                "isCaseSensitive": kind == "stringValue" and type_name == "varchar",
                "isCurrency": False,
                "length": 0,
                "schemaName": "",
                "tableName": "",
            }
        )
    return Result(columns, kinds, rows)


def _interrupt_until_ended(database: Database, statement: Statement, limit: float = 10.0) -> None:
    """An interrupt that lands between two DuckDB calls is lost: repeat it until the statement ends."""
    deadline = time.monotonic() + limit
    while statement.status in ("SUBMITTED", "STARTED") and time.monotonic() < deadline:
        database.interrupt()
        time.sleep(0.01)


def _error_text(error: Exception) -> str:
    """The engine's error on one line: the message without DuckDB's caret diagram."""
    text = str(error).split("\n\nLINE ")[0]
    text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return text if text.startswith("ERROR:") else f"ERROR: {text}"


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    if not isinstance(token, str):
        raise ValidationException("NextToken is not a token this API returned")
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError):
        raise ValidationException("NextToken is not a token this API returned") from None
    if not isinstance(offset, int) or offset < 0:
        raise ValidationException("NextToken is not a token this API returned")
    return offset


class RedshiftDataBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.statements: dict[str, Statement] = {}
        self.databases: dict[tuple[str, str], Database] = {}
        self._lock = threading.Lock()
        self._query_ids = 100000

    def reset(self) -> None:
        self.close()
        super().reset()

    def close(self) -> None:
        for database in self.databases.values():
            database.close()
        self.databases.clear()

    # ---- targets ------------------------------------------------------------------------------
    def _owner(self, workgroup: str | None, cluster: str | None) -> tuple[str, str, str]:
        """(owner id, owner name, its database name) of the workgroup or cluster named."""
        if bool(workgroup) == bool(cluster):
            raise ValidationException("Either ClusterIdentifier or WorkgroupName needs to be specified.")
        if workgroup:
            from concert_platform.engines.moto_ext.redshift_serverless.models import (
                redshiftserverless_backends,
            )

            serverless = redshiftserverless_backends[self.account_id][self.region_name]
            found = next((w for w in serverless.workgroups.values() if workgroup in (w.name, w.arn)), None)
            if found is None:
                raise ValidationException(f"Workgroup {workgroup} not found.")
            namespace = serverless.namespaces.get(found.namespace_name)
            return found.workgroup_id, found.name, namespace.db_name if namespace else "dev"
        from moto.redshift.models import redshift_backends

        clusters = redshift_backends[self.account_id][self.region_name].clusters
        if cluster not in clusters:
            raise ValidationException(f"Cluster {cluster} not found.")
        return f"cluster:{cluster}", str(cluster), clusters[cluster].db_name

    def database(self, workgroup: str | None, cluster: str | None, name: str | None) -> Database:
        owner_id, owner_name, existing = self._owner(workgroup, cluster)
        if not name:
            raise ValidationException("Database is required.")
        if name != existing:
            raise ValidationException(f'Database "{name}" does not exist in {owner_name}.')
        with self._lock:
            if (owner_id, name) not in self.databases:
                self._forget_deleted_owners()
                self.databases[(owner_id, name)] = Database(owner_id, name)
            return self.databases[(owner_id, name)]

    def _forget_deleted_owners(self) -> None:
        """A deleted (or re-created) workgroup's data goes with it."""
        from concert_platform.engines.moto_ext.redshift_serverless.models import (
            redshiftserverless_backends,
        )

        live = {
            w.workgroup_id
            for w in redshiftserverless_backends[self.account_id][self.region_name].workgroups.values()
        }
        for key in [k for k in self.databases if not k[0].startswith("cluster:") and k[0] not in live]:
            self.databases.pop(key).close()

    # ---- statements ---------------------------------------------------------------------------
    def _new_statement(
        self, query: str, target: dict[str, str], parameters: list[dict[str, str]] | None
    ) -> Statement:
        with self._lock:
            self._query_ids += 1
            statement = Statement(str(uuid.uuid4()), query, target, parameters, query_id=self._query_ids)
            self.statements[statement.id] = statement
        return statement

    def execute_statement(self, params: dict[str, Any]) -> Statement:
        sql = _sql_text(params.get("Sql"), "Sql")
        parameters = _parameters(params.get("Parameters"))
        database, target = self._target(params)
        statement = self._new_statement(sql, target, parameters)
        statement.name = _statement_name(params)
        import concert_platform.engines.moto_ext.faults as faults

        injected = faults.pending_statement_failure()
        if injected is not None:  # the harness's failure flow: this statement ends FAILED unrun
            statement.set_status("STARTED")
            statement.set_status("FAILED", "ERROR: injected by the smoke run's failure flow")
            return statement
        database.submit(statement, [sql])
        return statement

    def batch_execute_statement(self, params: dict[str, Any]) -> Statement:
        sqls = params.get("Sqls")
        if not isinstance(sqls, list) or not sqls:
            raise ValidationException("Sqls must be a list of 1 to 40 SQL statements.")
        if len(sqls) > MAX_BATCH_STATEMENTS:
            raise ValidationException(
                f"Sqls holds {len(sqls)} statements; BatchExecuteStatement takes at most {MAX_BATCH_STATEMENTS}."
            )
        texts = [_sql_text(sql, f"Sqls[{index}]") for index, sql in enumerate(sqls)]
        database, target = self._target(params)
        statement = self._new_statement("; ".join(texts), target, None)
        statement.name = _statement_name(params)
        for index, text in enumerate(texts, start=1):
            with self._lock:
                self._query_ids += 1
                statement.subs.append(
                    Statement(f"{statement.id}:{index}", text, target, query_id=self._query_ids)
                )
        database.submit(statement, texts)
        return statement

    def _target(self, params: dict[str, Any]) -> tuple[Database, dict[str, str]]:
        for name in ("WorkgroupName", "ClusterIdentifier", "Database", "SecretArn", "DbUser"):
            if params.get(name) is not None and not isinstance(params[name], str):
                raise ValidationException(f"{name} must be a string.")
        for unsupported in ("SessionId", "SessionKeepAliveSeconds"):
            if params.get(unsupported) is not None:
                raise ValidationException(
                    f"{unsupported}: sessions are not supported by the embedded engine."
                )
        if params.get("ResultFormat", "JSON") != "JSON":
            raise ValidationException("ResultFormat: only JSON results are supported by the embedded engine.")
        workgroup, cluster = params.get("WorkgroupName"), params.get("ClusterIdentifier")
        database = self.database(workgroup, cluster, params.get("Database"))
        target = {
            "database": database.name,
            "workgroup": workgroup or "",
            "cluster": cluster or "",
            "secret_arn": params.get("SecretArn") or "",
        }
        return database, target

    def get(self, statement_id: Any) -> Statement:
        if not isinstance(statement_id, str) or not STATEMENT_ID.match(statement_id):
            raise ValidationException(
                "id must satisfy regex pattern: ^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\\d+)?$"
            )
        parent_id, _, index = statement_id.partition(":")
        parent = self.statements.get(parent_id)
        if parent is None:
            raise ResourceNotFoundException()
        if not index:
            return parent
        if not parent.subs or not 1 <= int(index) <= len(parent.subs):
            raise ResourceNotFoundException()
        return parent.subs[int(index) - 1]

    def cancel_statement(self, statement_id: Any) -> bool:
        statement = self.get(statement_id)
        if statement.status not in ("SUBMITTED", "PICKED", "STARTED"):
            raise ValidationException(
                f"Could not cancel a query that is already in {statement.status} state with ID: {statement.id}"
            )
        if statement.future is not None and statement.future.cancel():
            statement.set_status("ABORTED", CANCELLED)
            for sub in statement.subs:
                sub.set_status("ABORTED")
            return True
        statement.cancel_requested = True
        database = self.databases.get(self._database_key(statement))
        if database is not None:
            threading.Thread(target=_interrupt_until_ended, args=(database, statement), daemon=True).start()
        return True

    def _database_key(self, statement: Statement) -> tuple[str, str]:
        owner_id, _, _ = self._owner(
            statement.target["workgroup"] or None, statement.target["cluster"] or None
        )
        return owner_id, statement.target["database"]

    def get_statement_result(self, statement_id: Any, next_token: str | None) -> dict[str, Any]:
        statement = self.get(statement_id)
        if statement.subs:
            raise ValidationException(
                f"Statement {statement.id} is a batch; get the result of a sub-statement ({statement.id}:1 ...)."
            )
        if statement.status != "FINISHED":
            raise ValidationException(f"Query {statement.id} is {statement.status}; it has no result.")
        if statement.result is None:
            raise ValidationException(
                "Query does not have result. Please check query status with DescribeStatement."
            )
        result = statement.result
        start = _offset(next_token)
        page = result.rows[start : start + RESULT_PAGE_ROWS]
        answer: dict[str, Any] = {
            "ColumnMetadata": result.columns,
            "Records": [
                [_field(value, kind) for value, kind in zip(row, result.kinds, strict=True)] for row in page
            ],
            "TotalNumRows": len(result.rows),
        }
        if start + RESULT_PAGE_ROWS < len(result.rows):
            answer["NextToken"] = _token(start + RESULT_PAGE_ROWS)
        return answer

    def list_statements(self, params: dict[str, Any]) -> dict[str, Any]:
        """Statements newest first, optionally of one status (ALL by default), in pages."""
        status = params.get("Status") or "ALL"
        if status not in ("SUBMITTED", "PICKED", "STARTED", "FINISHED", "ABORTED", "FAILED", "ALL"):
            raise ValidationException(f"Status {status!r} is not a statement status.")
        name = params.get("StatementName")
        if name is not None and not isinstance(name, str):
            raise ValidationException("StatementName must be a string.")
        limit = params.get("MaxResults") or 100
        if not isinstance(limit, int) or not 0 < limit <= 100:
            raise ValidationException("MaxResults must be between 1 and 100.")
        with self._lock:
            statements = sorted(
                self.statements.values(), key=lambda st: (st.created, st.query_id), reverse=True
            )
        chosen = [
            st
            for st in statements
            if (status == "ALL" or st.status == status) and (name is None or st.name == name)
        ]
        start = _offset(params.get("NextToken"))
        page = chosen[start : start + limit]
        answer: dict[str, Any] = {
            "Statements": [
                {
                    "Id": st.id,
                    "CreatedAt": st.created,
                    "UpdatedAt": st.updated,
                    "Status": st.status,
                    "IsBatchStatement": bool(st.subs),
                    "ResultFormat": "JSON",
                    **(
                        {"QueryStrings": [sub.query for sub in st.subs]}
                        if st.subs
                        else {"QueryString": st.query}
                    ),
                    **({"QueryParameters": st.parameters} if st.parameters else {}),
                    **({"StatementName": st.name} if st.name else {}),
                    **({"SecretArn": st.target["secret_arn"]} if st.target.get("secret_arn") else {}),
                }
                for st in page
            ]
        }
        if start + limit < len(chosen):
            answer["NextToken"] = _token(start + limit)
        return answer

    # ---- catalogue ----------------------------------------------------------------------------
    def _catalogue(self, params: dict[str, Any], names: tuple[str, ...]) -> Database:
        for name in (*names, "ConnectedDatabase"):
            if params.get(name) is not None and not isinstance(params[name], str):
                raise ValidationException(f"{name} must be a string.")
        database, _ = self._target(
            {**params, "Database": params.get("ConnectedDatabase") or params.get("Database")}
        )
        return database

    def list_tables(self, params: dict[str, Any]) -> dict[str, Any]:
        database = self._catalogue(params, ("SchemaPattern", "TablePattern"))
        rows = database.call(
            "SELECT table_name, table_schema, CASE table_type WHEN 'VIEW' THEN 'VIEW' ELSE 'TABLE' END "
            "FROM information_schema.tables WHERE table_schema LIKE ? AND table_name LIKE ? "
            "ORDER BY table_schema, table_name",
            [params.get("SchemaPattern") or "%", params.get("TablePattern") or "%"],
        )
        page, token = _page(rows, params)
        return {
            "Tables": [{"name": name, "schema": schema, "type": kind} for name, schema, kind in page],
            **token,
        }

    def describe_table(self, params: dict[str, Any]) -> dict[str, Any]:
        database = self._catalogue(params, ("Schema", "Table"))
        table = params.get("Table")
        rows = database.call(
            "SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default, "
            "numeric_precision, numeric_scale, character_maximum_length FROM information_schema.columns "
            "WHERE table_schema = ? AND (? IS NULL OR table_name = ?) ORDER BY table_name, ordinal_position",
            [params.get("Schema") or DEFAULT_SCHEMA, table, table],
        )
        page, token = _page(rows, params)
        columns = []
        for schema, table_name, column, data_type, nullable, default, precision, scale, length in page:
            type_name, kind, signed, _, _ = _column_type(str(data_type))
            columns.append(
                {
                    "name": column,
                    "label": column,
                    "typeName": type_name,
                    "precision": int(precision or length or 0),
                    "scale": int(scale or 0),
                    "nullable": 1 if nullable == "YES" else 0,
                    "isSigned": signed,
                    "isCaseSensitive": kind == "stringValue",
                    "isCurrency": False,
                    "length": int(length or 0),
                    "columnDefault": default,
                    "schemaName": schema,
                    "tableName": table_name,
                }
            )
        return {"TableName": table or "", "ColumnList": columns, **token}


def _page(
    rows: list[tuple[Any, ...]], params: dict[str, Any]
) -> tuple[list[tuple[Any, ...]], dict[str, str]]:
    limit = params.get("MaxResults") or MAX_LIST_RESULTS
    if not isinstance(limit, int) or not 0 < limit <= MAX_LIST_RESULTS:
        raise ValidationException(f"MaxResults must be between 1 and {MAX_LIST_RESULTS}.")
    start = _offset(params.get("NextToken"))
    token = {"NextToken": _token(start + limit)} if start + limit < len(rows) else {}
    return rows[start : start + limit], token


def _statement_name(params: dict[str, Any]) -> str:
    name = params.get("StatementName") or ""
    if not isinstance(name, str) or len(name) > 500:
        raise ValidationException("StatementName must be a string of at most 500 characters.")
    return name


def _sql_text(sql: Any, what: str) -> str:
    if not isinstance(sql, str) or not sql.strip():
        raise ValidationException(f"{what} must be a non-empty SQL statement.")
    size = len(sql.encode("utf-8"))
    if size > MAX_SQL_BYTES:
        raise ValidationException(
            f"{what} is {size} bytes; the Data API takes statements of at most {MAX_SQL_BYTES} bytes (100 KB)."
        )
    return sql


def _parameters(parameters: Any) -> list[dict[str, str]] | None:
    if parameters is None:
        return None
    if not isinstance(parameters, list) or not parameters:
        raise ValidationException("Parameters must be a non-empty list of {name, value} objects.")
    seen: set[str] = set()
    for index, parameter in enumerate(parameters):
        if not isinstance(parameter, dict) or set(parameter) != {"name", "value"}:
            raise ValidationException(f"Parameters[{index}] must be an object with exactly name and value.")
        name, value = parameter["name"], parameter["value"]
        if not isinstance(name, str) or not PARAMETER_NAME.match(name):
            raise ValidationException(f"Parameters[{index}].name must match ^[0-9a-zA-Z_]+$.")
        if not isinstance(value, str) or not value:
            raise ValidationException(f"Parameters[{index}].value ({name}) must be a non-empty string.")
        if name in seen:
            raise ValidationException(f"Parameter {name} is given more than once.")
        seen.add(name)
    return parameters


redshiftdata_backends = BackendDict(RedshiftDataBackend, "redshift")
