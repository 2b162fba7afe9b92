"""Service providers for LocalStack's `localstack.aws.provider` plugin group.

Community LocalStack 4.13.1 has no provider at all for CloudTrail, Glue, X-Ray, Application Auto
Scaling, Redshift Serverless and the Redshift Data API, and its DynamoDB and Kinesis providers
start helper servers (DynamoDB Local on a downloaded JDK, kinesis-mock from npm or a GitHub
release) that cannot be fetched offline. Each provider here answers every operation of the
service's API through a moto backend, found by the same routing LocalStack's own moto-backed
providers use (`localstack.services.moto.call_moto`):

- moto as LocalStack bundles it: cloudtrail, glue, application-autoscaling, xray (plus the
  X-Ray groups and sampling rules this project adds to moto), dynamodb and kinesis;
- this project's own backends (`concert_platform.engines.moto_ext`, installed into LocalStack's
  environment without dependencies): Redshift Serverless and the Redshift Data API on DuckDB.
"""
