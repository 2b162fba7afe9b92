"""The local execution environment keeps Lambda's limits: Timeout enforced, memory size in the
context, one reused process per function (replaced after a timeout), nothing of the tool's
site-packages importable, Lambda's error types for a module that cannot be imported."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from concert_platform.engines import local_lambda as local_invoke
from concert_platform.engines.embedded import EmbeddedEngine
from concert_platform.engines.local_lambda import LocalLambdaRuntime
from concert_platform.packaging import default_cache_dir

ROOT = Path(__file__).resolve().parents[2]
HANDLER = """
import importlib.util, os, platform, time
CALLS = []

def handler(event, context):
    CALLS.append(1)
    time.sleep(event.get("sleep", 0))
    if event.get("import"):
        __import__(event["import"])
    for line in range(event.get("print", 0)):
        print(f"line {line} of {context.aws_request_id}")
    if event.get("tail"):
        print(event["tail"], end="")  # the last output has no newline
    if event.get("exit"):
        os._exit(event["exit"])
    if event.get("allocate_mb"):
        ballast = b"x" * (event["allocate_mb"] * 1024 * 1024)  # written, so resident
        del ballast
    return {
        "calls": len(CALLS),
        "pid": os.getpid(),
        "memory": context.memory_limit_in_mb,
        "memory_env": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
        "remaining_ms": context.get_remaining_time_in_millis(),
        "key": os.environ["AWS_ACCESS_KEY_ID"],
        "found": bool(event.get("find") and importlib.util.find_spec(event["find"])),
        "python": platform.python_version(),
    }
"""


class MotoEngine(EmbeddedEngine):
    """moto in this process (mock_aws), as the embedded engine's backends are."""

    name = "embedded"
    runs_function_code = False

    def __init__(self) -> None:
        super().__init__("us-east-1")

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]


def _package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


@pytest.fixture
def runtime(aws: None) -> Iterator[LocalLambdaRuntime]:
    role = boto3.client("iam").create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    # Lambda writes the functions' logs as this role (a role without it fails the runtime check)
    logs = {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}
    boto3.client("iam").put_role_policy(
        RoleName="fn",
        PolicyName="logs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{**logs, "Action": [*logs["Action"], "logs:CreateLogGroup"]}],
            }
        ),
    )
    for name, handler, timeout, memory in (
        ("app-fn", "app.handler", 1, 256),
        ("broken-fn", "not_there.handler", 1, 256),
        ("small-fn", "app.handler", 20, 128),
    ):
        boto3.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler=handler,
            Code={"ZipFile": _package()},
            Timeout=timeout,
            MemorySize=memory,
        )
    local = LocalLambdaRuntime(MotoEngine(), default_cache_dir(ROOT))
    yield local
    local.close()


def test_one_environment_keeps_module_state_with_the_memory_size_in_its_context(
    runtime: LocalLambdaRuntime,
) -> None:
    first, second = runtime.invoke("app-fn", {}), runtime.invoke("app-fn", {})
    assert first.ok and second.ok, (first.error_message, second.error_message)
    assert (first.cold_start, second.cold_start) == (True, False)
    assert (first.result["calls"], second.result["calls"]) == (1, 2)
    assert first.result["pid"] == second.result["pid"]
    assert (first.result["memory"], first.result["memory_env"]) == (256, "256")
    assert 0 < first.result["remaining_ms"] <= 1000


def test_each_invocation_gets_exactly_its_own_log_lines_however_many(runtime: LocalLambdaRuntime) -> None:
    """The engine takes an invocation's logs up to the worker's end-of-invocation line: all of
    them (no race with the log pump), none of the next one's, and never the marker itself."""
    for count in (0, 3, 20000, 1):
        invocation = runtime.invoke("app-fn", {"print": count})
        assert invocation.ok, invocation.error_message
        lines = [line for line in invocation.logs.splitlines() if line.startswith("line ")]
        assert lines == [f"line {i} of {invocation.request_id}" for i in range(count)]
        assert "end-of-invocation" not in invocation.logs
    unterminated = runtime.invoke("app-fn", {"print": 1, "tail": "no newline at the end"})
    assert unterminated.logs.splitlines()[-1] == "no newline at the end", unterminated.logs
    assert "end-of-invocation" not in unterminated.logs
    after = runtime.invoke("app-fn", {"print": 1})  # the next invocation's logs are its own
    assert "no newline" not in after.logs and f"line 0 of {after.request_id}" in after.logs
    crashed = runtime.invoke("app-fn", {"print": 2, "exit": 3})
    assert crashed.error_type == "Runtime.ExitError"
    assert [line for line in crashed.logs.splitlines() if line.startswith("line ")] == [
        f"line {i} of {crashed.request_id}" for i in range(2)
    ]


def test_past_its_timeout_the_invocation_fails_and_the_environment_is_replaced(
    runtime: LocalLambdaRuntime,
) -> None:
    before = runtime.invoke("app-fn", {})
    timed_out = runtime.invoke("app-fn", {"sleep": 3})
    assert timed_out.error_type == "Sandbox.Timedout"
    assert timed_out.error_message.endswith("Task timed out after 1.00 seconds")
    after = runtime.invoke("app-fn", {})
    assert after.ok and after.cold_start and after.result["calls"] == 1
    assert after.result["pid"] != before.result["pid"]
    stats = runtime.report()["functions"][0]
    assert (stats["cold_starts"], stats["timeouts"]) == (2, 1)


def test_a_reply_read_late_is_judged_by_the_handlers_own_run_time(
    runtime: LocalLambdaRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process may be starved of CPU between sending the event and waiting for the reply (a
    loaded CI machine: an engine canary once saw a 1 s Timeout 'not enforced'): by then a handler
    that ran past its Timeout has already replied. Its own run time, measured in the worker,
    decides: Lambda would have stopped it."""
    from concert_platform.engines import local_lambda

    runtime.invoke("app-fn", {})  # warm: the wait below is the invocation's, not a cold start's
    original = local_lambda.Worker.receive

    def starved(self: Any, timeout: float) -> Any:
        time.sleep(3.5)  # the handler (sleep 3) has replied before this process waits
        return original(self, timeout)

    monkeypatch.setattr(local_lambda.Worker, "receive", starved)
    late = runtime.invoke("app-fn", {"sleep": 3})
    assert late.error_type == "Sandbox.Timedout", late
    assert late.error_message.endswith("Task timed out after 1.00 seconds")


def test_a_crashed_environment_is_replaced(runtime: LocalLambdaRuntime) -> None:
    before = runtime.invoke("app-fn", {})
    crashed = runtime.invoke("app-fn", {"exit": 3})
    assert crashed.error_type == "Runtime.ExitError"
    assert crashed.error_message.endswith("Runtime exited with error: exit status 3")
    after = runtime.invoke("app-fn", {})
    assert after.ok and after.cold_start and after.result["pid"] != before.result["pid"]


def test_past_its_memory_size_the_environment_is_killed(runtime: LocalLambdaRuntime) -> None:
    assert runtime.invoke("small-fn", {"allocate_mb": 16}).ok
    killed = runtime.invoke("small-fn", {"allocate_mb": 200})
    assert killed.error_type == "Runtime.OutOfMemory", killed
    assert "Runtime exited with error: signal: killed" in killed.error_message
    assert "memory size 128 MB" in killed.error_message
    assert runtime.invoke("small-fn", {}).cold_start
    assert runtime.report()["functions"][0]["max_memory_used_mb"] > 128


def test_the_tools_own_packages_are_not_importable(runtime: LocalLambdaRuntime) -> None:
    for package in ("yaml", "moto", "concert_platform"):
        outcome = runtime.invoke("app-fn", {"import": package})
        assert outcome.error_type == "ModuleNotFoundError", (package, outcome)
    assert runtime.invoke("app-fn", {"find": "boto3"}).result["found"]  # the runtime's SDK, as on Lambda


def test_a_module_that_cannot_be_imported_is_runtime_import_module_error(
    runtime: LocalLambdaRuntime,
) -> None:
    outcome = runtime.invoke("broken-fn", {})
    assert outcome.error_type == "Runtime.ImportModuleError"
    assert outcome.error_message == "Unable to import module 'not_there': No module named 'not_there'"


def test_the_credentials_come_from_function_credentials(
    runtime: LocalLambdaRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def role_credentials(engine: Any, config: dict[str, Any]) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": f"key-of-{config['FunctionName']}", "AWS_SECRET_ACCESS_KEY": "s"}

    monkeypatch.setattr(local_invoke, "function_credentials", role_credentials)
    assert runtime.invoke("app-fn", {}).result["key"] == "key-of-app-fn"


def test_cold_starts_begun_in_the_background_are_awaited_not_repeated_and_failures_resurface(
    runtime: LocalLambdaRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """e2e starts the functions' environments right after deploy (smoke.start_cold_starts): the
    smoke run then finds them warm, and a function that failed to start there fails when invoked,
    with its own error (the background start reports nothing and hides nothing)."""
    from concert_platform.manifest import load_manifest
    from concert_platform.smoke import runtime as smoke

    class Outputs:
        def __init__(self, *_args: Any) -> None:
            pass

        def outputs(self) -> dict[str, dict[str, str]]:
            return {"compute": {"ChatbotFunctionName": "app-fn", "HealthCheckFunctionName": "broken-fn"}}

    monkeypatch.setattr(smoke, "runtime_for", lambda _engine, _cache: runtime)
    monkeypatch.setattr(smoke, "Target", Outputs)
    thread = smoke.start_cold_starts(runtime.engine, load_manifest(), "unit")
    assert thread is not None
    thread.join(timeout=60)
    assert not thread.is_alive()
    started = {f["name"]: f["cold_starts"] for f in runtime.report()["functions"]}
    assert started == {"app-fn": 1, "broken-fn": 1}
    warm = runtime.invoke("app-fn", {})
    assert warm.ok and not warm.cold_start, warm.error_message
    broken = runtime.invoke("broken-fn", {})
    assert broken.error_type == "Runtime.ImportModuleError"


def test_an_engine_that_runs_function_code_gets_no_background_cold_starts() -> None:
    from concert_platform import smoke
    from concert_platform.manifest import load_manifest

    class Remote(MotoEngine):
        runs_function_code = True

    assert smoke.start_cold_starts(Remote(), load_manifest(), "unit") is None  # type: ignore[arg-type]


def test_a_closed_runtime_starts_nothing_and_a_start_finishing_after_close_is_stopped(
    runtime: LocalLambdaRuntime,
) -> None:
    """An interrupted run closes the engine's runtime while background cold starts are in flight:
    nothing new starts, a start that completes afterwards is stopped, not kept."""
    import threading

    started = threading.Event()
    real_start = runtime._start

    def slow_start(*args: Any) -> Any:
        started.set()
        result = real_start(*args)
        runtime.close()  # the engine stops while this start was in flight
        return result

    runtime._start = slow_start  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="closed"):
        runtime.routes("app-fn")
    assert started.is_set() and runtime._workers == {}
    assert not runtime._root.exists()
    with pytest.raises(RuntimeError, match="closed"):
        runtime.invoke("small-fn", {})


def test_a_failed_cold_start_is_recorded_even_when_a_later_one_succeeds(
    runtime: LocalLambdaRuntime,
) -> None:
    outcome = runtime.invoke("broken-fn", {})
    assert outcome.error_type == "Runtime.ImportModuleError"
    stats = {f["name"]: f for f in runtime.report()["functions"]}
    assert stats["broken-fn"]["init_failures"] == [outcome.describe_error()]
    assert runtime.invoke("app-fn", {}).ok
    stats = {f["name"]: f for f in runtime.report()["functions"]}
    assert stats["app-fn"]["init_failures"] == []


FLAKY = """
import os
if not os.path.exists(os.environ["MARKER"]):
    open(os.environ["MARKER"], "w").close()
    raise RuntimeError("the first start fails")

def handler(event, context):
    return "ok"
"""


def test_the_smoke_runtime_check_fails_a_function_whose_first_cold_start_failed(
    runtime: LocalLambdaRuntime, tmp_path: Path
) -> None:
    """The background start and the smoke check each try to start a function; one that fails
    once and then comes up is a flaky init, and the check says so instead of passing."""
    from types import SimpleNamespace

    from concert_platform.manifest import load_manifest
    from concert_platform.smoke.runtime import runtime_check as _runtime_check

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("flaky.py", FLAKY)
    role = boto3.client("iam").get_role(RoleName="fn")["Role"]["Arn"]
    boto3.client("lambda").create_function(
        FunctionName="flaky-fn",
        Runtime="python3.12",
        Role=role,
        Handler="flaky.handler",
        Code={"ZipFile": buffer.getvalue()},
        Environment={"Variables": {"MARKER": str(tmp_path / "started-once")}},
    )
    platform = SimpleNamespace(
        runtime=runtime,
        outputs={"compute": {"ChatbotFunctionName": "flaky-fn"}},
        function_outputs=load_manifest().function_outputs(),
    )
    check = _runtime_check(platform)  # type: ignore[arg-type]
    assert runtime.invoke("flaky-fn", {}).ok  # it does come up on the second start
    assert not check.ok
    assert "flaky-fn failed with" in check.detail and "the first start fails" in check.detail


def test_the_smoke_runtime_check_counts_only_its_own_environments_functions(
    runtime: LocalLambdaRuntime,
) -> None:
    """The runtime is the engine's, shared by every environment deployed to it: another
    environment's failed start does not fail this one's check."""
    from types import SimpleNamespace

    from concert_platform.manifest import load_manifest
    from concert_platform.smoke.runtime import runtime_check as _runtime_check

    assert runtime.invoke("broken-fn", {}).error_type == "Runtime.ImportModuleError"
    platform = SimpleNamespace(
        runtime=runtime,
        outputs={"compute": {"ChatbotFunctionName": "app-fn"}},
        function_outputs=load_manifest().function_outputs(),
    )
    check = _runtime_check(platform)  # type: ignore[arg-type]
    assert check.ok, check.detail


def test_functions_run_on_the_interpreter_their_runtime_names(runtime: LocalLambdaRuntime) -> None:
    from concert_platform.packaging import find_interpreter

    declared, how = find_interpreter("3.12")  # the functions declare python3.12
    outcome = runtime.invoke("app-fn", {})
    assert outcome.ok, outcome.describe_error()
    (reported,) = [f for f in runtime.report()["functions"] if f["name"] == "app-fn"]
    if declared is None:  # a machine without 3.12: this tool's interpreter stands in, and says so
        assert not outcome.result["python"].startswith("3.12.")
        assert reported["substitute_for_declared_runtime"] == how
    else:
        assert outcome.result["python"] == declared.release
        assert reported["interpreter"] == declared.describe()
        assert reported["substitute_for_declared_runtime"] is None
        assert reported["layer_distributions"] == "as built for Lambda"


def test_a_runtime_missing_from_the_machine_is_substituted_and_named(
    runtime: LocalLambdaRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platform

    reason = "no python3.12 on this machine (no pyenv, none on PATH)"
    monkeypatch.setattr(local_invoke, "find_interpreter", lambda version: (None, reason))
    outcome = runtime.invoke("app-fn", {})
    assert outcome.ok, outcome.describe_error()
    assert outcome.result["python"] == platform.python_version()
    (reported,) = [f for f in runtime.report()["functions"] if f["name"] == "app-fn"]
    assert reported["substitute_for_declared_runtime"] == reason
    assert reported["layer_distributions"].startswith("third-party distributions rebuilt for Python 3.")


def test_no_pyenv_and_no_interpreter_on_path_is_said(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from concert_platform.packaging import find_interpreter

    monkeypatch.setenv("PATH", str(tmp_path))
    find_interpreter.cache_clear()
    try:
        assert find_interpreter("3.99") == (None, "no python3.99 on this machine (no pyenv, none on PATH)")
    finally:
        find_interpreter.cache_clear()


def test_an_environment_the_role_may_not_decrypt_fails_the_cold_start(runtime: LocalLambdaRuntime) -> None:
    role = boto3.client("iam").get_role(RoleName="fn")["Role"]["Arn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {"Effect": "Deny", "Principal": {"AWS": role}, "Action": "kms:Decrypt", "Resource": "*"},
        ],
    }
    key = boto3.client("kms").create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
    boto3.client("lambda").create_function(
        FunctionName="sealed-fn",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _package()},
        KMSKeyArn=key,
        Environment={"Variables": {"SECRET": "s"}},
    )
    outcome = runtime.invoke("sealed-fn", {})
    assert outcome.error_type == "KMSAccessDeniedException"
    assert outcome.error_message.startswith(
        "Lambda was unable to decrypt the environment variables because KMS access was denied."
    )
    assert f"kms:Decrypt on {key}" in outcome.error_message
    (reported,) = [f for f in runtime.report()["functions"] if f["name"] == "sealed-fn"]
    assert reported["init_failures"] and reported["cold_starts"] == 0


def test_the_engine_reads_a_functions_configuration_as_lambda_answers_it(runtime: LocalLambdaRuntime) -> None:
    # the embedded engine reads moto's model directly (the runtime asks twice per API request):
    # what the runtime uses must equal GetFunctionConfiguration's answer
    from botocore.exceptions import ClientError

    engine = runtime.engine
    api = boto3.client("lambda")
    boto3.client("lambda").update_function_configuration(
        FunctionName="app-fn", Environment={"Variables": {"A": "1"}}, Layers=[]
    )
    for name in ("app-fn", api.get_function_configuration(FunctionName="app-fn")["FunctionArn"]):
        direct = engine.function_configuration(name)
        answered = api.get_function_configuration(FunctionName=name)
        for key in ("FunctionName", "FunctionArn", "Role", "Handler", "Runtime", "Timeout", "MemorySize",
                    "CodeSha256", "Environment", "Layers"):  # fmt: skip
            assert direct.get(key) == answered.get(key), key
        assert local_invoke._revision(direct) == local_invoke._revision(dict(answered))
        direct["Environment"]["Variables"]["A"] = "changed"  # a copy: the model is untouched
    assert engine.function_configuration("app-fn")["Environment"]["Variables"]["A"] == "1"
    with pytest.raises(ClientError) as missing:  # the API's own error, not moto's exception
        engine.function_configuration("no-such-fn")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    qualified = engine.function_configuration("app-fn:$LATEST")  # through the API
    assert qualified["FunctionName"] == "app-fn"


def test_the_engine_reads_a_functions_resource_policy_as_get_policy_answers_it(
    runtime: LocalLambdaRuntime,
) -> None:
    from concert_platform.engines.base import Engine

    engine = runtime.engine
    assert engine.function_policy("app-fn") is None  # none yet: GetPolicy's ResourceNotFound
    assert Engine.function_policy(engine, "app-fn") is None
    boto3.client("lambda").add_permission(
        FunctionName="app-fn",
        StatementId="api",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn="arn:aws:execute-api:us-east-1:123456789012:abc/*",
    )
    direct = engine.function_policy("app-fn")
    assert direct is not None and direct == Engine.function_policy(engine, "app-fn")
    assert direct["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert engine.function_policy("no-such-fn") is None


def test_a_template_functions_configuration_reads_as_the_api_answers_it(aws: None) -> None:
    # a Timeout given through a String parameter is "30" in moto's model and 30 on the wire; null
    # members are left out on the wire: the engine's direct read answers as the API does
    from concert_platform.engines.base import Engine

    role = boto3.client("iam").create_role(
        RoleName="cfn-fn",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    boto3.client("s3").create_bucket(Bucket="cfn-fn-code")
    boto3.client("s3").put_object(Bucket="cfn-fn-code", Key="fn.zip", Body=_package())
    template = {
        "Parameters": {"T": {"Type": "String", "Default": "30"}},
        "Resources": {
            "F": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "cfn-fn",
                    "Runtime": "python3.12",
                    "Handler": "app.handler",
                    "Role": role,
                    "Code": {"S3Bucket": "cfn-fn-code", "S3Key": "fn.zip"},
                    "Timeout": {"Ref": "T"},
                    "MemorySize": 256,
                },
            }
        },
    }
    boto3.client("cloudformation").create_stack(StackName="cfn-fn", TemplateBody=json.dumps(template))
    engine = MotoEngine()
    direct = engine.function_configuration("cfn-fn")
    answered = Engine.function_configuration(engine, "cfn-fn")
    answered.pop("ResponseMetadata", None)
    assert direct["Timeout"] == answered["Timeout"] == 30
    assert {k for k, v in direct.items() if v is None} == set()
    assert local_invoke._revision(direct) == local_invoke._revision(answered)
