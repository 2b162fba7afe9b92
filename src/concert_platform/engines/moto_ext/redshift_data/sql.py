"""Redshift SQL in, DuckDB SQL out: parse with sqlglot's Redshift dialect, reject what Redshift
would reject, rewrite what DuckDB lacks, and bind the Data API's `:name` parameters.

Redshift-only table attributes (DISTSTYLE, DISTKEY, SORTKEY, ENCODE, BACKUP) only tune storage,
so they are accepted and dropped; IDENTITY columns become a sequence default. Key constraints
(PRIMARY KEY, UNIQUE, REFERENCES) are informational in Redshift, so they are dropped too: DuckDB
would enforce them and refuse what Redshift accepts. VARCHAR/CHAR lengths, which Redshift does
enforce, become CHECK constraints.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

# What DuckDB runs after translation.
RUNNABLE = (
    exp.Select,
    exp.SetOperation,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
)
# Valid Redshift that changes nothing the emulator keeps (permissions, statistics, comments).
NO_OP = (exp.Grant, exp.Revoke, exp.Analyze, exp.Comment)
NO_OP_COMMANDS = ("VACUUM", "ANALYZE")
# Valid Redshift the emulator does not run (it says so rather than pretending).
UNSUPPORTED_COMMANDS = {
    "UNLOAD",
    "CALL",
    "EXPLAIN",
    "SHOW",
    "COPY",
    "LOCK",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
    "FETCH",
    "CLOSE",
    "DECLARE",
    "CANCEL",
    "RESET",
    "ABORT",
    "END",
    "REFRESH",
}
RUNNABLE_CREATE_KINDS = {"TABLE", "VIEW", "SCHEMA"}
STORAGE_PROPERTIES = (exp.DistStyleProperty, exp.DistKeyProperty, exp.SortKeyProperty, exp.BackupProperty)
INFORMATIONAL_CONSTRAINTS = (exp.PrimaryKeyColumnConstraint, exp.UniqueColumnConstraint, exp.Reference)
CHARACTER_TYPES = {exp.DataType.Type.VARCHAR, exp.DataType.Type.NVARCHAR, exp.DataType.Type.TEXT}
FIXED_CHARACTER_TYPES = {exp.DataType.Type.CHAR, exp.DataType.Type.NCHAR}
VARCHAR_MAX = 65535  # Redshift's VARCHAR(MAX)
VARCHAR_DEFAULT = 256  # Redshift's VARCHAR without a length


class StatementError(Exception):
    """SQL the engine refuses; the message is what describe_statement reports as Error."""


@dataclass
class Translated:
    """One Redshift statement, ready for DuckDB."""

    source: str
    duckdb: list[str] = field(default_factory=list)  # empty for a no-op
    returns_rows: bool = False
    counts_rows: bool = False  # INSERT/UPDATE/DELETE/MERGE: ResultRows is the affected count
    parameters: list[str] = field(default_factory=list)


def _syntax_error(error: ParseError) -> StatementError:
    first = error.errors[0] if error.errors else {}
    near = first.get("highlight") or ""
    where = f" (line {first.get('line')}, column {first.get('col')})" if first.get("line") else ""
    return StatementError(
        f'ERROR: syntax error at or near "{near}"{where}: {first.get("description", error)}'
    )


def parse(sql: str) -> list[exp.Expr]:
    """Redshift statements in `sql`; StatementError for anything Redshift would not run."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="redshift") if s is not None]
    except ParseError as error:
        raise _syntax_error(error) from None
    except SqlglotError as error:
        raise StatementError(f"ERROR: {error}") from None
    if not statements:
        raise StatementError("ERROR: the SQL text holds no statement")
    return statements


def _check_redshift_only(statement: exp.Expr) -> None:
    """sqlglot's Redshift parser shares forms with other dialects that Redshift itself rejects."""
    for star in statement.find_all(exp.Star):
        for clause in ("except_", "except", "replace", "rename"):
            if star.args.get(clause):
                keyword = "EXCLUDE" if clause.startswith("except") else clause.upper()
                raise StatementError(f'ERROR: syntax error at or near "{keyword}"')
    if statement.find(exp.Struct) is not None:
        raise StatementError('ERROR: syntax error at or near "{"')


def _check_supported(statement: exp.Expr) -> None:
    if isinstance(statement, exp.Command):
        keyword = str(statement.this).upper()
        if keyword in NO_OP_COMMANDS:
            return
        if keyword in UNSUPPORTED_COMMANDS:
            raise StatementError(f"ERROR: {keyword} is not supported by the embedded engine's Data API")
        # sqlglot keeps what it cannot parse as a generic command: for Redshift that is bad syntax.
        rest = str(statement.expression or "")
        near = rest.split()[0] if rest.split() else keyword
        raise StatementError(f'ERROR: syntax error at or near "{near}"')
    if isinstance(statement, exp.Create) and str(statement.args.get("kind", "")).upper() not in (
        RUNNABLE_CREATE_KINDS
    ):
        raise StatementError(
            f"ERROR: CREATE {statement.args.get('kind')} is not supported by the embedded engine's Data API"
        )
    if isinstance(statement, exp.Transaction | exp.Commit | exp.Rollback):
        raise StatementError(
            "ERROR: transaction control is not supported by the embedded engine's Data API "
            "(each ExecuteStatement is one transaction; BatchExecuteStatement runs its statements in one)"
        )
    if isinstance(statement, exp.Copy | exp.Set):
        raise StatementError(
            f"ERROR: {statement.key.upper()} is not supported by the embedded engine's Data API"
        )
    if not isinstance(statement, RUNNABLE + NO_OP):
        near = statement.sql(dialect="redshift").split(" ")[0]
        raise StatementError(f'ERROR: syntax error at or near "{near}"')
    _check_redshift_only(statement)


def _character_check(column: exp.ColumnDef) -> exp.ColumnConstraint | None:
    kind = column.args.get("kind")
    if not isinstance(kind, exp.DataType):
        return None
    if kind.this in CHARACTER_TYPES:
        default = VARCHAR_DEFAULT
    elif kind.this in FIXED_CHARACTER_TYPES:
        default = 1
    else:
        return None
    params = kind.expressions
    if params and params[0].name.upper() == "MAX":
        limit = VARCHAR_MAX
    elif params and params[0].name.isdigit():
        limit = int(params[0].name)
    else:
        limit = default
    check = exp.LTE(
        this=exp.Anonymous(this="STRLEN", expressions=[exp.column(column.name)]),
        expression=exp.Literal.number(limit),
    )
    return exp.ColumnConstraint(kind=exp.CheckColumnConstraint(this=check))


def _rewrite_create_table(statement: exp.Create) -> list[str]:
    """Drop storage attributes and informational keys, enforce lengths, turn IDENTITY into sequences."""
    before: list[str] = []
    properties = statement.args.get("properties")
    if properties is not None:
        for prop in list(properties.expressions):
            if isinstance(prop, STORAGE_PROPERTIES):
                prop.pop()
        if not properties.expressions:
            properties.pop()
    schema = statement.this
    if not isinstance(schema, exp.Schema):
        return before  # CREATE TABLE ... AS SELECT
    table = schema.this
    for item in list(schema.expressions):
        if isinstance(item, exp.PrimaryKey | exp.ForeignKey | exp.UniqueColumnConstraint):
            item.pop()
            continue
        if not isinstance(item, exp.ColumnDef):
            continue
        for constraint in list(item.constraints):
            kind = constraint.args.get("kind")
            if isinstance(kind, (exp.EncodeColumnConstraint, *INFORMATIONAL_CONSTRAINTS)):
                constraint.pop()
            elif isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
                sequence = f"{table.name}_{item.name}_seq"
                start = kind.args.get("start")
                step = kind.args.get("increment")
                before.append(
                    f'CREATE SEQUENCE IF NOT EXISTS "{sequence}"'
                    f" START {start.sql() if start else 1} INCREMENT {step.sql() if step else 1}"
                )
                constraint.replace(
                    exp.ColumnConstraint(
                        kind=exp.DefaultColumnConstraint(
                            this=exp.Anonymous(this="nextval", expressions=[exp.Literal.string(sequence)])
                        )
                    )
                )
        check = _character_check(item)
        if check is not None:
            item.append("constraints", check)
    return before


def _name_output_columns(statement: exp.Expr) -> None:
    """Name unaliased result columns as Redshift does (COUNT(*) -> count, 1 -> ?column?)."""
    select = statement
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    for projection in list(select.expressions):
        if isinstance(projection, exp.Alias | exp.Column | exp.Star):
            continue
        inner = projection.this if isinstance(projection, exp.Cast) else projection
        if isinstance(inner, exp.Column):
            name = inner.name
        elif isinstance(inner, exp.Anonymous):
            name = inner.name.lower()
        elif isinstance(inner, exp.Func):
            name = inner.sql_name().lower()
        else:
            name = "?column?"
        projection.replace(exp.alias_(projection.copy(), name, quoted=True))


def translate(sql: str, parameter_names: set[str]) -> list[Translated]:
    """Each Redshift statement in `sql` as DuckDB SQL; StatementError for what must FAIL.

    A translation depends on the text and the parameter names only (never on the database), and
    the handlers send the same statements with other values: each is translated once (sqlglot's
    parse, type annotation and generation cost about as much as DuckDB running it). The
    `Translated` objects are shared between calls and never changed. A statement that must FAIL
    is not remembered: it is translated, and fails, every time."""
    return list(_translate_once(sql, frozenset(parameter_names)))


@functools.lru_cache(maxsize=1024)
def _translate_once(sql: str, parameter_names: frozenset[str]) -> tuple[Translated, ...]:
    statements = parse(sql)
    if parameter_names and len(statements) > 1:
        raise StatementError("ERROR: cannot insert multiple commands into a prepared statement")
    translated: list[Translated] = []
    for statement in statements:
        _check_supported(statement)
        source = statement.sql(dialect="redshift")
        if isinstance(statement, (*NO_OP, exp.Command)):
            translated.append(Translated(source))
            continue
        used = []
        for placeholder in list(statement.find_all(exp.Placeholder)):
            name = placeholder.name
            if name not in parameter_names:
                raise StatementError(f'ERROR: no value given for parameter ":{name}"')
            used.append(name)
            placeholder.replace(exp.Placeholder(this=f"p_{name}"))
        before: list[str] = []
        if isinstance(statement, exp.Create) and str(statement.args.get("kind")).upper() == "TABLE":
            before = _rewrite_create_table(statement)
        returns_rows = isinstance(statement, exp.Select | exp.SetOperation)
        if returns_rows:
            _name_output_columns(statement)
        # Type annotation lets sqlglot keep Redshift's integer division (5 / 2 = 2) on DuckDB.
        annotate_types(statement, dialect="redshift")
        try:
            duck = statement.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
        except SqlglotError as error:
            raise StatementError(f"ERROR: the embedded engine cannot run this statement: {error}") from None
        translated.append(
            Translated(
                source,
                [*before, duck],
                returns_rows=returns_rows,
                counts_rows=isinstance(statement, exp.Insert | exp.Update | exp.Delete | exp.Merge),
                parameters=sorted(set(used)),
            )
        )
    return tuple(translated)
