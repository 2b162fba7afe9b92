"""Redshift Serverless for moto, which has no backend for it: the smallest honest one.

Namespaces and workgroups can be created, read, listed, updated and deleted through the real
`redshift-serverless` API (JSON 1.1, target prefix `RedshiftServerless.`) and through
CloudFormation. Nothing runs queries (moto's `redshift-data` answers those), and the admin
password is accepted but never stored or returned. Laid out like a moto service package
(models, responses, urls) so it can be offered upstream.
"""

from concert_platform.engines.moto_ext.redshift_serverless.models import redshiftserverless_backends

__all__ = ["redshiftserverless_backends"]
