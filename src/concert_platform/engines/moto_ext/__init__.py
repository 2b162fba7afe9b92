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
from typing import Any

CAPABILITIES: dict[str, dict[str, str]] = {
    "added": {
        "AWS::S3::BucketPolicy": "s3",
        "AWS::EC2::SecurityGroupEgress": "ec2",
        "AWS::Glue::Database": "glue",
        "AWS::SecretsManager::Secret": "secretsmanager",
        "AWS::RedshiftServerless::Namespace": "redshift_serverless (new backend)",
        "AWS::RedshiftServerless::Workgroup": "redshift_serverless (new backend)",
        "AWS::ApiGateway::Stage": "apigateway",
        "AWS::ApiGateway::Account": "apigateway",
        "AWS::ApiGateway::ApiKey": "apigateway",
        "AWS::ApiGateway::UsagePlan": "apigateway",
        "AWS::ApiGateway::UsagePlanKey": "apigateway",
        "AWS::ApiGateway::RequestValidator": "apigateway",
        "AWS::ApiGateway::Model": "apigateway",
        "AWS::ApiGateway::GatewayResponse": "apigateway",
        "AWS::SNS::Subscription": "sns",
        "AWS::SNS::TopicPolicy": "sns",
        "AWS::SQS::QueuePolicy": "sqs",
        "AWS::CloudWatch::Alarm": "cloudwatch",
        "AWS::Logs::MetricFilter": "logs",
        "AWS::Logs::SubscriptionFilter": "logs",
        "AWS::Logs::QueryDefinition": "logs (new API)",
        "AWS::XRay::Group": "xray (new API)",
        "AWS::XRay::SamplingRule": "xray (new API)",
        "AWS::CloudTrail::Trail": "cloudtrail",
        "AWS::ApplicationAutoScaling::ScalableTarget": "applicationautoscaling",
        "AWS::ApplicationAutoScaling::ScalingPolicy": "applicationautoscaling",
    },
    "fixed": {
        "AWS::S3::Bucket": "versioning, public access block, lifecycle, logging and ownership applied; non-empty buckets refuse deletion",
        "AWS::EC2::SecurityGroup": "inline SecurityGroupEgress applied (replacing the default allow-all rule)",
        "AWS::ApiGateway::RestApi": "deleted with its stack; EndpointConfiguration and MinimumCompressionSize returned by GetRestApi",
        "AWS::ApiGateway::Method": "MOCK integrations without IntegrationHttpMethod no longer crash; method and integration responses, request parameters and models kept",
        "AWS::IAM::Role": "ManagedPolicyArns attached (AWS-managed policies loaded); inline policies kept as JSON",
        "AWS::EC2::VPC": "EnableDnsSupport/EnableDnsHostnames applied",
        "AWS::EC2::RouteTable": "deletable through CloudFormation (with its routes)",
        "AWS::EC2::SubnetRouteTableAssociation": "associations made on the route table (visible to DescribeRouteTables)",
        "AWS::DynamoDB::Table": "SSE (KMS), TTL and point-in-time recovery applied",
        "AWS::Kinesis::Stream": "StreamEncryption applied",
        "AWS::Logs::LogGroup": "KmsKeyId applied; GetAtt Arn ends in ':*' as on AWS",
        "AWS::Lambda::Function": "TracingConfig, Layers, KmsKeyArn, DeadLetterConfig, Architectures applied; DeadLetterConfig returned; CREATE fails on a missing code object or a VPC role without ENI permissions",
        "AWS::Lambda::LayerVersion": "published under the declared LayerName (with CompatibleArchitectures); CREATE fails on a missing content object; deleted with its stack",
        "AWS::EC2::InternetGateway": "Tags applied (also Elastic IPs, NAT gateways, route tables); deleted with its stack",
        "AWS::EC2::VPCEndpoint": "PolicyDocument kept (and returned) as JSON; deleted with its stack",
        "AWS::EC2::SecurityGroupIngress": "rule descriptions kept and returned (also inline and egress rules to groups)",
        "AWS::KMS::Key": "the key policy is kept as JSON text (DescribeKey crashed on it)",
        "AWS::Lambda::Permission": "statement ids as physical ids; removed with the stack",
        "AWS::EC2::NatGateway": "deleted with its stack (its network interface and address association released)",
        "AWS::EC2::EIP": "released with its stack",
        "AWS::EC2::VPCGatewayAttachment": "detached with its stack",
        "AWS::EC2::FlowLog": "deleted with its stack",
        "AWS::RedshiftServerless::Workgroup": "the Redshift Data API runs its SQL on DuckDB (redshift_data, replacing moto's canned backend)",
        "AWS::CloudFormation::Stack": "resource events, *_FAILED with reasons, rollback, DELETE_FAILED (also for a type the engine cannot delete), exports of change-set stacks; updates replace on create-only properties, refuse custom-named replacements and exports in use, honour UpdateReplacePolicy/DeletionPolicy; change sets report Replacement and Details",
    },
    "partial": {
        "AWS::CloudWatch::Alarm": "evaluated on the engine's clock (metric math included); composite alarms and anomaly-detection operators are not evaluated; only SNS actions run",
        "AWS::Logs::MetricFilter": "produces metric data; space-delimited patterns are not evaluated",
        "AWS::Logs::SubscriptionFilter": "delivers matching events to Lambda destinations; Kinesis and Firehose as moto does",
        "AWS::Logs::QueryDefinition": "stored and described; Logs Insights queries do not run",
        "AWS::Lambda::Function": "created and described; moto cannot invoke code without Docker (engines.local_lambda runs each function in its own isolated worker; memory checked after each invocation, not while it runs)",
    },
}

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
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    _registered = True


def emulated_types() -> dict[str, Any]:
    return CAPABILITIES
