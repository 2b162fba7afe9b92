"""CloudFormation resource providers community LocalStack lacks (one module per AWS service).

Each module holds the providers of one service; ``plugins`` holds the thin plugin classes that
LocalStack's plux finds through the entry-point group ``localstack.cloudformation.resource_providers``
(declared in this distribution's pyproject.toml) and that import a provider only when loaded.
"""
