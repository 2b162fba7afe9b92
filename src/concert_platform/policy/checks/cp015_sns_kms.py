"""CP015: Every SNS topic is encrypted with KMS"""

from __future__ import annotations

from concert_platform.policy.model import PropertyCheck


class SnsKms(PropertyCheck):
    id = "CP015"
    practice = "Every SNS topic is encrypted with KMS"
    source = "Security Best Practices 2 (Enable Encryption)"
    resource_type = "AWS::SNS::Topic"
    path = ("KmsMasterKeyId",)
    message = "no KmsMasterKeyId{where}"
