"""A second `destroy` finishes what the first could not (issue 20, item 4).

Before: after a failed deletion (DependencyViolation) the stacks were gone, and `destroy` again
printed "destroyed: 0 of 0 recorded resources confirmed gone", exit 0, with the VPC, gateway and
its attachment still present. Now the unclean teardown's record is read back, each resource
is removed through its service and asked for again, and the record goes only when all are gone.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from concert_platform.cli import main
from concert_platform.engines.aws import AwsEngine
from concert_platform.leftovers import load_recorded, save_recorded, state_path
from concert_platform.teardown import Recorded

ENVIRONMENT = "qa9"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONCERT_PLATFORM_STATE_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    return tmp_path


def _left_by_a_failed_deletion() -> tuple[list[Recorded], str]:
    """A VPC with its internet gateway attached, as a DependencyViolation leaves them."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    stack = f"concert-platform-networking-{ENVIRONMENT}"
    recorded = [
        Recorded("networking", stack, "VPC", "AWS::EC2::VPC", vpc),
        Recorded("networking", stack, "InternetGateway", "AWS::EC2::InternetGateway", gateway),
        Recorded(
            "networking",
            stack,
            "AttachGateway",
            "AWS::EC2::VPCGatewayAttachment",
            f"IGW|{vpc}",
            properties={"InternetGatewayId": gateway, "VpcId": vpc},
        ),
    ]
    return recorded, vpc


def test_a_second_destroy_removes_what_the_first_left_and_proves_it(
    aws: None, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded, vpc = _left_by_a_failed_deletion()
    engine = AwsEngine("us-east-1")
    written = save_recorded(engine, ENVIRONMENT, recorded)
    assert written is not None and written.is_file()

    code = main(["destroy", "--engine", "aws", "--environment", ENVIRONMENT, "--yes", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "3 of 3 recorded resources confirmed gone" in captured.err
    assert "3 of them left by an earlier teardown" in captured.err
    assert json.loads(captured.out)["removed_directly"] == 3
    assert boto3.client("ec2").describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Vpcs"] == []
    assert not state_path(engine, ENVIRONMENT).exists()


def test_what_still_cannot_be_removed_fails_and_stays_recorded(
    aws: None, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded, _vpc = _left_by_a_failed_deletion()
    # no remover knows this type: it can be asked for but not removed
    recorded.append(Recorded("networking", "s", "Odd", "AWS::Example::Unknown", "odd-1"))
    engine = AwsEngine("us-east-1")
    save_recorded(engine, ENVIRONMENT, recorded)

    code = main(["destroy", "--engine", "aws", "--environment", ENVIRONMENT, "--yes"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Odd" in err and "AWS::Example::Unknown" in err
    assert "run destroy again" in err
    assert [item.logical_id for item in load_recorded(engine, ENVIRONMENT)] == ["Odd"]


def test_the_embedded_engine_keeps_no_record(state: Path) -> None:
    from concert_platform.engines.embedded import EmbeddedEngine

    engine = EmbeddedEngine("us-east-1")
    assert save_recorded(engine, ENVIRONMENT, [Recorded("a", "b", "C", "T", "p")]) is None
    assert not list(state.iterdir())


def test_something_named_for_the_environment_that_no_record_holds_fails_the_destroy(
    aws: None, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("sqs").create_queue(QueueName=f"concert-chatbot-jobs-dlq-{ENVIRONMENT}")
    boto3.client("sqs").create_queue(
        QueueName=f"concert-chatbot-jobs-dlq-{ENVIRONMENT}0"
    )  # another environment's
    code = main(["destroy", "--engine", "aws", "--environment", ENVIRONMENT, "--yes"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"queue: concert-chatbot-jobs-dlq-{ENVIRONMENT} (named for {ENVIRONMENT}" in err
    assert f"concert-chatbot-jobs-dlq-{ENVIRONMENT}0" not in err


@pytest.mark.parametrize(
    ("field", "theirs"),
    [
        ("account", "999999999999"),
        ("region", "eu-west-1"),
        ("environment", "prod"),
        ("endpoint_url", "http://x:1"),
    ],
)
def test_a_record_written_for_another_target_is_refused_and_nothing_is_removed(
    aws: None, state: Path, capsys: pytest.CaptureFixture[str], field: str, theirs: str
) -> None:
    """A file copied from another checkout, or left by a run in another account with the same
    environment name, names its target: destroy refuses it instead of deleting by its ids here."""
    recorded, vpc = _left_by_a_failed_deletion()
    engine = AwsEngine("us-east-1")
    written = save_recorded(engine, ENVIRONMENT, recorded)
    assert written is not None
    body = json.loads(written.read_text())
    assert body["account"] == "123456789012"
    body[field] = theirs
    written.write_text(json.dumps(body))

    code = main(["destroy", "--engine", "aws", "--environment", ENVIRONMENT, "--yes"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"was written for another target: {field} {theirs!r}" in err
    assert "Nothing was removed" in err and "Traceback" not in err
    assert boto3.client("ec2").describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Vpcs"]
    assert written.exists()


def test_a_record_left_in_one_account_is_never_read_in_another(
    aws: None, state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Staging's leftovers, then a destroy with production's credentials and the same environment
    name: production's run neither reads nor removes by staging's ids; staging's record stays."""
    recorded, vpc = _left_by_a_failed_deletion()
    engine = AwsEngine("us-east-1")
    staging = save_recorded(engine, ENVIRONMENT, recorded)
    assert staging is not None
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "210987654321")
    assert load_recorded(engine, ENVIRONMENT) == []
    code = main(["destroy", "--engine", "aws", "--environment", ENVIRONMENT, "--yes"])
    assert code == 0, capsys.readouterr().err
    assert "left by an earlier teardown" not in capsys.readouterr().err
    assert staging.exists()
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    assert boto3.client("ec2").describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Vpcs"]
    assert len(load_recorded(engine, ENVIRONMENT)) == 3
