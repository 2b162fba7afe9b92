"""CP013: Every Lambda function has X-Ray active tracing"""

from __future__ import annotations

from concert_platform.policy.model import PropertyCheck


class LambdaActiveTracing(PropertyCheck):
    id = "CP013"
    practice = "Every Lambda function has X-Ray active tracing"
    source = "Post-Deployment Steps 5 (Enable X-Ray Tracing)"
    resource_type = "AWS::Lambda::Function"
    path = ("TracingConfig", "Mode")
    expected = "Active"
    message = "TracingConfig Mode is not Active{where}"
