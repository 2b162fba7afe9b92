"""The example of docs/pytest-plugin.md, as a user writes it (a test holds the two equal:
tests/unit/test_plugin_doc.py). It needs nothing but the installed package: the
`concert_deployment` fixture comes from its pytest plugin."""

import json

import pytest

pytestmark = pytest.mark.integration  # this repository's integration layer; your tests need no mark


def test_the_api_answers_with_its_key(concert_deployment):
    response = concert_deployment.call_api("GET", "/health")
    assert response.status == 200
    assert response.body["status"] == "healthy"
    assert response.headers["access-control-allow-origin"] == "*"


def test_the_api_refuses_a_call_without_its_key(concert_deployment):
    assert concert_deployment.call_api("GET", "/health", with_key=False).status == 403


def test_a_post_with_a_json_body(concert_deployment):
    response = concert_deployment.call_api("POST", "/chat", {"message": "Which venues are popular?"})
    assert response.status == 200
    assert response.body["session_id"]


def test_outputs_and_clients(concert_deployment):
    bucket = concert_deployment.output("storage", "RawDataBucketName")
    s3 = concert_deployment.client("s3")
    s3.put_object(Bucket=bucket, Key="raw/example.json", Body=b"{}")
    assert s3.head_object(Bucket=bucket, Key="raw/example.json")["ContentLength"] == 2


def test_invoke_a_function_directly(concert_deployment):
    lambda_client = concert_deployment.client("lambda")
    response = lambda_client.invoke(
        FunctionName=concert_deployment.output("chatbot", "ChatbotMaintenanceFunctionName"),
        Payload=json.dumps({"source": "aws.events"}).encode(),
    )
    assert response["StatusCode"] == 200 and "FunctionError" not in response
