#!/usr/bin/env bash
# npm run destroy [-- <pulumi destroy flags>]: removes the stack's containers and network, and its volumes
# unless `data.keepOnDestroy` is true. Images stay in Docker's cache for the next `npm run up`, and so do the
# stack and its settings. WATCHTOWER_STACK=<name> works on another stack.
set -euo pipefail
# shellcheck source=scripts/pulumi-stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/pulumi-stack.sh"

pulumi destroy --stack "$WATCHTOWER_STACK" --yes "$@"
