#!/usr/bin/env bash
# npm run pulumi -- <pulumi arguments>: any Pulumi command on the stack (WATCHTOWER_STACK, default dev), from
# the project root and with the stack's passphrase, e.g. `npm run pulumi -- stack output grafanaAdminPassword
# --show-secrets`. The stack is selected (and created on a fresh clone) first, so `config set` works before the
# first `npm run up` and the command never lands on another stack that happens to be selected.
set -euo pipefail
# shellcheck source=scripts/pulumi-stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/pulumi-stack.sh"

pulumi stack select "$WATCHTOWER_STACK" --create --secrets-provider passphrase
exec pulumi "$@"
