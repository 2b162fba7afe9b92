"""Declared properties that LocalStack 4.13.1's *shipped* CloudFormation providers accept and drop,
applied through LocalStack's own service APIs.

An e2e run on LocalStack showed the stacks complete and the services then answer without these
properties (docs/localstack.md, "What the extension adds"). Replacing a shipped provider by
registering the same type is not dependable (plux keeps the first distribution's entry), so this
``on_infra_start`` hook wraps the shipped provider classes' ``create`` (and, for subscription
filters, ``delete``) in place, as ``py311_compat`` patches LocalStack's modules: the original runs
unchanged; once it reports SUCCESS, the declared property is applied with the service call AWS's
own provider makes. Only on create: an update in place does not re-apply them (the e2e creates).

| type | property | call |
| --- | --- | --- |
| AWS::Logs::LogGroup | RetentionInDays, KmsKeyId | PutRetentionPolicy; the group is created with kmsKeyId |
| AWS::Kinesis::Stream | ShardCount (the mode), StreamEncryption | PROVISIONED when no StreamModeDetails (as AWS); StartStreamEncryption |
| AWS::S3::Bucket | LifecycleConfiguration, LoggingConfiguration | PutBucketLifecycleConfiguration, PutBucketLogging |
| AWS::DynamoDB::Table | PointInTimeRecoverySpecification | UpdateContinuousBackups |
| AWS::EC2::VPC | EnableDnsHostnames, EnableDnsSupport | ModifyVpcAttribute (with the declared value: the provider is invoked again with the VPC it read back) |
| AWS::EC2::SecurityGroup | SecurityGroupIngress, SecurityGroupEgress | AuthorizeSecurityGroupIngress/Egress (declared egress replaces the default) |
| AWS::EC2::Route | GatewayId, NatGatewayId, other targets | passed to the provider's CreateRoute |
| AWS::EC2::NatGateway | Tags | passed to the provider's CreateNatGateway |
| AWS::Lambda::Permission | SourceAccount, PrincipalOrgID, EventSourceToken | passed to the provider's AddPermission |
| AWS::Lambda::Function | KmsKeyArn | passed to the provider's CreateFunction; kept and answered by Lambda (`_patch_lambda_kms_key`) |
| AWS::ApiGateway::Model | Description | passed to the provider's CreateModel |
| AWS::ApiGateway::Stage | AccessLogSetting, MethodSettings | UpdateStage patch operations |
| AWS::Logs::SubscriptionFilter | FilterName, RoleArn, Distribution | PutSubscriptionFilter with the declared name (LocalStack names it after the group); physical id: the filter name |

Also: CreateLogStream in a log group with a subscription filter (`_patch_create_log_stream`);
moto's DescribeSecurityGroupRules description of a rule naming a group
(`_patch_security_group_rule_description`); DescribeVpcEndpoints answering a declared endpoint
policy as declared (`_patch_vpc_endpoint_policy`).
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)

_PATCHED = "_concert_shipped_fix"
_DECLARED = "concert_declared"

Apply = Callable[[Any, dict[str, Any], dict[str, Any]], None]


def _wrap_create(module: str, cls_name: str, after: Apply, before: Apply | None = None) -> None:
    cls = getattr(importlib.import_module(module), cls_name)
    original = cls.create
    if getattr(original, _PATCHED, False):
        return

    def create(self: Any, request: Any) -> Any:
        # What the template declared, kept from the first invocation: a provider that answers
        # IN_PROGRESS is invoked again with its own returned model as desired_state (the VPC
        # provider's is read back from EC2: EnableDnsHostnames false, then applied as declared)
        declared = request.custom_context.get(_DECLARED)
        if declared is None:
            declared = copy.deepcopy(dict(request.desired_state))
            request.custom_context[_DECLARED] = declared
        if before is not None:
            before(request, request.desired_state, declared)
        event = original(self, request)
        if str(getattr(event.status, "name", event.status)) == "SUCCESS":
            after(request, event.resource_model or request.desired_state, declared)
        return event

    setattr(create, _PATCHED, True)
    cls.create = create


def _pass_declared(
    module: str, cls_name: str, service: str, method: str, extra: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    """The shipped provider's own `service.method` call, given the arguments `extra` derives from
    the declared model (the ones the provider leaves out); the provider otherwise runs unchanged."""
    cls = getattr(importlib.import_module(module), cls_name)
    original = cls.create
    marker = f"{_PATCHED}_{service}_{method}"
    if getattr(original, marker, False):
        return

    def create(self: Any, request: Any) -> Any:
        added = {k: v for k, v in extra(request.desired_state).items() if v not in (None, "", [], {})}
        if not added:
            return original(self, request)
        real_factory = request.aws_client_factory
        real_client = getattr(real_factory, service)

        class _Client:
            def __getattr__(self, name: str) -> Any:
                call = getattr(real_client, name)
                if name != method:
                    return call
                return lambda **kwargs: call(**{**kwargs, **added})

        class _Factory:
            def __getattr__(self, name: str) -> Any:
                return _Client() if name == service else getattr(real_factory, name)

        request.aws_client_factory = _Factory()
        try:
            return original(self, request)
        finally:
            request.aws_client_factory = real_factory

    for name, value in vars(original).items():  # the other patches' markers stay visible
        if name.startswith(_PATCHED):
            setattr(create, name, value)
    setattr(create, marker, True)
    cls.create = create


# --- Logs ---------------------------------------------------------------------------------------


def _log_group_after(request: Any, model: dict[str, Any], declared: dict[str, Any]) -> None:
    logs = request.aws_client_factory.logs
    if declared.get("RetentionInDays"):
        logs.put_retention_policy(
            logGroupName=model["LogGroupName"], retentionInDays=int(declared["RetentionInDays"])
        )


def _patch_log_group_kms() -> None:
    """CreateLogGroup with the declared kmsKeyId: the shipped provider passes only the name."""
    module = importlib.import_module("localstack.services.logs.resource_providers.aws_logs_loggroup")
    cls = module.LogsLogGroupProvider
    original = cls.create
    if getattr(original, _PATCHED + "_kms", False):
        return

    def create(self: Any, request: Any) -> Any:
        kms_key = request.desired_state.get("KmsKeyId")
        if not kms_key:
            return original(self, request)
        real_factory = request.aws_client_factory

        class _Logs:
            def __init__(self, client: Any) -> None:
                self._client = client

            def create_log_group(self, **kwargs: Any) -> Any:
                return self._client.create_log_group(**kwargs, kmsKeyId=kms_key)

            def __getattr__(self, name: str) -> Any:
                return getattr(self._client, name)

        class _Factory:
            logs = _Logs(real_factory.logs)

            def __getattr__(self, name: str) -> Any:
                return getattr(real_factory, name)

        request.aws_client_factory = _Factory()
        try:
            return original(self, request)
        finally:
            request.aws_client_factory = real_factory

    setattr(create, _PATCHED + "_kms", True)
    setattr(create, _PATCHED, getattr(original, _PATCHED, False))
    cls.create = create


def _patch_subscription_filter() -> None:
    module = importlib.import_module(
        "localstack.services.logs.resource_providers.aws_logs_subscriptionfilter"
    )
    cls = module.LogsSubscriptionFilterProvider
    if getattr(cls.create, _PATCHED, False):
        return
    from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent

    def create(self: Any, request: Any) -> Any:
        model = request.desired_state
        model["FilterName"] = model.get("FilterName") or model["LogGroupName"]
        optional = {"roleArn": model.get("RoleArn"), "distribution": model.get("Distribution")}
        request.aws_client_factory.logs.put_subscription_filter(
            logGroupName=model["LogGroupName"],
            filterName=model["FilterName"],
            filterPattern=model["FilterPattern"],
            destinationArn=model["DestinationArn"],
            **{k: v for k, v in optional.items() if v},
        )
        return ProgressEvent(
            status=OperationStatus.SUCCESS, resource_model=model, custom_context=request.custom_context
        )

    def delete(self: Any, request: Any) -> Any:
        model = request.desired_state
        logs = request.aws_client_factory.logs
        # already gone when its log group was deleted first
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            logs.delete_subscription_filter(
                logGroupName=model["LogGroupName"],
                filterName=model.get("FilterName") or model["LogGroupName"],
            )
        return ProgressEvent(
            status=OperationStatus.SUCCESS, resource_model=model, custom_context=request.custom_context
        )

    setattr(create, _PATCHED, True)
    cls.create = create
    cls.delete = delete
    # its physical id is the filter's name, as in AWS (LocalStack's quirk table says the log group
    # name, which was right only while its provider named the filter after the group)
    from localstack.services.cloudformation.engine import quirks

    quirks.PHYSICAL_RESOURCE_ID_SPECIAL_CASES["AWS::Logs::SubscriptionFilter"] = "/properties/FilterName"


def _patch_create_log_stream() -> None:
    """LocalStack 4.13.1 patches moto's `LogGroup.create_log_stream` to note the group's first
    subscription filter's pattern on the new stream, indexing `describe_subscription_filters()`
    as a list of dicts; the moto it ships returns `dict_values` of objects. So in a group with a
    subscription filter every CreateLogStream stores the stream and then answers 500 ("'dict_values'
    object is not subscriptable"; the retry: ResourceAlreadyExistsException), and Lambda's own log
    delivery to such a group fails the same way. Replaced by the same note, read from the objects."""
    importlib.import_module("localstack.services.logs.provider")  # applies LocalStack's patches
    from localstack.utils.patch import Patch, patch
    from moto.logs.models import LogGroup

    for applied in list(Patch.applied_patches):
        if applied.obj is LogGroup and applied.name == "create_log_stream":
            applied.undo()

    @patch(LogGroup.create_log_stream)
    def create_log_stream(target: Any, self: Any, log_stream_name: str) -> None:
        target(self, log_stream_name)
        filters = list(self.subscription_filters.values())
        self.streams[log_stream_name].filter_pattern = filters[0].filter_pattern if filters else None


# --- Kinesis ------------------------------------------------------------------------------------


def _stream_before(request: Any, model: dict[str, Any], declared: dict[str, Any]) -> None:
    # AWS: no StreamModeDetails is PROVISIONED with ShardCount shards; the shipped provider
    # makes it ON_DEMAND (4 shards in LocalStack)
    del request, declared
    if not model.get("StreamModeDetails"):
        model["StreamModeDetails"] = {"StreamMode": "PROVISIONED"}


def _stream_after(request: Any, model: dict[str, Any], declared: dict[str, Any]) -> None:
    encryption = declared.get("StreamEncryption")
    if not encryption:
        return
    kinesis = request.aws_client_factory.kinesis
    summary = kinesis.describe_stream_summary(StreamName=model["Name"])["StreamDescriptionSummary"]
    if summary.get("EncryptionType") == encryption.get("EncryptionType"):
        return
    kinesis.start_stream_encryption(
        StreamName=model["Name"], EncryptionType=encryption["EncryptionType"], KeyId=encryption["KeyId"]
    )


# --- S3 -----------------------------------------------------------------------------------------


def _transition(item: dict[str, Any], days: str) -> dict[str, Any]:
    shaped: dict[str, Any] = {"StorageClass": item["StorageClass"]}
    if item.get("TransitionInDays") is not None:
        shaped[days] = int(item["TransitionInDays"])
    if item.get("TransitionDate"):
        shaped["Date"] = item["TransitionDate"]
    return shaped


def lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape."""
    shaped: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if rule.get("Id"):
        shaped["ID"] = rule["Id"]
    expiration: dict[str, Any] = {}
    if rule.get("ExpirationInDays") is not None:
        expiration["Days"] = int(rule["ExpirationInDays"])
    if rule.get("ExpirationDate"):
        expiration["Date"] = rule["ExpirationDate"]
    if rule.get("ExpiredObjectDeleteMarker") is not None:
        expiration["ExpiredObjectDeleteMarker"] = bool(rule["ExpiredObjectDeleteMarker"])
    if expiration:
        shaped["Expiration"] = expiration
    if rule.get("Transitions"):
        shaped["Transitions"] = [_transition(t, "Days") for t in rule["Transitions"]]
    noncurrent = rule.get("NoncurrentVersionExpiration") or (
        {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
        if rule.get("NoncurrentVersionExpirationInDays") is not None
        else None
    )
    if noncurrent:
        shaped["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
    if rule.get("NoncurrentVersionTransitions"):
        shaped["NoncurrentVersionTransitions"] = [
            _transition(t, "NoncurrentDays") for t in rule["NoncurrentVersionTransitions"]
        ]
    if rule.get("AbortIncompleteMultipartUpload"):
        shaped["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    return shaped


def _bucket_after(request: Any, model: dict[str, Any], declared: dict[str, Any]) -> None:
    s3 = request.aws_client_factory.s3
    bucket = model["BucketName"]
    lifecycle = declared.get("LifecycleConfiguration")
    if lifecycle and lifecycle.get("Rules"):
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={"Rules": [lifecycle_rule(rule) for rule in lifecycle["Rules"]]},
        )
    logging_config = declared.get("LoggingConfiguration")
    if logging_config is not None:
        s3.put_bucket_logging(
            Bucket=bucket,
            BucketLoggingStatus={
                "LoggingEnabled": {
                    "TargetBucket": logging_config.get("DestinationBucketName") or bucket,
                    "TargetPrefix": logging_config.get("LogFilePrefix", ""),
                }
            },
        )


# --- DynamoDB, EC2, API Gateway -----------------------------------------------------------------


def _table_after(request: Any, model: dict[str, Any], declared: dict[str, Any]) -> None:
    spec = declared.get("PointInTimeRecoverySpecification") or {}
    if str(spec.get("PointInTimeRecoveryEnabled")).lower() == "true":
        request.aws_client_factory.dynamodb.update_continuous_backups(
            TableName=model["TableName"],
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


def _vpc_after(request: Any, model: dict[str, Any], declared: dict[str, Any]) -> None:
    ec2 = request.aws_client_factory.ec2
    for name in ("EnableDnsSupport", "EnableDnsHostnames"):  # hostnames need support first
        if name in declared:
            value = str(declared[name]).lower() == "true"
            ec2.modify_vpc_attribute(VpcId=model["VpcId"], **{name: {"Value": value}})
            model[name] = value


def _security_group_after(request: Any, model: dict[str, Any], declared: dict[str, Any]) -> None:
    """The shipped provider creates the group without its declared rules: authorized here, as
    AWS's provider does (declared egress replaces the default allow-all egress rule)."""
    from botocore.exceptions import ClientError

    from .ec2 import _permission

    ec2 = request.aws_client_factory.ec2
    group_id = model["GroupId"]
    ingress = declared.get("SecurityGroupIngress") or []
    egress = declared.get("SecurityGroupEgress") or []
    if ingress:
        ec2.authorize_security_group_ingress(
            GroupId=group_id, IpPermissions=[_permission(rule, "ingress") for rule in ingress]
        )
    if egress:
        with contextlib.suppress(ClientError):  # a group outside a VPC has no egress rules
            ec2.revoke_security_group_egress(
                GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
            )
        ec2.authorize_security_group_egress(
            GroupId=group_id, IpPermissions=[_permission(rule, "egress") for rule in egress]
        )


_ROUTE_TARGETS = (
    "GatewayId",
    "NatGatewayId",
    "InstanceId",
    "NetworkInterfaceId",
    "VpcPeeringConnectionId",
    "TransitGatewayId",
    "VpcEndpointId",
    "EgressOnlyInternetGatewayId",
    "CarrierGatewayId",
    "LocalGatewayId",
    "CoreNetworkArn",
)

# (module, provider class, client, call, the declared arguments its create leaves out)
_PASSED: tuple[tuple[str, str, str, str, Callable[[dict[str, Any]], dict[str, Any]]], ...] = (
    (  # CreateRoute with the destination only: the route had no target
        "localstack.services.ec2.resource_providers.aws_ec2_route",
        "EC2RouteProvider",
        "ec2",
        "create_route",
        lambda model: {key: model.get(key) for key in _ROUTE_TARGETS},
    ),
    (  # the provider builds TagSpecifications and then calls without them
        "localstack.services.ec2.resource_providers.aws_ec2_natgateway",
        "EC2NatGatewayProvider",
        "ec2",
        "create_nat_gateway",
        lambda model: {
            "TagSpecifications": [{"ResourceType": "natgateway", "Tags": model["Tags"]}]
            if model.get("Tags")
            else None
        },
    ),
    (  # AddPermission with FunctionName, Action, Principal and SourceArn only
        "localstack.services.lambda_.resource_providers.aws_lambda_permission",
        "LambdaPermissionProvider",
        "lambda_",
        "add_permission",
        lambda model: {
            key: model.get(key) for key in ("SourceAccount", "PrincipalOrgID", "EventSourceToken")
        },
    ),
    (  # CreateFunction without the key (LocalStack's Lambda also keeps none: _patch_lambda_kms_key)
        "localstack.services.lambda_.resource_providers.aws_lambda_function",
        "LambdaFunctionProvider",
        "lambda_",
        "create_function",
        lambda model: {"KMSKeyArn": model.get("KmsKeyArn")},
    ),
    (  # CreateModel without the description
        "localstack.services.apigateway.resource_providers.aws_apigateway_model",
        "ApiGatewayModelProvider",
        "apigateway",
        "create_model",
        lambda model: {"description": model.get("Description")},
    ),
)


def _patch_security_group_rule_description() -> None:
    """moto's SecurityGroupRule takes its Description from the CIDR range only: a rule naming a
    security group keeps it in its group pair, so DescribeSecurityGroupRules (and Authorize*'s
    SecurityGroupRules) answered such a rule without it. Read from whichever the rule has."""
    from moto.ec2.models.security_groups import SecurityGroupRule

    if getattr(SecurityGroupRule.description, _PATCHED, False):
        return

    def description(self: Any) -> str | None:
        return self.ip_range.get("Description") or self.source_group.get("Description")

    setattr(description, _PATCHED, True)
    SecurityGroupRule.description = property(description)


def restore_declared_policies(endpoints: list[dict[str, Any]], declared: dict[str, str | None]) -> int:
    """Put back each endpoint's policy as it was declared (`declared`: endpoint id -> the document
    its caller gave, None when it was given none). Returns how many it restored.

    LocalStack 4.13.1's DescribeVpcEndpoints removes `Version` from every endpoint's policy ("AWS
    parity", recorded for an endpoint created without a policy: AWS's default interface policy has
    no Version). A policy the caller gave is answered by AWS as given, Version included (the AWS
    CLI reference's describe-vpc-endpoints example: `{"Version":"2008-10-17","Statement":[...]}`),
    so only a declared one is put back; the default stays as LocalStack answers it."""
    restored = 0
    for endpoint in endpoints:
        document = declared.get(endpoint.get("VpcEndpointId", ""))
        if document and endpoint.get("PolicyDocument") != document:
            endpoint["PolicyDocument"] = document
            restored += 1
    return restored


_DECLARED_POLICY = "_concert_declared_policy"


def _mark_declared_policies() -> None:
    """moto's VPC endpoint keeps `policy_document` with its default filled in: whether the caller
    gave one (at create, or ModifyVpcEndpoint's PolicyDocument) is kept beside it, so a declared
    policy that happens to read like the default is still answered as declared."""
    from moto.ec2.models.vpcs import VPCEndPoint

    if getattr(VPCEndPoint.__init__, _PATCHED, False):
        return
    init, modify = VPCEndPoint.__init__, VPCEndPoint.modify

    signature = inspect.signature(init)

    def create(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        given = signature.bind(self, *args, **kwargs).arguments.get("policy_document")
        setattr(self, _DECLARED_POLICY, bool(given))

    def modified(self: Any, policy_doc: Any, *args: Any, **kwargs: Any) -> None:
        modify(self, policy_doc, *args, **kwargs)
        if policy_doc:
            setattr(self, _DECLARED_POLICY, True)

    setattr(create, _PATCHED, True)
    VPCEndPoint.__init__ = create
    VPCEndPoint.modify = modified


def _copy_handler_marks(wrapper: Any, original: Any) -> None:
    """What LocalStack's dispatcher reads from a provider method (its @handler marker), and its
    name and doc, copied onto the wrapper that replaces it."""
    for name in ("__name__", "__qualname__", "__doc__", "__wrapped__"):
        if hasattr(original, name):
            setattr(wrapper, name, getattr(original, name))
    for name, value in vars(original).items():
        setattr(wrapper, name, value)


def _patch_vpc_endpoint_policy() -> None:
    """DescribeVpcEndpoints: a declared endpoint policy answered as declared (see
    `restore_declared_policies`); CreateVpcEndpoint already answers it so."""
    from localstack.services.ec2.provider import Ec2Provider
    from moto.ec2.models import ec2_backends

    _mark_declared_policies()
    original = Ec2Provider.describe_vpc_endpoints
    if getattr(original, _PATCHED, False):
        return

    def describe(self: Any, context: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, context, request, *args, **kwargs)
        # LocalStack's request handler stores moto's state under the request's account
        backend = ec2_backends[context.account_id][context.region]
        declared: dict[str, str | None] = {}
        for endpoint in result.get("VpcEndpoints") or []:
            model = backend.vpc_end_points.get(endpoint.get("VpcEndpointId", ""))
            if model is not None and getattr(model, _DECLARED_POLICY, False):
                declared[endpoint["VpcEndpointId"]] = model.policy_document
        restore_declared_policies(result.get("VpcEndpoints") or [], declared)
        return result

    _copy_handler_marks(describe, original)
    setattr(describe, _PATCHED, True)
    Ec2Provider.describe_vpc_endpoints = describe


# function version (qualified ARN) -> its KMSKeyArn: LocalStack 4.13.1's Lambda accepts the key and
# keeps none (`kms_key_arn` is commented out of its VersionFunctionConfiguration)
_LAMBDA_KMS_KEYS: dict[str, str] = {}


def _latest(function_arn: str) -> str:
    return function_arn if function_arn.endswith(":$LATEST") else f"{function_arn}:$LATEST"


def _patch_lambda_kms_key() -> None:
    """CreateFunction's and UpdateFunctionConfiguration's KMSKeyArn kept per function version (a
    published version takes $LATEST's) and answered in the function's configuration, as AWS does."""
    from localstack.services.lambda_ import api_utils
    from localstack.services.lambda_.provider import LambdaProvider

    if getattr(api_utils.map_config_out, _PATCHED, False):
        return
    map_config_out = api_utils.map_config_out
    create_function = LambdaProvider.create_function
    update_function_configuration = LambdaProvider.update_function_configuration
    publish_version = LambdaProvider.publish_version

    def config_out(version: Any, *args: Any, **kwargs: Any) -> Any:
        result = map_config_out(version, *args, **kwargs)
        key = _LAMBDA_KMS_KEYS.get(version.id.qualified_arn())
        if key:
            result["KMSKeyArn"] = key
        return result

    def create(self: Any, context: Any, request: Any) -> Any:
        result = create_function(self, context, request)
        if request.get("KMSKeyArn"):
            _LAMBDA_KMS_KEYS[_latest(result["FunctionArn"])] = request["KMSKeyArn"]
            if result.get("Version", "$LATEST") != "$LATEST":
                _LAMBDA_KMS_KEYS[f"{result['FunctionArn']}:{result['Version']}"] = request["KMSKeyArn"]
            result["KMSKeyArn"] = request["KMSKeyArn"]
        return result

    def update(self: Any, context: Any, request: Any) -> Any:
        result = update_function_configuration(self, context, request)
        if "KMSKeyArn" in request:
            if request["KMSKeyArn"]:
                _LAMBDA_KMS_KEYS[_latest(result["FunctionArn"])] = request["KMSKeyArn"]
                result["KMSKeyArn"] = request["KMSKeyArn"]
            else:  # an empty key: back to Lambda's own
                _LAMBDA_KMS_KEYS.pop(_latest(result["FunctionArn"]), None)
                result.pop("KMSKeyArn", None)
        return result

    def publish(self: Any, context: Any, function_name: Any, *args: Any, **kwargs: Any) -> Any:
        result = publish_version(self, context, function_name, *args, **kwargs)
        arn = result["FunctionArn"]  # qualified with the new version
        key = _LAMBDA_KMS_KEYS.get(_latest(arn.rsplit(":", 1)[0]))
        if key:
            _LAMBDA_KMS_KEYS[arn] = key
            result["KMSKeyArn"] = key
        return result

    for wrapper, original in (
        (create, create_function),
        (update, update_function_configuration),
        (publish, publish_version),
    ):
        _copy_handler_marks(wrapper, original)
    setattr(config_out, _PATCHED, True)
    api_utils.map_config_out = config_out
    LambdaProvider.create_function = create
    LambdaProvider.update_function_configuration = update
    LambdaProvider.publish_version = publish


_METHOD_SETTING_PATHS = {
    "MetricsEnabled": "metrics/enabled",
    "LoggingLevel": "logging/loglevel",
    "DataTraceEnabled": "logging/dataTrace",
    "ThrottlingBurstLimit": "throttling/burstLimit",
    "ThrottlingRateLimit": "throttling/rateLimit",
    "CachingEnabled": "caching/enabled",
    "CacheTtlInSeconds": "caching/ttlInSeconds",
    "CacheDataEncrypted": "caching/dataEncrypted",
}


def stage_patch_operations(declared: dict[str, Any]) -> list[dict[str, str]]:
    """UpdateStage's patch operations for the declared access log and method settings."""
    operations: list[dict[str, str]] = []
    access = declared.get("AccessLogSetting") or {}
    if access.get("DestinationArn"):
        operations.append(
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": access["DestinationArn"]}
        )
    if access.get("Format"):
        operations.append({"op": "replace", "path": "/accessLogSettings/format", "value": access["Format"]})
    for setting in declared.get("MethodSettings") or []:
        resource = str(setting.get("ResourcePath", "/*")).lstrip("/").replace("/", "~1") or "~1"
        prefix = f"/{resource}/{setting.get('HttpMethod', '*')}"
        for key, path in _METHOD_SETTING_PATHS.items():
            if key in setting:
                value = setting[key]
                text = str(value).lower() if isinstance(value, bool) else str(value)
                operations.append({"op": "replace", "path": f"{prefix}/{path}", "value": text})
    return operations


def _stage_after(request: Any, model: dict[str, Any], declared: dict[str, Any]) -> None:
    operations = stage_patch_operations(declared)
    if operations:
        request.aws_client_factory.apigateway.update_stage(
            restApiId=model["RestApiId"], stageName=model["StageName"], patchOperations=operations
        )


_FIXES: tuple[tuple[str, str, Apply, Apply | None], ...] = (
    (
        "localstack.services.logs.resource_providers.aws_logs_loggroup",
        "LogsLogGroupProvider",
        _log_group_after,
        None,
    ),
    (
        "localstack.services.kinesis.resource_providers.aws_kinesis_stream",
        "KinesisStreamProvider",
        _stream_after,
        _stream_before,
    ),
    ("localstack.services.s3.resource_providers.aws_s3_bucket", "S3BucketProvider", _bucket_after, None),
    (
        "localstack.services.dynamodb.resource_providers.aws_dynamodb_table",
        "DynamoDBTableProvider",
        _table_after,
        None,
    ),
    ("localstack.services.ec2.resource_providers.aws_ec2_vpc", "EC2VPCProvider", _vpc_after, None),
    (
        "localstack.services.ec2.resource_providers.aws_ec2_securitygroup",
        "EC2SecurityGroupProvider",
        _security_group_after,
        None,
    ),
    (
        "localstack.services.apigateway.resource_providers.aws_apigateway_stage",
        "ApiGatewayStageProvider",
        _stage_after,
        None,
    ),
)


def apply_fixes() -> list[str]:
    """Patch every shipped provider above; returns the classes patched (one failing is logged and
    skipped: that type then shows its gap in the verification, as without the extension)."""
    patched = []
    for module, cls_name, after, before in _FIXES:
        try:
            _wrap_create(module, cls_name, after, before)
            patched.append(cls_name)
        except Exception:
            LOG.exception("concert: could not patch %s.%s", module, cls_name)
    for module, cls_name, service, method, extra in _PASSED:
        try:
            _pass_declared(module, cls_name, service, method, extra)
            patched.append(f"{cls_name}.{method}")
        except Exception:
            LOG.exception("concert: could not patch %s.%s", module, cls_name)
    for patch in (
        _patch_log_group_kms,
        _patch_subscription_filter,
        _patch_create_log_stream,
        _patch_security_group_rule_description,
        _patch_lambda_kms_key,
        _patch_vpc_endpoint_policy,
    ):
        try:
            patch()
            patched.append(patch.__name__)
        except Exception:
            LOG.exception("concert: could not apply %s", patch.__name__)
    return patched


@hooks.on_infra_start()
def concert_shipped_provider_fixes() -> None:
    apply_fixes()
