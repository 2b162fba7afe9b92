"""A LocalStack Lambda runtime executor that runs functions without Docker.

LocalStack runs each execution environment of a function through a runtime executor chosen by
LAMBDA_RUNTIME_EXECUTOR from the plugin group `localstack.lambda.runtime_executor`; the only one
it ships (`docker`) starts a container with an init binary downloaded from GitHub at function
creation, so without Docker and the network every function ends in state Failed.

`concert` (LAMBDA_RUNTIME_EXECUTOR=concert) runs each execution environment as this project's
isolated worker (concert_platform.lambda_worker, the embedded engine's: `python -I -S`, one
process per environment, JSON lines over pipes) with the code and layers LocalStack stores for
the function version, the environment LocalStack computes for it (its variables, credentials of
the execution role, AWS_ENDPOINT_URL pointing at LocalStack), and its Timeout enforced.
"""
