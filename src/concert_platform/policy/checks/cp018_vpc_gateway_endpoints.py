"""CP018: A VPC has an S3 gateway endpoint so data stays off the internet"""

from __future__ import annotations

from collections.abc import Iterator

from concert_platform.policy.cfn import text
from concert_platform.policy.model import Check, Template


class VpcGatewayEndpoints(Check):
    id = "CP018"
    practice = "A VPC has an S3 gateway endpoint so data stays off the internet"
    source = "Security Best Practices 7 (Use VPC Endpoints)"

    def scan(self, templates: list[Template]) -> Iterator[tuple[Template, str, str]]:
        for template in templates:
            vpcs = [lid for lid, _ in template.resources("AWS::EC2::VPC")]
            endpoints = [
                r
                for _, r in template.resources("AWS::EC2::VPCEndpoint")
                if ".s3" in text(template.properties(r).get("ServiceName"))
            ]
            for lid in vpcs:
                if not endpoints:
                    yield template, lid, "no S3 gateway VPC endpoint"
