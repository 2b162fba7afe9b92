"""Concert Data Platform: deploy, verify and police the platform's six CloudFormation stacks."""

__version__ = "0.1.0"
