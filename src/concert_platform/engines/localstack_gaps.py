"""Known gaps of community LocalStack 4.13.1 (with this project's extension): declared properties
its shipped CloudFormation providers or services accept and do not apply, per resource type.

Each entry was seen in an e2e run on LocalStack (docs/localstack.md, "Known LocalStack gaps"):
the stack completes, and the service then answers without the property, or with its own default.
A resource whose every mismatch is listed here is reported as a 'known engine gap' (not verified,
not a failure) and the run says it is not a full verification; any other mismatch still fails.
The engine uses this list only when LocalStack serves this project's extension
(`/_concert/health`). A fix in the extension removes its entry here.
"""

from __future__ import annotations

# Empty since the extension answers a declared VPC endpoint policy as declared (its Version kept):
# the last entry, AWS::EC2::VPCEndpoint PolicyDocument, is fixed in
# localstack-ext/concert_localstack_ext/cfn/shipped_fixes.py (`_patch_vpc_endpoint_policy`).
# The list stays for the next LocalStack upgrade: a gap seen there is listed here with its reason.
KNOWN_LOCALSTACK_GAPS: dict[str, dict[str, str]] = {}
