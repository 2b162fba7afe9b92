#!/usr/bin/env bash
# The deployment guide's entry point, kept as a thin wrapper over `concert-platform deploy`.
#   ./deploy_cloudformation_stacks.sh ENVIRONMENT REGION [extra concert-platform deploy flags]
# Prompts (on a terminal) for what the guide's script asked: Redshift password, alert email,
# Bedrock agent and alias ids. Engine: $CONCERT_ENGINE (default aws, as the guide deploys to AWS).
set -euo pipefail
if [ "$#" -lt 2 ]; then
  echo "usage: $0 ENVIRONMENT REGION [concert-platform deploy flags...]" >&2
  echo "example: $0 development us-east-1" >&2
  exit 2
fi
environment="$1"; region="$2"; shift 2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool="$(command -v concert-platform || true)"
if [ -z "$tool" ] && [ -x "$here/../.venv/bin/concert-platform" ]; then
  tool="$here/../.venv/bin/concert-platform"
fi
if [ -z "$tool" ]; then
  echo "concert-platform is not installed: run 'make e2e' once (it creates .venv) or 'pip install -e .'" >&2
  exit 2
fi
exec "$tool" deploy --engine "${CONCERT_ENGINE:-aws}" --environment "$environment" --region "$region" "$@"
