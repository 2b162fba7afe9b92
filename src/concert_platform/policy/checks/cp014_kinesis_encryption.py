"""CP014: Every Kinesis stream is encrypted with KMS"""

from __future__ import annotations

from concert_platform.policy.model import PropertyCheck


class KinesisEncryption(PropertyCheck):
    id = "CP014"
    practice = "Every Kinesis stream is encrypted with KMS"
    source = "Security Best Practices 2 (Enable Encryption)"
    resource_type = "AWS::Kinesis::Stream"
    path = ("StreamEncryption", "EncryptionType")
    expected = "KMS"
    message = "no KMS StreamEncryption{where}"
