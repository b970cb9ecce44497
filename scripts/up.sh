#!/usr/bin/env bash
# npm run up [-- <pulumi up flags>]: brings the stack up on the local Docker host. On a fresh machine it
# creates the dev stack (local state, passphrase secrets: no Pulumi Cloud account, no prompt), checks that
# Docker answers with a supported API, then runs `pulumi up` without asking for confirmation.
# WATCHTOWER_STACK=<name> works on another stack.
set -euo pipefail
# shellcheck source=scripts/pulumi-stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/pulumi-stack.sh"

pulumi stack select "$WATCHTOWER_STACK" --create --secrets-provider passphrase
# The same check the program makes before its first resource, before Pulumi loads plugins and images.
WATCHTOWER_DOCKER_HOST="$(pulumi config get docker:host --stack "$WATCHTOWER_STACK" 2>/dev/null || true)" \
  "$watchtower_root/node_modules/.bin/tsx" "$watchtower_root/infra/docker-preflight.ts"
# Pulumi's Node.js runtime type-checks the program on every run, most of the program's own time after an edit;
# `npm run typecheck` and CI check it already (docs/performance.md, "A no-op pulumi up"). No preview first:
# --yes applies what it shows anyway, and a preview runs the whole program once more.
PULUMI_NODEJS_TRANSPILE_ONLY=true pulumi up --stack "$WATCHTOWER_STACK" --yes --skip-preview "$@"
