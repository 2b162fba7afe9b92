"""CP010: Every log group has a retention period"""

from __future__ import annotations

from concert_platform.policy.model import PropertyCheck


class LogGroupRetention(PropertyCheck):
    id = "CP010"
    practice = "Every log group has a retention period"
    source = "Cost Optimization (shorter log retention); Tracing & Logging stack"
    resource_type = "AWS::Logs::LogGroup"
    path = ("RetentionInDays",)
    message = "no RetentionInDays{where}: logs would be kept forever"
