"""The Concert Data Platform's extension to community LocalStack (see docs/localstack.md)."""
