#!/usr/bin/env bash
# npm run pulumi -- <pulumi arguments>: any Pulumi command on the stack, from the project root and with the
# stack's passphrase, e.g. `npm run pulumi -- stack output grafanaAdminPassword --show-secrets`.
set -euo pipefail
# shellcheck source=scripts/pulumi-stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/pulumi-stack.sh"

exec pulumi "$@"
