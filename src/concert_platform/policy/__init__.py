"""The policy layer: cfn-lint, checkov and the platform's own checks over CloudFormation templates."""
