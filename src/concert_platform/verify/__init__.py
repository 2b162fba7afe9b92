"""Resource verification: every resource the six templates declare, asked back from its service.

A stack that reaches CREATE_COMPLETE on an emulator may have created nothing. For each declared
resource (whose Condition holds) the resource's own service API is asked for it, and every
declared property is compared by content through its type's table (one module per service,
like the engine's extensions in `concert_platform.engines.moto_ext`). A resource is verified
only when every declared property was compared and matched, or is not comparable for a stated
reason; a type with no table, or that the engine cannot show, is reported with the reason.
"""

from __future__ import annotations

from concert_platform.verify import (  # noqa: F401 - importing a service module registers its tables
    apigateway,
    applicationautoscaling,
    awslambda,
    cloudtrail,
    cloudwatch,
    dynamodb,
    ec2,
    events,
    glue,
    iam,
    kinesis,
    kms,
    logs,
    redshift_serverless,
    s3,
    secretsmanager,
    sns,
    sqs,
    xray,
)
from concert_platform.verify._base import TABLES, Field, Outcome, Resource, Table, VerifyContext, check
from concert_platform.verify._run import (
    StackState,
    check_cross_stack,
    describe_resource,
    output_problem,
    verify_environment,
    verify_resource,
)

__all__ = [
    "TABLES",
    "Field",
    "Outcome",
    "Resource",
    "StackState",
    "Table",
    "VerifyContext",
    "check",
    "check_cross_stack",
    "describe_resource",
    "output_problem",
    "verify_environment",
    "verify_resource",
]
