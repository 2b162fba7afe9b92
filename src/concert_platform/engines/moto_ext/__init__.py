"""The embedded engine's additions to moto 5.2, one module per AWS service.

`register()` (idempotent) makes every resource type of the platform's six templates really
exist in moto's service backends when deployed through moto's CloudFormation, describable
through the normal AWS APIs, both under `mock_aws` and with `ThreadedMotoServer`:

- CloudFormation models for types moto lacks (each module's classes register themselves: moto
  builds its type map from `CloudFormationModel.__subclasses__()`);
- fixes to moto models that drop properties (S3 buckets, security-group egress) or crash
  (API Gateway MOCK integrations);
- wire handlers where the backend lacks an API (X-Ray groups and sampling rules, Logs query
  definitions) and a whole service where moto has none (Redshift Serverless);
- the Redshift Data API on a real SQL engine (DuckDB via sqlglot), replacing moto's canned one;
- CloudFormation stack lifecycle semantics: resource events, failures, rollback, updates with
  replacement (stack_lifecycle).
"""

from __future__ import annotations

import sys

_registered = False


def _register_redshift_serverless() -> None:
    import re

    from moto import backend_index

    from concert_platform.engines.moto_ext import redshift_serverless

    # moto's get_backend("redshift-serverless") imports moto.redshiftserverless.
    sys.modules.setdefault("moto.redshiftserverless", redshift_serverless)
    pattern = ("redshift-serverless", re.compile(r"https?://redshift-serverless\.(.+)\.amazonaws\.com"))
    if pattern[0] not in {name for name, _ in backend_index.backend_url_patterns}:
        backend_index.backend_url_patterns.append(pattern)


def load_managed_policies() -> None:
    """Make moto create AWS-managed IAM policies in new accounts (our roles attach some)."""
    import os

    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"


def register() -> None:
    """Install every extension into moto; safe to call more than once."""
    global _registered
    # AWS-managed policies (AWSLambdaVPCAccessExecutionRole...) exist in every account; moto reads
    # this each time it creates an account's IAM backend, so it is set on every call, not once.
    load_managed_policies()
    if _registered:
        return
    from moto.cloudformation import parsing

    from concert_platform.engines.moto_ext import (  # noqa: F401 - importing registers the models
        apigateway,
        applicationautoscaling,
        awslambda,
        cloudtrail,
        cloudwatch,
        dynamodb,
        ec2,
        glue,
        iam,
        kinesis,
        kms,
        logs,
        redshift_data,
        s3,
        secretsmanager,
        server,
        sns,
        sqs,
        stack_lifecycle,
        xray,
    )
    from concert_platform.engines.moto_ext.redshift_serverless import models as _redshift_models  # noqa: F401

    stack_lifecycle.apply()
    s3.patch_bucket_model()
    ec2.patch_security_group_model()
    apigateway.patch_method_model()
    apigateway.patch_test_invoke()
    awslambda.patch_models()
    kms.patch_key_model()
    iam.patch_role_model()
    ec2.patch_vpc_and_association_models()
    ec2.patch_route_models()
    ec2.patch_tagged_models()
    ec2.patch_vpc_endpoint_model()
    ec2.patch_delete_models()
    dynamodb.patch_table_model()
    kinesis.patch_stream_model()
    logs.patch_log_group_model()
    logs.patch_log_delivery()
    cloudwatch.patch_alarms()
    sns.patch_delivery()
    redshift_data.install()
    logs.patch_wire()
    xray.patch_wire()
    _register_redshift_serverless()
    server.patch_backend_lookup()  # after every URL pattern is registered
    server.patch_backend_dict_access()
    server.patch_method_names()
    server.patch_model_loading()
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    _registered = True
