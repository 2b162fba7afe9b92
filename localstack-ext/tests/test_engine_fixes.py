"""The fixes to LocalStack's own code that are not resource providers: the missing export, the
failed integration's header and the alarm evaluation route (LocalStack's interpreter; no
LocalStack needs to run)."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest.importorskip("localstack", reason="LocalStack is not installed in this interpreter")


def test_a_lambda_error_payload_names_the_function_and_its_error() -> None:
    from concert_localstack_ext.apigateway_responses import describe_function_failure

    arn = "arn:aws:lambda:us-east-1:000000000000:function:concert-api-health-check-dev"
    payload = b'{"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 2.00 seconds"}'
    assert describe_function_failure(arn, payload) == (
        "concert-api-health-check-dev failed with Sandbox.Timedout: Task timed out after 2.00 seconds"
    )
    multiline = b'{"errorMessage": "line one\\nline two \\u2013 ' + b"x" * 600 + b'"}'
    described = describe_function_failure(arn, multiline) or ""
    assert (
        "\n" not in described
        and len(described) == 500
        and "failed with Unhandled: line one line two" in described
    )
    described.encode("latin-1")  # a header value
    assert describe_function_failure(arn, b'{"statusCode": 200}') is None  # a malformed proxy answer
    assert describe_function_failure(arn, b"not json") is None


def test_the_patches_are_registered_and_apply_once() -> None:
    from concert_localstack_ext.apigateway_responses import patch_proxy_integration_failures
    from concert_localstack_ext.cfn.import_value import patch_import_value

    hooks = {e.name for e in entry_points(group="localstack.hooks.on_infra_start")}
    assert {"concert_missing_export", "concert_alarm_evaluation_route", "concert_gateway_responses"} <= hooks
    assert patch_import_value() and not patch_import_value()
    assert patch_proxy_integration_failures() and not patch_proxy_integration_failures()
    from concert_localstack_ext.health import health_document

    document = health_document()
    assert "names_failed_functions" in document["capabilities"] and document["alarm_evaluation"] is True


def test_single_and_multi_value_headers_merge_as_api_gateway_documents() -> None:
    from concert_localstack_ext.apigateway_responses import merge_lambda_response_headers

    both = {
        "headers": {"Access-Control-Allow-Origin": "*", "X-Correlation-Id": "c1"},
        "multiValueHeaders": {"access-control-allow-origin": ["*"], "Set-Cookie": ["a=1", "b=2"]},
    }
    assert merge_lambda_response_headers(both) == {
        "X-Correlation-Id": "c1",
        "access-control-allow-origin": ["*"],  # the same pair in both: the multi-value list only
        "Set-Cookie": ["a=1", "b=2"],
    }
    differing = {"headers": {"Vary": "Origin"}, "multiValueHeaders": {"Vary": ["Accept"]}}
    assert merge_lambda_response_headers(differing) == {"Vary": ["Accept", "Origin"]}
    assert merge_lambda_response_headers({"headers": {"A": "1"}}) == {"A": "1"}
