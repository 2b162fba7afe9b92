"""CP020: Every S3 bucket is versioned so data survives overwrites and deletes"""

from __future__ import annotations

from concert_platform.policy.model import PropertyCheck


class BucketVersioning(PropertyCheck):
    id = "CP020"
    practice = "Every S3 bucket is versioned so data survives overwrites and deletes"
    source = "Security Best Practices 4 (MFA Delete needs versioning); Stack Deletion"
    resource_type = "AWS::S3::Bucket"
    path = ("VersioningConfiguration", "Status")
    expected = "Enabled"
    message = "versioning is not Enabled{where}"
